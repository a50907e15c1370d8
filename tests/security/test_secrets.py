"""A secret a user asked to redact is nowhere: not in the database, a page, an export or the API.

The manifest (tests/fixtures/secrets/every-form.yaml) carries every form of secret redaction
knows, each value marked ``LEAK`` and a number (two base64 ones: ``TEVBSzAx``, ``TEVBSzAy``). It
is saved with redaction on through the HTML form, the API and the import page; then every text
and JSON column of every model in the database, and every page a reader can open about the
review (detail, edit, history with its diff and comparison, re-analysis, both exports, the API's
answers) are searched for each secret value. A review first saved without redaction, then
revised with redaction on, is covered too: its earlier revision is hidden on every page at
once, and redacted or purged in the database when the author accepts the offer.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db import models
from django.test import Client
from django.urls import reverse

from tests.conftest import ROOT
from webui.models import ApiToken, Review, Revision

pytestmark = pytest.mark.django_db

MANIFEST = (ROOT / "tests/fixtures/secrets/every-form.yaml").read_text()
SECRETS = [*sorted(set(re.findall(r"LEAK\d\d", MANIFEST))), "TEVBSzAx", "TEVBSzAy"]


@pytest.fixture
def author() -> User:
    return User.objects.create_user("ada", password="pw-ada-123456")


@pytest.fixture
def client(author: User) -> Client:
    client = Client()
    client.force_login(author)
    return client


def bearer(user: User) -> dict[str, str]:
    _, token = ApiToken.issue(user, "secrets suite")
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def leaked(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def database() -> str:
    """Every text and JSON column of every row of every model, as one string."""
    dumped = []
    for model in apps.get_models():
        columns = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
        ]
        if columns:
            rows = model.objects.values_list(*columns)
            dumped.append(json.dumps([list(row) for row in rows], default=str))
    return "\n".join(dumped)


def pages(client: Client, review: Review, headers: dict[str, str]) -> dict[str, str]:
    """Every page, export and API answer about ``review``, by name."""
    slug = review.slug
    numbers = list(review.revisions.order_by("number").values_list("number", flat=True))
    urls = {
        "detail": reverse("review", args=[slug]),
        "edit": reverse("review-edit", args=[slug]),
        "history": reverse("review-history", args=[slug]),
        "reanalyse": reverse("review-reanalyse", args=[slug]),
        "export.md": reverse("review-export-md", args=[slug]),
        "export.json": reverse("review-export-json", args=[slug]),
        "secrets": reverse("review-secrets", args=[slug]),
        "list": reverse("reviews"),
    }
    for a in numbers:
        for b in numbers:
            urls[f"history r{a}..r{b}"] = f"{urls['history']}?a={a}&b={b}"
    shown = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, name
        shown[name] = response.content.decode()
    shown["history (htmx)"] = client.get(urls["history"], HTTP_HX_REQUEST="true").content.decode()
    for name, url in {
        "api read": f"/api/v1/reviews/{slug}",
        "api list": "/api/v1/reviews",
        "api comments": f"/api/v1/reviews/{slug}/comments",
    }.items():
        response = client.get(url, **headers)
        assert response.status_code == 200, name
        shown[name] = response.content.decode()
    return shown


def assert_nowhere(client: Client, review: Review, headers: dict[str, str]) -> None:
    assert leaked(database()) == []
    for name, text in pages(client, review, headers).items():
        assert leaked(text) == [], f"secrets shown on {name}"


def test_the_manifest_carries_every_secret_form() -> None:
    assert len(SECRETS) == 27
    assert all(secret in MANIFEST for secret in SECRETS)


def test_a_review_saved_from_the_form_keeps_no_secret(client: Client, author: User) -> None:
    data = {
        "kind": "manifest",
        "title": "Every secret",
        "manifest": MANIFEST,
        "kubernetes_version": "1.37",
        "redact_secrets": "on",
    }
    assert client.post(reverse("review-save"), data).status_code == 302
    review = Review.objects.get()
    assert len(review.redactions) >= 24
    assert_nowhere(client, review, bearer(author))


def test_a_review_created_through_the_api_keeps_no_secret(client: Client, author: User) -> None:
    headers = bearer(author)
    body = {"title": "Every secret", "manifest": MANIFEST, "redact_secrets": True}
    response = client.post(
        "/api/v1/reviews", json.dumps(body), content_type="application/json", **headers
    )
    assert response.status_code == 201
    assert leaked(response.content.decode()) == []
    assert_nowhere(client, Review.objects.get(), headers)


def test_an_imported_review_keeps_no_secret(client: Client, author: User) -> None:
    document = {
        "format": "pod-pattern-advisor/review",
        "format_version": 1,
        "title": "Every secret",
        "kind": "manifest",
        "manifest": MANIFEST,
        "kubernetes_version": "1.37",
    }
    response = client.post(reverse("review-import"), {"document": json.dumps(document)})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert_nowhere(client, Review.objects.get(), bearer(author))


def revised_with_redaction(client: Client, author: User) -> Review:
    """A review stored as pasted, then revised by its author with redaction on."""
    data = {
        "kind": "manifest",
        "title": "Kept, then redacted",
        "manifest": MANIFEST,
        "kubernetes_version": "1.37",
    }
    assert client.post(reverse("review-save"), data).status_code == 302
    review = Review.objects.get()
    assert review.redact_secrets is False and leaked(review.manifest) == SECRETS
    edit = {
        "title": review.title,
        "manifest": MANIFEST.replace("image: redis:7", "image: redis:7.2"),
        "kubernetes_version": "1.37",
        "redact_secrets": "on",
        "version": review.version,
        "note": "redact from now on",
    }
    response = client.post(reverse("review-edit", args=[review.slug]), edit)
    # The author is offered to redact or purge the revision stored before.
    assert response.status_code == 302
    assert response["Location"] == reverse("review-secrets", args=[review.slug])
    offer = client.get(response["Location"]).content.decode()
    assert "Redact earlier revisions" in offer and "Purge earlier revisions" in offer
    assert "r1" in offer
    return Review.objects.get()


def test_an_earlier_revision_is_hidden_at_once_and_redacted_on_request(
    client: Client, author: User
) -> None:
    review = revised_with_redaction(client, author)
    headers = bearer(author)
    for name, text in pages(client, review, headers).items():
        assert leaked(text) == [], f"secrets shown on {name}"
    assert "still hold" in client.get(review.get_absolute_url()).content.decode()
    assert leaked(Revision.objects.get(number=1).manifest) == SECRETS  # not yet rewritten
    response = client.post(reverse("review-secrets", args=[review.slug]), {"action": "redact"})
    assert response.status_code == 302
    assert review.revisions.count() == 2
    assert_nowhere(client, review, headers)
    assert "still hold" not in client.get(review.get_absolute_url()).content.decode()


def test_an_earlier_revision_is_purged_on_request(client: Client, author: User) -> None:
    review = revised_with_redaction(client, author)
    response = client.post(reverse("review-secrets", args=[review.slug]), {"action": "purge"})
    assert response.status_code == 302
    assert list(review.revisions.values_list("number", flat=True)) == [2]
    assert_nowhere(client, review, bearer(author))


@pytest.mark.parametrize("action", ["redact", "purge"])
def test_a_review_turned_to_redaction_through_the_api_shows_no_secret(
    client: Client, author: User, action: str
) -> None:
    headers = bearer(author)
    body: dict[str, Any] = {"title": "Kept", "manifest": MANIFEST, "redact_secrets": False}
    created = client.post(
        "/api/v1/reviews", json.dumps(body), content_type="application/json", **headers
    ).json()
    assert leaked(created["manifest"]) == SECRETS
    patch = {"version": created["version"], "redact_secrets": True}
    response = client.patch(
        f"/api/v1/reviews/{created['slug']}",
        json.dumps(patch),
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 200 and leaked(response.content.decode()) == []
    assert response.json()["unredacted_revisions"] == [1]
    review = Review.objects.get()
    for name, text in pages(client, review, headers).items():
        assert leaked(text) == [], f"secrets shown on {name}"
    patch = {"version": response.json()["version"], "earlier_revisions": action}
    response = client.patch(
        f"/api/v1/reviews/{review.slug}",
        json.dumps(patch),
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 200
    assert response.json()["unredacted_revisions"] == []
    assert len(response.json()["revisions"]) == (1 if action == "purge" else 2)
    assert_nowhere(client, review, headers)


def test_only_the_author_may_redact_or_purge(client: Client, author: User) -> None:
    review = revised_with_redaction(client, author)
    other = Client()
    other.force_login(User.objects.create_user("bob", password="pw-bob-123456"))
    url = reverse("review-secrets", args=[review.slug])
    assert other.post(url, {"action": "purge"}).status_code == 403
    assert review.revisions.count() == 2
    assert client.post(url, {"action": "shred"}).status_code == 400
