"""Private answers: ``Cache-Control: private, no-store`` on logged-in pages and every API answer,
and ``POST /api/v1/analyze`` not callable cross-site with a logged-in session (token and
anonymous calls unchanged)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.urls import reverse

from webui import services
from webui.models import ApiToken, Review

pytestmark = pytest.mark.django_db

API = "/api/v1"
MANIFEST = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n"
    "spec: {containers: [{name: app, image: nginx}]}\n"
)
SECRET = _get_new_csrf_string()


@pytest.fixture
def author() -> User:
    return User.objects.create_user("author", password="correct horse battery")


@pytest.fixture
def review(author: User) -> Review:
    prepared = services.prepare(kind="manifest", manifest=MANIFEST, kubernetes_version="1.37")
    return services.create_review(author=author, title="Web", prepared=prepared)


def logged_in(user: User, **kwargs: object) -> Client:
    client = Client(**kwargs)  # type: ignore[arg-type]
    client.force_login(user)
    return client


def test_logged_in_pages_are_private_and_never_stored(author: User, review: Review) -> None:
    client = logged_in(author)
    for url in (
        reverse("analyze"),
        reverse("reviews"),
        review.get_absolute_url(),
        reverse("review-history", args=[review.slug]),
        reverse("review-export-json", args=[review.slug]),
        reverse("password_change"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "private, no-store", url


def test_every_api_answer_is_private(author: User, review: Review) -> None:
    _, token = ApiToken.issue(author, "t")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client = Client()
    answers = [
        client.get(f"{API}/reviews", **bearer),
        client.get(f"{API}/reviews/{review.slug}", **bearer),
        client.get(f"{API}/reviews"),  # 401
        client.get(f"{API}/reviews/no-such-review", **bearer),  # 404
        client.post(f"{API}/analyze", MANIFEST, content_type="application/yaml"),
    ]
    assert [r.status_code for r in answers] == [200, 200, 401, 404, 200]
    for response in answers:
        assert response["Cache-Control"] == "private, no-store", response.status_code


def test_anonymous_pages_stay_cacheable_as_before() -> None:
    response = Client().get(reverse("rules"))
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_a_logged_in_session_cannot_analyse_through_the_api_cross_site(author: User) -> None:
    """A page on another site posting to /api/v1/analyze with the user's cookie is refused;
    the same request from our own pages (with the token) or with an API token is not."""
    client = logged_in(author, enforce_csrf_checks=True)
    client.cookies["csrftoken"] = SECRET
    forged = client.post(f"{API}/analyze", MANIFEST, content_type="application/yaml")
    assert forged.status_code == 403
    assert forged["Content-Type"].startswith("application/json")
    assert "CSRF" in forged.json()["detail"]
    same_site = client.post(
        f"{API}/analyze", MANIFEST, content_type="application/yaml", HTTP_X_CSRFTOKEN=SECRET
    )
    assert same_site.status_code == 200 and same_site.json()["summary"]["workloads"] == 1
    _, token = ApiToken.issue(author, "ci")
    scripted = client.post(
        f"{API}/analyze",
        MANIFEST,
        content_type="application/yaml",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert scripted.status_code == 200
    anonymous = Client(enforce_csrf_checks=True).post(
        f"{API}/analyze", MANIFEST, content_type="application/yaml"
    )
    assert anonymous.status_code == 200


def test_over_https_another_origin_is_refused_even_with_the_token(settings, author: User) -> None:
    settings.ALLOWED_HOSTS = ["advisor.example.com"]
    client = logged_in(author, enforce_csrf_checks=True)
    client.cookies["csrftoken"] = SECRET
    common = {
        "content_type": "application/yaml",
        "HTTP_X_CSRFTOKEN": SECRET,
        "secure": True,
        "HTTP_HOST": "advisor.example.com",
    }
    evil = client.post(f"{API}/analyze", MANIFEST, HTTP_ORIGIN="https://evil.example", **common)
    assert evil.status_code == 403
    ours = client.post(
        f"{API}/analyze", MANIFEST, HTTP_ORIGIN="https://advisor.example.com", **common
    )
    assert ours.status_code == 200
