"""Saved reviews on the web: save, read, revise with conflicts, discuss, compare, redact."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.conftest import CORPUS
from webui import services
from webui.models import Comment, Review, ReviewRule, Revision

pytestmark = pytest.mark.django_db

LEGACY_JOB = (
    CORPUS / "kubernetes__website__content__en__examples__application__job__job-sidecar-legacy.yaml"
).read_text()
NATIVE_JOB = (
    CORPUS / "kubernetes__website__content__en__examples__application__job__job-sidecar.yaml"
).read_text()
SECRET = (
    "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: hunter2-secret\n"
    "---\n" + LEGACY_JOB
)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def author() -> User:
    return User.objects.create_user("ada", password="pw-ada-123456")


@pytest.fixture
def other() -> User:
    return User.objects.create_user("bob", password="pw-bob-123456")


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def make_review(user: User, text: str = LEGACY_JOB, **kwargs) -> Review:
    prepared = services.prepare(kind="manifest", manifest=text, kubernetes_version="1.37")
    return services.create_review(author=user, title="Job review", prepared=prepared, **kwargs)


def save_data(text: str = LEGACY_JOB, **extra: str) -> dict[str, str]:
    return {
        "kind": "manifest",
        "title": "Nightly job",
        "tags": "batch team-a",
        "manifest": text,
        "kubernetes_version": "1.37",
        "api_defaults": "on",
        "redact_secrets": "on",
        **extra,
    }


def test_it_saves_an_analysis_without_a_page_reload(author: User) -> None:
    response = client_for(author).post(reverse("review-save"), save_data(), **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    review = Review.objects.get()
    assert review.get_absolute_url() in body and "<html" not in body
    assert review.revisions.count() == 1
    assert "classic-sidecar-blocks-job" in review.rule_ids
    assert set(ReviewRule.objects.values_list("rule_id", flat=True)) == set(review.rule_ids)
    assert sorted(t.name for t in review.tags.all()) == ["batch", "team-a"]
    assert review.analyzer_version and review.snapshot["workloads"]


def test_it_saves_without_javascript_and_redirects_to_the_permalink(author: User) -> None:
    response = client_for(author).post(reverse("review-save"), save_data())
    review = Review.objects.get()
    assert response.status_code == 302 and response["Location"] == review.get_absolute_url()
    assert len(review.slug) >= 20


def test_it_asks_anonymous_users_to_log_in_before_saving() -> None:
    fragment = client_for(None).post(reverse("review-save"), save_data(), **HTMX)
    assert fragment.status_code == 401 and reverse("login") in fragment.content.decode()
    full = client_for(None).post(reverse("review-save"), save_data())
    assert full.status_code == 302 and full["Location"].startswith(reverse("login"))
    assert not Review.objects.exists()


def test_it_saves_a_questionnaire_result(author: User) -> None:
    data = {
        "kind": "questionnaire",
        "title": "Proxy choice",
        "need": "outbound-proxy",
        "kubernetes_version": "1.31",
        "redact_secrets": "on",
    }
    client_for(author).post(reverse("review-save"), data, **HTMX)
    review = Review.objects.get()
    assert review.kind == "questionnaire" and review.pattern
    assert review.snapshot["recommendation"]["pattern"] == review.pattern


def test_it_redacts_secrets_by_default_and_says_what(author: User) -> None:
    response = client_for(author).post(reverse("review-save"), save_data(SECRET), **HTMX)
    review = Review.objects.get()
    assert "hunter2-secret" not in review.manifest
    assert "hunter2-secret" not in review.revisions.get().manifest
    assert review.redactions and "password" in response.content.decode()


def test_it_keeps_secrets_when_the_author_opts_out(author: User) -> None:
    data = save_data(SECRET)
    del data["redact_secrets"]
    client_for(author).post(reverse("review-save"), data)
    assert "hunter2-secret" in Review.objects.get().manifest


def test_it_shows_a_review_to_any_logged_in_user(author: User, other: User) -> None:
    review = make_review(author)
    body = client_for(other).get(review.get_absolute_url()).content.decode()
    assert "Job review" in body and "classic-sidecar-blocks-job" in body
    assert reverse("review-edit", args=[review.slug]) not in body


def test_it_makes_a_new_revision_when_the_manifest_is_edited(author: User) -> None:
    review = make_review(author)
    data = {
        "title": "Job review",
        "manifest": NATIVE_JOB,
        "kubernetes_version": "1.37",
        "api_defaults": "on",
        "version": review.version,
        "note": "native sidecar",
        "redact_secrets": "on",
    }
    response = client_for(author).post(reverse("review-edit", args=[review.slug]), data)
    review.refresh_from_db()
    assert response.status_code == 302
    assert review.revisions.count() == 2 and review.version == 2
    assert "classic-sidecar-blocks-job" not in review.rule_ids
    assert not ReviewRule.objects.filter(review=review, rule_id="classic-sidecar-blocks-job")


def test_it_refuses_a_stale_edit_and_shows_both_versions(author: User) -> None:
    review = make_review(author)
    stale = review.version
    services.update_fields(review, expected_version=stale, title="Renamed by a colleague")
    data = {
        "title": "Mine",
        "manifest": NATIVE_JOB + "# my edit\n",
        "kubernetes_version": "1.37",
        "version": stale,
        "redact_secrets": "on",
    }
    response = client_for(author).post(reverse("review-edit", args=[review.slug]), data)
    body = response.content.decode()
    review.refresh_from_db()
    assert response.status_code == 409
    assert "someone else saved" in body and "# my edit" in body
    assert review.title == "Renamed by a colleague" and review.revisions.count() == 1


def test_it_changes_status_only_for_the_author_or_staff(author: User, other: User) -> None:
    review = make_review(author)
    url = reverse("review-status", args=[review.slug])
    assert client_for(other).post(url, {"status": "approved"}).status_code == 403
    assert client_for(author).post(url, {"status": "nonsense"}).status_code == 400
    # An author does not approve their own review (ADVISOR_ALLOW_SELF_APPROVAL is off).
    assert client_for(author).post(url, {"status": "approved"}).status_code == 403
    assert client_for(author).post(url, {"status": "in-review"}).status_code == 302
    review.refresh_from_db()
    assert review.status == "in-review"
    staff = User.objects.create_user("sam", password="x-123456789", is_staff=True)
    assert client_for(staff).post(url, {"status": "rejected"}).status_code == 302


def test_it_deletes_only_for_the_author(author: User, other: User) -> None:
    review = make_review(author)
    url = reverse("review-delete", args=[review.slug])
    assert client_for(other).post(url).status_code == 403
    assert client_for(author).post(url).status_code == 302
    # A soft delete: gone from every list, kept (with its revisions) for an undo.
    assert not Review.objects.exists() and Revision.objects.exists()
    assert Review.all_objects.get(pk=review.pk).deleted_by == author


def test_it_renders_comments_safely_with_links(author: User, other: User) -> None:
    review = make_review(author)
    url = reverse("review-comment", args=[review.slug])
    body = "see https://example.com/doc <script>alert(1)</script>"
    response = client_for(other).post(url, {"body": body}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert '<a href="https://example.com/doc"' in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_it_lets_only_the_comment_author_or_staff_delete_it(author: User, other: User) -> None:
    review = make_review(author)
    comment = Comment.objects.create(review=review, author=other, body="hi")
    url = reverse("review-comment-delete", args=[review.slug, comment.pk])
    assert client_for(author).post(url).status_code == 403
    assert client_for(other).post(url).status_code == 302
    assert not Comment.objects.exists()


def test_it_diffs_two_revisions_and_their_findings(author: User) -> None:
    review = make_review(author)
    prepared = services.prepare(kind="manifest", manifest=NATIVE_JOB, kubernetes_version="1.37")
    services.revise(review, author=author, expected_version=review.version, prepared=prepared)
    url = reverse("review-history", args=[review.slug])
    body = client_for(author).get(url, {"a": 1, "b": 2}).content.decode()
    assert "restartPolicy: Always" in body  # the diff
    assert "classic-sidecar-blocks-job" in body and "gone" in body
    fragment = client_for(author).get(url, {"a": 1, "b": 2}, **HTMX).content.decode()
    assert "<html" not in fragment and 'id="compare"' in fragment


def test_it_shows_what_todays_analyser_changes(author: User) -> None:
    review = make_review(author)
    url = reverse("review-reanalyse", args=[review.slug])
    assert "No change" in client_for(author).get(url).content.decode()
    old = dict(review.snapshot, analyzer_version="0.0.1")
    old["workloads"] = [dict(w, findings=[]) for w in review.snapshot["workloads"]]
    Review.objects.filter(pk=review.pk).update(snapshot=old)
    body = client_for(author).get(url).content.decode()
    assert "classic-sidecar-blocks-job" in body and "new" in body
    assert client_for(author).post(url, {"version": review.version}).status_code == 302
    assert review.revisions.count() == 2


def test_it_leaves_nothing_behind_when_a_save_fails_halfway(author: User, monkeypatch) -> None:
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_set_rules", boom)
    with pytest.raises(RuntimeError):
        make_review(author)
    assert not Review.objects.exists() and not Revision.objects.exists()
    review = None
    monkeypatch.undo()
    review = make_review(author)
    monkeypatch.setattr(services, "_set_rules", boom)
    prepared = services.prepare(kind="manifest", manifest=NATIVE_JOB, kubernetes_version="1.37")
    with pytest.raises(RuntimeError):
        services.revise(review, author=author, expected_version=review.version, prepared=prepared)
    review.refresh_from_db()
    assert review.version == 1 and review.revisions.count() == 1
    assert "classic-sidecar-blocks-job" in review.rule_ids


def test_it_uses_the_teams_catalogue_entries_from_the_admin() -> None:
    from webui.models import CatalogueImage

    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "  - {name: app, image: registry.example/shop:1}\n"
        "  - {name: helper, image: registry.example/acme-tunnel:2}\n"
    )
    data = {"manifest": text, "kubernetes_version": "1.37", "api_defaults": "on"}
    before = Client().post(reverse("analyze"), data, **HTMX).content.decode()
    assert "Acme tunnel" not in before
    CatalogueImage.objects.create(
        entry_id="acme-tunnel",
        title="Acme tunnel",
        role="ambassador",
        match="acme-tunnel",
        description="our egress tunnel",
    )
    after = Client().post(reverse("analyze"), data, **HTMX).content.decode()
    assert "Acme tunnel" in after and "ambassador" in after
