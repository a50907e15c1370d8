"""The review workflow: no lost work, reviewers and verdicts, line comments, My reviews.

Each view is exercised as a full page and as its htmx fragment; these run on SQLite and on
PostgreSQL (CI runs the suite on both).
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.test import Client
from django.urls import reverse

from webui import exchange, services
from webui.models import Comment, Event, Review, Revision

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
MANIFEST = (
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata:\n"
    "  name: web\n"
    "spec:\n"
    "  containers:\n"
    "  - name: app\n"
    "    image: nginx:1.27\n"
)
CHANGED = MANIFEST.replace("nginx:1.27", "nginx:1.28")


@pytest.fixture
def author() -> User:
    return User.objects.create_user("ada", password="pw-ada-123456", email="ada@example.com")


@pytest.fixture
def reviewer() -> User:
    return User.objects.create_user("bob", password="pw-bob-123456", email="bob@example.com")


@pytest.fixture
def third() -> User:
    return User.objects.create_user("cy", password="pw-cy-123456")


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def make_review(user: User, text: str = MANIFEST, title: str = "Web pod") -> Review:
    prepared = services.prepare(kind="manifest", manifest=text, kubernetes_version="1.37")
    return services.create_review(author=user, title=title, prepared=prepared, tags=["web"])


def edit_data(review: Review, **changes: str) -> dict[str, str]:
    data = {
        "title": review.title,
        "description": review.description,
        "tags": " ".join(t.name for t in review.tags.all()),
        "redact_secrets": "on",
        # What a browser sends from a textarea: CRLF line ends.
        "manifest": review.manifest.replace("\n", "\r\n"),
        "kubernetes_version": review.kubernetes_version,
        "api_defaults": "on" if review.api_defaults else "",
        "version": str(review.version),
        "note": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != "" or k in ("description", "note", "tags")}


# --- no lost work: line endings ------------------------------------------------------------


def test_every_entry_point_stores_lf_line_ends(author: User) -> None:
    crlf = MANIFEST.replace("\n", "\r\n")
    client = client_for(author)
    client.post(
        reverse("review-save"),
        {"kind": "manifest", "title": "form", "manifest": crlf, "kubernetes_version": "1.37"},
    )
    token = "t0ken-" + "x" * 30
    from webui.models import ApiToken

    ApiToken.objects.create(user=author, name="t", digest=ApiToken.hash(token))
    api = client.post(
        "/api/v1/reviews",
        json.dumps({"title": "api", "manifest": crlf.replace("\r\n", "\r")}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert api.status_code == 201, api.content
    document = exchange.review_document(make_review(author, title="source"))
    document["manifest"] = crlf
    document["title"] = "imported"
    exchange.import_review(document, author=author)
    stored = {r.title: r for r in Review.objects.all()}
    for title in ("form", "api", "imported"):
        assert "\r" not in stored[title].manifest, title
        assert stored[title].manifest == MANIFEST
        assert "\r" not in stored[title].revisions.get().manifest


def test_a_title_only_edit_from_the_form_is_no_new_revision(author: User) -> None:
    review = make_review(author)
    response = client_for(author).post(
        reverse("review-edit", args=[review.slug]),
        edit_data(review, title="Web pod, renamed", tags="web frontend"),
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.title == "Web pod, renamed"
    assert sorted(t.name for t in review.tags.all()) == ["frontend", "web"]
    assert review.revisions.count() == 1
    assert review.manifest == MANIFEST
    page = client_for(author).get(review.get_absolute_url()).content.decode()
    assert "revision 1" in page and "History (1 revision)" in page
    assert Event.objects.filter(review=review, kind=Event.Kind.EDITED).count() == 1


def test_a_manifest_edit_is_a_new_revision_and_the_header_counts_it(author: User) -> None:
    review = make_review(author)
    client = client_for(author)
    client.post(
        reverse("review-edit", args=[review.slug]),
        edit_data(review, manifest=CHANGED.replace("\n", "\r\n"), note="newer nginx"),
    )
    review.refresh_from_db()
    assert review.revisions.count() == 2 and review.manifest == CHANGED
    page = client.get(review.get_absolute_url()).content.decode()
    assert "revision 2" in page and "History (2 revisions)" in page
    diff = services.revision_diff(*review.revisions.order_by("number"))
    # Only the changed line, not every line rewritten by CRLF.
    changed = [
        line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed == ["-    image: nginx:1.27", "+    image: nginx:1.28"]


def test_an_edit_that_fails_validation_keeps_the_text(author: User) -> None:
    review = make_review(author)
    mine = CHANGED + "# my careful edit\n"
    for bad in ({"title": ""}, {"kubernetes_version": "0.1"}, {"version": "x"}):
        response = client_for(author).post(
            reverse("review-edit", args=[review.slug]), edit_data(review, manifest=mine, **bad)
        )
        assert response.status_code == 400, bad
        assert "# my careful edit" in response.content.decode(), bad
    assert review.revisions.count() == 1


def test_a_conflicting_edit_keeps_the_text(author: User) -> None:
    review = make_review(author)
    stale = edit_data(review, manifest=CHANGED + "# mine\n")
    services.update_fields(review, expected_version=review.version, title="Theirs")
    response = client_for(author).post(reverse("review-edit", args=[review.slug]), stale)
    assert response.status_code == 409
    assert "# mine" in response.content.decode()


# --- no lost work: soft delete and undo ----------------------------------------------------


def test_delete_asks_first_then_hides_the_review_everywhere(
    author: User, reviewer: User, settings
) -> None:
    review = make_review(author, title="Quokka project")
    client = client_for(author)
    confirm = client.get(reverse("review-delete", args=[review.slug]))
    assert confirm.status_code == 200 and "Delete the review" in confirm.content.decode()
    assert Review.objects.filter(pk=review.pk).exists()

    response = client.post(reverse("review-delete", args=[review.slug]))
    assert response.status_code == 302 and response["Location"] == reverse("reviews-deleted")
    other = client_for(reviewer)
    assert "Quokka" not in other.get(reverse("reviews")).content.decode()
    assert "Quokka" not in other.get(reverse("reviews") + "?q=quokka").content.decode()
    stats = other.get(reverse("review-stats")).content.decode()
    assert "Quokka" not in stats
    assert other.get(review.get_absolute_url()).status_code == 404
    assert other.get(reverse("review-export-json", args=[review.slug])).status_code == 404
    assert other.post(reverse("review-restore", args=[review.slug])).status_code == 404
    token = "t0ken-" + "y" * 30
    from webui.models import ApiToken

    ApiToken.objects.create(user=reviewer, name="t", digest=ApiToken.hash(token))
    listing = other.get("/api/v1/reviews", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert listing["count"] == 0

    # The author sees a "deleted" page and the bin, and undoes it.
    gone = client.get(review.get_absolute_url())
    assert gone.status_code == 200 and "was deleted" in gone.content.decode()
    binned = client.get(reverse("reviews-deleted")).content.decode()
    assert "Quokka project" in binned and "Restore" in binned
    assert "Quokka project" not in other.get(reverse("reviews-deleted")).content.decode()
    restored = client.post(reverse("review-restore", args=[review.slug]))
    assert restored.status_code == 302
    assert other.get(review.get_absolute_url()).status_code == 200
    kinds = list(review.events.values_list("kind", flat=True))
    assert kinds[-2:] == [Event.Kind.DELETED, Event.Kind.RESTORED]


def test_staff_see_and_restore_every_deleted_review(author: User) -> None:
    review = make_review(author, title="Wombat")
    services.soft_delete(review, by=author)
    staff = User.objects.create_user("sam", password="x-123456789", is_staff=True)
    assert "Wombat" in client_for(staff).get(reverse("reviews-deleted")).content.decode()
    assert client_for(staff).post(reverse("review-restore", args=[review.slug])).status_code == 302
    assert Review.objects.filter(pk=review.pk).exists()


# --- reviewers ------------------------------------------------------------------------------


def test_changes_requested_then_approved_on_a_new_revision(author: User, reviewer: User) -> None:
    review = make_review(author)
    mine, theirs = client_for(author), client_for(reviewer)
    response = mine.post(reverse("review-reviewers", args=[review.slug]), {"reviewers": "bob"})
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == Review.Status.IN_REVIEW

    response = theirs.post(
        reverse("review-verdict", args=[review.slug]),
        {"verdict": "changes", "body": "pin the image digest"},
        **HTMX,
    )
    assert response.status_code == 200
    fragment = response.content.decode()
    assert 'id="workflow"' in fragment and "<html" not in fragment
    assert "Requested changes" in fragment and "pin the image digest" in fragment
    review.refresh_from_db()
    assert review.status == Review.Status.CHANGES_REQUESTED

    services.revise(
        review,
        author=author,
        expected_version=review.version,
        prepared=services.prepare(kind="manifest", manifest=CHANGED, kubernetes_version="1.37"),
    )
    review.refresh_from_db()
    # The new revision resets the verdicts: waiting again.
    assert review.status == Review.Status.IN_REVIEW
    theirs.post(reverse("review-verdict", args=[review.slug]), {"verdict": "approve"})
    review.refresh_from_db()
    assert review.status == Review.Status.APPROVED
    page = mine.get(review.get_absolute_url()).content.decode()
    for text in ("requested a review", "requested changes", "saved a new revision", "approved"):
        assert text in page, text


def test_every_requested_reviewer_must_approve(author: User, reviewer: User, third: User) -> None:
    review = make_review(author)
    services.request_review(review, by=author, reviewers=[reviewer, third])
    services.give_verdict(review, reviewer=reviewer, verdict="approve")
    review.refresh_from_db()
    assert review.status == Review.Status.IN_REVIEW
    services.give_verdict(review, reviewer=third, verdict="changes", body="no")
    services.give_verdict(review, reviewer=third, verdict="approve", body="ok now")
    review.refresh_from_db()
    assert review.status == Review.Status.APPROVED


def test_a_team_is_a_group_of_users(author: User, reviewer: User, third: User) -> None:
    team = Group.objects.create(name="platform")
    team.user_set.add(reviewer, third, author)
    review = make_review(author)
    response = client_for(author).post(
        reverse("review-reviewers", args=[review.slug]), {"reviewers": "@platform"}, **HTMX
    )
    assert response.status_code == 200
    names = set(review.requests.values_list("reviewer__username", flat=True))
    assert names == {"bob", "cy"}  # the author is not their own reviewer
    unknown = client_for(author).post(
        reverse("review-reviewers", args=[review.slug]), {"reviewers": "nobody-here"}, **HTMX
    )
    assert unknown.status_code == 400 and "nobody-here" in unknown.content.decode()


def test_an_author_cannot_approve_their_own_review(author: User, settings) -> None:
    review = make_review(author)
    url = reverse("review-verdict", args=[review.slug])
    response = client_for(author).post(url, {"verdict": "approve"})
    assert response.status_code == 403
    review.refresh_from_db()
    assert review.status == Review.Status.DRAFT
    assert "Your verdict" not in client_for(author).get(review.get_absolute_url()).content.decode()

    settings.ADVISOR_ALLOW_SELF_APPROVAL = True
    assert client_for(author).post(url, {"verdict": "approve"}).status_code == 302
    review.refresh_from_db()
    assert review.status == Review.Status.APPROVED


def test_only_the_author_or_staff_request_reviewers(author: User, reviewer: User) -> None:
    review = make_review(author)
    url = reverse("review-reviewers", args=[review.slug])
    assert client_for(reviewer).post(url, {"reviewers": "bob"}).status_code == 403
    assert client_for(None).post(url, {"reviewers": "bob"}).status_code == 302
    assert not review.requests.exists()
    services.request_review(review, by=author, reviewers=[reviewer])
    withdraw = reverse("review-reviewer-withdraw", args=[review.slug, reviewer.pk])
    assert client_for(reviewer).post(withdraw).status_code == 403
    response = client_for(author).post(withdraw, **HTMX)
    assert response.status_code == 200 and "No reviewer requested yet" in response.content.decode()


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_the_review_page_and_its_fragments(author: User, reviewer: User, htmx: bool) -> None:
    review = make_review(author)
    headers = HTMX if htmx else {}
    client = client_for(reviewer)
    for part, marker in (("workflow", 'id="workflow"'), ("manifest", 'id="manifest"')):
        response = client.get(f"{review.get_absolute_url()}?part={part}&line=2", **headers)
        body = response.content.decode()
        assert response.status_code == 200 and marker in body
        assert ("<html" in body) is not htmx
        # The full page holds every part; the workflow fragment has no manifest.
        assert ("Comment on line 2" in body) is (part == "manifest" or not htmx)


# --- line comments --------------------------------------------------------------------------


def test_a_line_comment_becomes_outdated_when_its_line_changes(
    author: User, reviewer: User
) -> None:
    review = make_review(author)
    client = client_for(reviewer)
    url = reverse("review-comment", args=[review.slug])
    response = client.post(url, {"body": "which nginx?", "line": 8, "part": "manifest"}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="manifest"' in body and "which nginx?" in body
    assert 'id="timeline-events" hx-swap-oob="true"' in body and "commented: line 8" in body
    client.post(url, {"body": "fine name", "line": 4})
    first = Comment.objects.get(body="which nginx?")
    assert first.line_text == "    image: nginx:1.27" and first.revision.number == 1

    services.revise(
        review,
        author=author,
        expected_version=review.version,
        prepared=services.prepare(kind="manifest", manifest=CHANGED, kubernetes_version="1.37"),
    )
    threads = {t["comment"].body: t for t in services.threads(review)}
    assert threads["which nginx?"]["outdated"] is True
    assert threads["fine name"]["outdated"] is False
    page = client.get(review.get_absolute_url()).content.decode()
    # Shown with the line as it was in revision 1.
    assert "Outdated" in page and "nginx:1.27" in page and "nginx:1.28" in page


def test_threads_reply_and_resolve(author: User, reviewer: User) -> None:
    review = make_review(author)
    first = services.add_comment(review, author=reviewer, body="why two?", line=7)
    url = reverse("review-comment", args=[review.slug])
    response = client_for(author).post(
        url, {"body": "one is enough", "parent": first.pk, "part": "manifest"}, **HTMX
    )
    assert response.status_code == 200 and "one is enough" in response.content.decode()
    reply = Comment.objects.get(body="one is enough")
    assert reply.parent_id == first.pk and reply.line is None
    resolve = reverse("review-comment-resolve", args=[review.slug, first.pk])
    assert client_for(User.objects.create_user("zed")).post(resolve).status_code == 403
    response = client_for(author).post(resolve, {"resolved": "1", "part": "manifest"}, **HTMX)
    assert response.status_code == 200 and "Reopen" in response.content.decode()
    first.refresh_from_db()
    assert first.resolved_by == author
    client_for(reviewer).post(resolve, {"resolved": "0"})
    first.refresh_from_db()
    assert first.resolved_at is None


def test_a_comment_on_a_line_that_does_not_exist_is_refused(author: User) -> None:
    review = make_review(author)
    response = client_for(author).post(
        reverse("review-comment", args=[review.slug]),
        {"body": "keep me", "line": 999, "part": "manifest"},
        **HTMX,
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "no line 999" in body and not Comment.objects.exists()
    assert "keep me" in body  # the text comes back, with the line to correct


def test_general_comments_still_work(author: User, reviewer: User) -> None:
    review = make_review(author)
    response = client_for(reviewer).post(
        reverse("review-comment", args=[review.slug]), {"body": "looks good"}
    )
    assert response.status_code == 302
    page = client_for(author).get(review.get_absolute_url()).content.decode()
    assert "looks good" in page and "Discussion (1)" in page


# --- my reviews and mail --------------------------------------------------------------------


def test_my_reviews_lists_what_waits_on_me(author: User, reviewer: User) -> None:
    asked = make_review(author, title="Asked of bob")
    services.request_review(asked, by=author, reviewers=[reviewer])
    returned = make_review(reviewer, title="Bobs own")
    services.request_review(returned, by=reviewer, reviewers=[author])
    services.give_verdict(returned, reviewer=author, verdict="changes", body="split it")
    thread = services.add_comment(make_review(author, title="Talk"), author=reviewer, body="q?")
    page = client_for(reviewer).get(reverse("reviews-mine")).content.decode()
    assert "Asked of bob" in page and "Bobs own" in page and "q?" in page
    assert 'href="/reviews/mine/"' in page  # linked in the navigation

    token = "t0ken-" + "z" * 30
    from webui.models import ApiToken

    ApiToken.objects.create(user=reviewer, name="t", digest=ApiToken.hash(token))
    data = Client().get("/api/v1/reviews/mine", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert [r["title"] for r in data["to_review"]] == ["Asked of bob"]
    assert [r["title"] for r in data["changes_requested"]] == ["Bobs own"]
    assert [t["id"] for t in data["threads"]] == [thread.pk]

    services.give_verdict(asked, reviewer=reviewer, verdict="changes", body="split it")
    services.resolve(thread, by=author, resolved=True)
    page = client_for(reviewer).get(reverse("reviews-mine")).content.decode()
    # Bob asked for changes: it waits on the author now, until a new revision.
    assert "Asked of bob" not in page and "q?" not in page
    services.revise(
        asked,
        author=author,
        expected_version=asked.version,
        prepared=services.prepare(kind="manifest", manifest=CHANGED, kubernetes_version="1.37"),
    )
    assert "Asked of bob" in client_for(reviewer).get(reverse("reviews-mine")).content.decode()


def test_events_are_mailed_when_mail_is_configured(
    author: User, reviewer: User, settings, django_capture_on_commit_callbacks
) -> None:
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    settings.ADVISOR_MAIL_EVENTS = True
    review = make_review(author)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_review(review, by=author, reviewers=[reviewer])
    assert any(m.to == ["bob@example.com"] for m in mail.outbox)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.give_verdict(review, reviewer=reviewer, verdict="changes", body="pin it")
    sent = [m for m in mail.outbox if m.to == ["ada@example.com"]]
    assert sent and "requested changes" in sent[0].subject and "pin it" in sent[0].body


def test_no_mail_without_configuration(author: User, reviewer: User) -> None:
    review = make_review(author)
    services.request_review(review, by=author, reviewers=[reviewer])
    assert mail.outbox == []


def test_the_revisions_survive_a_soft_delete(author: User) -> None:
    review = make_review(author)
    services.soft_delete(review, by=author)
    assert Revision.objects.filter(review_id=review.pk).count() == 1


# --- export and import ----------------------------------------------------------------------


def test_markdown_export_has_the_discussion_and_the_decision(author: User, reviewer: User) -> None:
    review = make_review(author)
    services.request_review(review, by=author, reviewers=[reviewer])
    services.give_verdict(review, reviewer=reviewer, verdict="changes", body="pin *the* digest")
    line = services.add_comment(review, author=reviewer, body="which tag?", line=8)
    services.add_comment(review, author=author, body="1.28 soon", parent=line)
    services.add_comment(review, author=reviewer, body="general remark")
    services.revise(
        review,
        author=author,
        expected_version=review.version,
        prepared=services.prepare(kind="manifest", manifest=CHANGED, kubernetes_version="1.37"),
    )
    review.refresh_from_db()
    text = exchange.review_markdown(review)
    decision = text[text.index("## Decision") : text.index("## Discussion")]
    assert "Status: **In review** (revision 2)" in decision
    assert "| bob | waiting |" in decision
    assert "revision 1: **Requested changes**" in decision and "pin \\*the\\* digest" in decision
    discussion = text[text.index("## Discussion") :]
    assert "on line 8 of revision 1 (outdated" in discussion
    assert "`image: nginx:1.27`" in discussion
    assert "1.28 soon" in discussion and "general remark" in discussion


def test_importing_an_existing_review_offers_an_update_not_a_duplicate(author: User) -> None:
    review = make_review(author)
    document = exchange.review_document(review)
    document["manifest"] = CHANGED
    document["title"] = "Web pod (from the other site)"
    client = client_for(author)
    body = {"document": json.dumps(document)}
    response = client.post(reverse("review-import"), body)
    assert response.status_code == 409
    page = response.content.decode()
    assert "already exists" in page and 'value="update"' in page
    assert "from the other site" in page  # the pasted document is kept for the second step
    assert Review.objects.count() == 1

    response = client.post(reverse("review-import"), {**body, "existing": "update"})
    assert response.status_code == 302 and response["Location"] == review.get_absolute_url()
    review.refresh_from_db()
    assert Review.objects.count() == 1
    assert review.title == "Web pod (from the other site)" and review.manifest == CHANGED
    assert review.revisions.count() == 2
    assert review.events.filter(kind=Event.Kind.IMPORTED).exists()


def test_an_import_keeps_the_identity_so_a_second_import_finds_it(author: User) -> None:
    review = make_review(author)
    document = exchange.review_document(review)
    review.delete()  # as on another site, where the review never existed
    client = client_for(author)
    assert (
        client.post(reverse("review-import"), {"document": json.dumps(document)}).status_code == 302
    )
    assert Review.objects.get().slug == document["slug"]
    again = client.post(reverse("review-import"), {"document": json.dumps(document)})
    assert again.status_code == 409 and Review.objects.count() == 1


def test_a_finding_is_marked_on_its_line_and_can_be_commented(author: User) -> None:
    from tests.conftest import CORPUS

    job = (
        CORPUS
        / "kubernetes__website__content__en__examples__application__job__job-sidecar-legacy.yaml"
    ).read_text()
    review = make_review(author, text=job)
    finding = next(
        f
        for w in review.snapshot["workloads"]
        for f in w["findings"]
        if f["rule"] == "classic-sidecar-blocks-job"
    )
    page = client_for(author).get(review.get_absolute_url()).content.decode()
    row = page[page.index(f'id="L{finding["line"]}"') :]
    row = row[: row.index("</tr>")]
    assert "classic-sidecar-blocks-job" in row
    assert f"Comment on the finding classic-sidecar-blocks-job at line {finding['line']}" in row


def test_the_list_filters_forget_deleted_reviews(author: User, reviewer: User) -> None:
    make_review(author, title="Live one")
    gone = make_review(reviewer, title="Binned one")
    services.soft_delete(gone, by=reviewer)
    page = client_for(author).get(reverse("reviews")).content.decode()
    assert "Live one" in page and "Binned one" not in page
    authors = page[page.index('name="author"') :]
    authors = authors[: authors.index("</select>")]
    assert ">ada<" in authors and ">bob<" not in authors


def test_the_api_takes_line_comments_and_replies(author: User, reviewer: User) -> None:
    from webui.models import ApiToken

    review = make_review(author)
    token = "t0ken-" + "w" * 30
    ApiToken.objects.create(user=reviewer, name="t", digest=ApiToken.hash(token))
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    url = f"/api/v1/reviews/{review.slug}/comments"

    def post(body: dict) -> object:
        return Client().post(url, json.dumps(body), content_type="application/json", **auth)

    first = post({"body": "which tag?\r\nreally", "line": 8})
    assert first.status_code == 201, first.content
    data = first.json()
    assert (data["line"], data["revision"], data["line_text"]) == (8, 1, "    image: nginx:1.27")
    assert data["body"] == "which tag?\nreally"
    reply = post({"body": "this one", "reply_to": data["id"]}).json()
    assert reply["reply_to"] == data["id"] and reply["line"] is None
    missing = post({"body": "x", "line": 99})
    assert missing.status_code == 422 and "no line 99" in missing.content.decode()


def test_no_self_approval_through_the_api_or_an_import(author: User, settings) -> None:
    from webui.models import ApiToken

    token = "t0ken-" + "v" * 30
    ApiToken.objects.create(user=author, name="t", digest=ApiToken.hash(token))
    body = {"title": "mine", "manifest": MANIFEST, "status": "approved"}
    response = Client().post(
        "/api/v1/reviews",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 403 and not Review.objects.exists()
    document = exchange.review_document(make_review(author))
    document.update(status="approved", slug="")
    imported = exchange.import_review(document, author=author)
    assert imported.status == Review.Status.IN_REVIEW
    settings.ADVISOR_ALLOW_SELF_APPROVAL = True
    assert exchange.import_review(document, author=author).status == Review.Status.APPROVED


def test_an_edit_too_large_to_read_shows_the_edit_page_with_a_message(
    author: User, settings
) -> None:
    review = make_review(author)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = client_for(author).post(
        reverse("review-edit", args=[review.slug]),
        edit_data(review, manifest=MANIFEST + "#" * 30_000),
    )
    assert response.status_code == 413
    body = response.content.decode()
    assert "Nothing was saved" in body and "go back to copy it" in body
    assert 'name="manifest"' in body and "nginx:1.27" in body
    assert review.revisions.count() == 1


def test_a_long_manifest_is_shown_a_window_of_lines_at_a_time(author: User, settings) -> None:
    from webui import reviews

    text = "".join(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\ndata: {{k: v}}\n---\n"
        for i in range(500)
    )
    review = make_review(author, text=text)
    far = services.add_comment(review, author=author, body="far below", line=2400)
    client = client_for(author)
    page = client.get(review.get_absolute_url()).content.decode()
    assert f"Lines 1–{reviews.MANIFEST_WINDOW} of 2500" in page
    assert 'id="L1000"' in page and 'id="L1001"' not in page
    # A thread outside the window is listed in the discussion, linked to its line.
    assert "far below" in page and f'id="comment-{far.pk}"' in page
    window = client.get(f"{review.get_absolute_url()}?line=2400&part=manifest", **HTMX)
    body = window.content.decode()
    assert 'id="L2400"' in body and 'id="L1000"' not in body and "far below" in body
    assert "Comment on line 2400" in body
    download = client.get(reverse("review-manifest", args=[review.slug]))
    assert download.status_code == 200 and download.content.decode() == review.manifest
    assert download["Content-Disposition"].startswith("attachment")


def test_an_api_title_change_is_on_the_timeline_and_no_new_revision(author: User) -> None:
    from webui.models import ApiToken

    review = make_review(author)
    token = "t0ken-" + "u" * 30
    ApiToken.objects.create(user=author, name="t", digest=ApiToken.hash(token))
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    url = f"/api/v1/reviews/{review.slug}"
    same_text = MANIFEST.replace("\n", "\r\n")
    body = {"version": review.version, "title": "Renamed", "manifest": same_text}
    response = Client().patch(url, json.dumps(body), content_type="application/json", **auth)
    assert response.status_code == 200, response.content
    assert len(response.json()["revisions"]) == 1
    status = {"version": response.json()["version"], "status": "in-review"}
    response = Client().patch(url, json.dumps(status), content_type="application/json", **auth)
    assert response.json()["status"] == "in-review"
    kinds = list(review.events.values_list("kind", flat=True))
    assert kinds == [Event.Kind.CREATED, Event.Kind.EDITED, Event.Kind.STATUS]


def test_a_mail_server_that_is_down_loses_no_event(
    author: User, reviewer: User, settings, django_capture_on_commit_callbacks
) -> None:
    import socket

    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 2},
        }
    }
    settings.ADVISOR_MAIL_EVENTS = True
    review = make_review(author)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_review(review, by=author, reviewers=[reviewer])
    assert review.events.filter(kind=Event.Kind.REQUESTED).exists()
    assert review.requests.filter(reviewer=reviewer).exists()


def test_a_questionnaire_review_renamed_keeps_its_one_revision(author: User) -> None:
    data = {"kind": "questionnaire", "title": "Proxy choice", "need": "outbound-proxy"}
    data["kubernetes_version"] = "1.31"
    client = client_for(author)
    client.post(reverse("review-save"), data)
    review = Review.objects.get()
    form = {
        "title": "Proxy choice, renamed",
        "description": "",
        "tags": "",
        "redact_secrets": "on",
        "manifest": "",
        "kubernetes_version": "1.31",
        "version": str(review.version),
        "note": "",
    }
    assert client.post(reverse("review-edit", args=[review.slug]), form).status_code == 302
    review.refresh_from_db()
    assert review.title == "Proxy choice, renamed" and review.revisions.count() == 1
    form.update(kubernetes_version="1.33", version=str(review.version))
    client.post(reverse("review-edit", args=[review.slug]), form)
    assert review.revisions.count() == 2  # a new target version is a new revision


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_every_workflow_action_answers_a_page_or_its_fragment(
    author: User, reviewer: User, htmx: bool
) -> None:
    """Without htmx each action redirects to the review; with it, the part it changed."""
    review = make_review(author)
    thread = services.add_comment(review, author=reviewer, body="hmm", line=4)
    headers = HTMX if htmx else {}
    mine, theirs = client_for(author), client_for(reviewer)
    slug = review.slug
    actions = [
        (mine, "review-reviewers", [slug], {"reviewers": "bob"}, 'id="workflow"'),
        (theirs, "review-verdict", [slug], {"verdict": "approve"}, 'id="workflow"'),
        (mine, "review-reviewer-withdraw", [slug, reviewer.pk], {}, 'id="workflow"'),
        (theirs, "review-comment", [slug], {"body": "general"}, 'id="comments"'),
        (
            theirs,
            "review-comment",
            [slug],
            {"body": "on 5", "line": 5, "part": "manifest"},
            'id="manifest"',
        ),
        (
            mine,
            "review-comment",
            [slug],
            {"body": "reply", "parent": thread.pk, "part": "manifest"},
            'id="manifest"',
        ),
        (mine, "review-comment-resolve", [slug, thread.pk], {"part": "manifest"}, 'id="manifest"'),
    ]
    for client, name, args, data, marker in actions:
        response = client.post(reverse(name, args=args), data, **headers)
        if htmx:
            body = response.content.decode()
            assert response.status_code == 200, name
            assert marker in body and "<html" not in body, name
        else:
            assert response.status_code == 302, name
            assert response["Location"].startswith(review.get_absolute_url()), name
    deleted = mine.post(reverse("review-delete", args=[slug]), **headers)
    if htmx:
        assert deleted["HX-Redirect"] == reverse("reviews-deleted")
    else:
        assert deleted["Location"] == reverse("reviews-deleted")


def test_staff_find_deleted_reviews_and_timelines_in_the_admin(author: User) -> None:
    review = make_review(author, title="Platypus")
    services.soft_delete(review, by=author)
    admin = User.objects.create_superuser("root", password="x-123456789")
    client = client_for(admin)
    listing = client.get("/admin/webui/review/")
    assert listing.status_code == 200 and "Platypus" in listing.content.decode()
    events = client.get("/admin/webui/event/")
    assert events.status_code == 200 and "deleted the review" in events.content.decode()


def test_the_api_runs_the_review_workflow(author: User, reviewer: User) -> None:
    from webui.models import ApiToken

    review = make_review(author)
    tokens = {}
    for user in (author, reviewer):
        tokens[user.username] = {"HTTP_AUTHORIZATION": f"Bearer t0ken-{user.username}-" + "q" * 30}
        ApiToken.objects.create(
            user=user, name="t", digest=ApiToken.hash(f"t0ken-{user.username}-" + "q" * 30)
        )
    base = f"/api/v1/reviews/{review.slug}"

    def post(path: str, body: dict, who: str) -> object:
        return Client().post(
            base + path, json.dumps(body), content_type="application/json", **tokens[who]
        )

    unknown = post("/reviewers", {"reviewers": ["nobody-here"]}, "ada")
    assert unknown.status_code == 422 and "nobody-here" in unknown.content.decode()
    asked = post("/reviewers", {"reviewers": ["bob"]}, "ada")
    assert asked.status_code == 200 and asked.json()["status"] == "in-review"
    assert asked.json()["reviewers"] == [{"reviewer": "bob", "verdict": None, "body": ""}]
    assert post("/verdicts", {"verdict": "approve"}, "ada").status_code == 403
    changes = post("/verdicts", {"verdict": "changes", "body": "pin it"}, "bob")
    assert changes.status_code == 201 and changes.json()["status"] == "changes-requested"
    assert changes.json()["reviewers"][0]["body"] == "pin it"
    waiting = Client().get("/api/v1/reviews/mine", **tokens["ada"]).json()
    assert [r["slug"] for r in waiting["changes_requested"]] == [review.slug]
