"""Who may do what, for every review page: enforced on the server, never leaking content."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from webui import services
from webui.models import Comment, Review

pytestmark = pytest.mark.django_db

MANIFEST = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: secret-project-x}\n"
    "spec: {containers: [{name: app, image: nginx}]}\n"
)
ANON, OTHER, AUTHOR, STAFF = "anonymous", "other", "author", "staff"

# (url name, method, needs comment id) -> expected status per kind of user
MATRIX = [
    ("review", "get", {ANON: 302, OTHER: 200, AUTHOR: 200, STAFF: 200}),
    ("review-history", "get", {ANON: 302, OTHER: 200, AUTHOR: 200, STAFF: 200}),
    ("review-reanalyse", "get", {ANON: 302, OTHER: 200, AUTHOR: 200, STAFF: 200}),
    ("review-reanalyse", "post", {ANON: 302, OTHER: 403, AUTHOR: 302, STAFF: 302}),
    ("review-edit", "get", {ANON: 302, OTHER: 403, AUTHOR: 200, STAFF: 200}),
    ("review-edit", "post", {ANON: 302, OTHER: 403, AUTHOR: 400, STAFF: 400}),
    ("review-status", "post", {ANON: 302, OTHER: 403, AUTHOR: 302, STAFF: 302}),
    ("review-comment", "post", {ANON: 302, OTHER: 302, AUTHOR: 302, STAFF: 302}),
    ("review-comment-delete", "post", {ANON: 302, OTHER: 403, AUTHOR: 302, STAFF: 302}),
    ("review-delete", "post", {ANON: 302, OTHER: 403, AUTHOR: 302, STAFF: 302}),
    # The review workflow: confirmation, reviewers, verdicts (never the author's own), threads.
    ("review-delete", "get", {ANON: 302, OTHER: 403, AUTHOR: 200, STAFF: 200}),
    ("review-manifest", "get", {ANON: 302, OTHER: 200, AUTHOR: 200, STAFF: 200}),
    ("review-reviewers", "post", {ANON: 302, OTHER: 403, AUTHOR: 302, STAFF: 302}),
    ("review-verdict", "post", {ANON: 302, OTHER: 302, AUTHOR: 403, STAFF: 302}),
    ("review-comment-resolve", "post", {ANON: 302, OTHER: 403, AUTHOR: 302, STAFF: 302}),
    ("review-restore", "post", {ANON: 302, OTHER: 404, AUTHOR: 404, STAFF: 404}),
]


def users() -> dict[str, User | None]:
    return {
        ANON: None,
        OTHER: User.objects.create_user("other", password="x-123456789"),
        AUTHOR: User.objects.create_user("author", password="x-123456789"),
        STAFF: User.objects.create_user("staff", password="x-123456789", is_staff=True),
    }


def setup() -> tuple[dict[str, User | None], Review, Comment]:
    people = users()
    prepared = services.prepare(kind="manifest", manifest=MANIFEST, kubernetes_version="1.37")
    review = services.create_review(author=people[AUTHOR], title="Project X", prepared=prepared)
    comment = Comment.objects.create(review=review, author=people[AUTHOR], body="mine")
    return people, review, comment


@pytest.mark.parametrize(("name", "method", "expected"), MATRIX, ids=lambda v: str(v)[:20])
@pytest.mark.parametrize("who", [ANON, OTHER, AUTHOR, STAFF])
def test_it_enforces_the_permission_matrix(
    name: str, method: str, expected: dict, who: str
) -> None:
    people, review, comment = setup()
    with_comment = ("review-comment-delete", "review-comment-resolve")
    args = [review.slug, comment.pk] if name in with_comment else [review.slug]
    client = Client()
    if people[who] is not None:
        client.force_login(people[who])
    data = {
        "body": "hello",
        "status": "in-review",
        "version": review.version,
        "reviewers": "other",
        "verdict": "changes",
    }
    response = getattr(client, method)(reverse(name, args=args), data if method == "post" else None)
    assert response.status_code == expected[who], (name, method, who)
    if response.status_code in (302, 401, 403, 404) and who in (ANON, OTHER):
        body = response.content.decode()
        assert "secret-project-x" not in body and "Project X" not in body
    if who == ANON:
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["review", "review-history", "review-edit", "review-reanalyse"])
def test_it_answers_404_for_an_unknown_permalink(name: str) -> None:
    people, _, _ = setup()
    client = Client()
    client.force_login(people[AUTHOR])
    assert client.get(reverse(name, args=["no-such-review-xyz"])).status_code == 404


@pytest.mark.parametrize("who", [ANON, OTHER, AUTHOR, STAFF])
def test_a_deleted_review_is_restored_only_by_its_author_or_staff(who: str) -> None:
    people, review, _ = setup()
    services.soft_delete(review, by=people[AUTHOR])
    client = Client()
    if people[who] is not None:
        client.force_login(people[who])
    page = client.get(reverse("review", args=[review.slug]))
    restore = client.post(reverse("review-restore", args=[review.slug]))
    expected = {ANON: (302, 302), OTHER: (404, 404), AUTHOR: (200, 302), STAFF: (200, 302)}
    assert (page.status_code, restore.status_code) == expected[who]
    if who in (ANON, OTHER):
        assert "Project X" not in page.content.decode() + restore.content.decode()
        assert Review.all_objects.get(pk=review.pk).deleted_at is not None
    else:
        assert Review.objects.filter(pk=review.pk).exists()


@pytest.mark.parametrize("name", ["reviews-mine", "reviews-deleted"])
def test_my_pages_need_a_login_and_show_only_mine(name: str) -> None:
    people, review, _ = setup()
    services.soft_delete(review, by=people[AUTHOR])
    assert Client().get(reverse(name))["Location"].startswith(reverse("login"))
    client = Client()
    client.force_login(people[OTHER])
    response = client.get(reverse(name))
    assert response.status_code == 200 and "Project X" not in response.content.decode()
