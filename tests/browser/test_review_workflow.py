"""The review workflow in a real browser: two people, reviewers, line comments, delete/undo."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ARTIFACTS
from webui import services
from webui.models import Review

PASSWORD = "correct horse battery"
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


def make_review(title: str = "Web pod") -> Review:
    ada = User.objects.create_user("ada", password=PASSWORD)
    User.objects.create_user("bob", password=PASSWORD)
    prepared = services.prepare(kind="manifest", manifest=MANIFEST, kubernetes_version="1.37")
    return services.create_review(author=ada, title=title, prepared=prepared)


@pytest.fixture
def login_as(browser: Browser, live_server, request) -> Iterator[Callable[[str], Page]]:
    """A logged-in page per user, each in its own browser context (its own cookies); each page
    is saved as a screenshot in test-artifacts/ at the end, as the `page` fixture does."""
    contexts = []
    pages: list[tuple[str, Page]] = []

    def login(username: str) -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.base = live_server.url  # type: ignore[attr-defined]
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("nav.account")).to_contain_text(username)
        pages.append((username, page))
        return page

    yield login
    ARTIFACTS.mkdir(exist_ok=True)
    for username, page in pages:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{request.node.name}-{username}")
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    for context in contexts:
        context.close()


def edit_manifest(page: Page, review: Review, new_text: str) -> None:
    page.goto(f"{page.base}{review.get_absolute_url()}edit/")  # type: ignore[attr-defined]
    page.fill("#id_manifest", new_text)
    page.get_by_role("button", name="Save as a new revision").click()
    expect(page.locator("h1")).to_have_text(review.title)


@pytest.mark.django_db(transaction=True)
def test_a_reviewer_requests_changes_then_approves_the_new_revision(
    page: Page, problems, login_as
) -> None:
    review = make_review()
    url = review.get_absolute_url()
    ada = page
    ada.goto(f"{ada.base}/accounts/login/")  # type: ignore[attr-defined]
    ada.fill("#id_username", "ada")
    ada.fill("#id_password", PASSWORD)
    ada.get_by_role("button", name="Log in").click()
    ada.goto(f"{ada.base}{url}")  # type: ignore[attr-defined]
    # The author has no verdict form: a colleague approves.
    expect(ada.locator(".verdict-form")).to_have_count(0)
    ada.fill("#id_reviewers", "bob")
    ada.get_by_role("button", name="Request review").click()
    expect(ada.locator("#workflow .reviewer")).to_contain_text("bob: waiting")
    expect(ada.locator("#workflow-status")).to_have_text("In review")

    bob = login_as("bob")
    bob.goto(f"{bob.base}{url}")  # type: ignore[attr-defined]
    bob.get_by_label("Requested changes").check()
    bob.fill("#workflow textarea", "Pin the image to 1.28.")
    bob.get_by_role("button", name="Submit verdict").click()
    expect(bob.locator("#workflow-status")).to_have_text("Changes requested")
    # The header's status follows without a reload (an out-of-band swap).
    expect(bob.locator("#review-status")).to_have_text("Changes requested")
    expect(bob.locator("#review-status")).to_have_count(1)
    expect(bob.locator("#workflow .events")).to_contain_text("requested changes: Pin the image")

    edit_manifest(ada, review, MANIFEST.replace("1.27", "1.28"))
    expect(ada.locator("#review-revision")).to_have_text("revision 2")
    # A new revision resets the verdicts.
    expect(ada.locator("#workflow-status")).to_have_text("In review")
    expect(ada.locator("#workflow .reviewer")).to_contain_text("waiting")

    bob.reload()
    bob.get_by_label("Approved").check()
    bob.get_by_role("button", name="Submit verdict").click()
    expect(bob.locator("#workflow-status")).to_have_text("Approved")
    ada.reload()
    expect(ada.locator("#review-status")).to_have_text("Approved")
    expect(ada.locator("#workflow .events")).to_contain_text("bob approved")
    assert problems.errors == []


@pytest.mark.django_db(transaction=True)
def test_a_line_comment_becomes_outdated_when_the_line_changes(login_as) -> None:
    review = make_review()
    url = review.get_absolute_url()
    bob = login_as("bob")
    bob.goto(f"{bob.base}{url}")  # type: ignore[attr-defined]
    bob.get_by_role("link", name="Comment on line 8").click()
    bob.fill("#line-body-8", "Why this exact tag?")
    bob.get_by_role("button", name="Comment on line 8").click()
    beside = bob.locator('#manifest tr.line-comments[data-line="8"]')
    expect(beside).to_contain_text("Why this exact tag?")
    expect(beside).not_to_contain_text("Outdated")
    # The timeline follows without a reload.
    expect(bob.locator("#timeline-events")).to_contain_text("bob commented: line 8")

    ada = login_as("ada")
    edit_manifest(ada, review, MANIFEST.replace("1.27", "1.28"))
    # Gone from beside line 8, kept in the discussion against revision 1's line.
    expect(ada.locator('#manifest tr.line-comments[data-line="8"]')).to_have_count(0)
    thread = ada.locator("#comments article.thread.outdated")
    expect(thread).to_contain_text("Outdated")
    expect(thread).to_contain_text("Line 8 of revision 1: image: nginx:1.27")
    expect(thread).to_contain_text("Why this exact tag?")
    thread.get_by_placeholder("Reply").fill("Bumped to 1.28.")
    thread.get_by_role("button", name="Reply").click()
    expect(ada.locator("#comments article.thread.outdated")).to_contain_text("Bumped to 1.28.")
    ada.locator("#comments article.thread.outdated").get_by_role("button", name="Resolve").click()
    expect(ada.locator("#comments article.thread.outdated")).to_contain_text("Resolved by ada")


@pytest.mark.django_db(transaction=True)
def test_a_soft_delete_and_its_undo(login_as) -> None:
    review = make_review("Quokka service")
    ada = login_as("ada")
    ada.goto(f"{ada.base}{review.get_absolute_url()}")  # type: ignore[attr-defined]
    ada.get_by_role("link", name="Delete…").click()
    expect(ada.locator("h1")).to_have_text("Delete “Quokka service”?")
    ada.get_by_role("button", name="Delete the review").click()
    expect(ada.locator("h1")).to_have_text("Recently deleted")
    expect(ada.locator(".messages")).to_contain_text("was deleted")
    ada.goto(f"{ada.base}/reviews/")  # type: ignore[attr-defined]
    expect(ada.locator("main")).not_to_contain_text("Quokka service")
    bob = login_as("bob")
    response = bob.goto(f"{bob.base}{review.get_absolute_url()}")  # type: ignore[attr-defined]
    assert response is not None and response.status == 404
    ada.goto(f"{ada.base}/reviews/deleted/")  # type: ignore[attr-defined]
    ada.get_by_role("button", name="Restore Quokka service").click()
    expect(ada.locator("h1")).to_have_text("Quokka service")
    expect(ada.locator(".messages")).to_contain_text("was restored")
    ada.goto(f"{ada.base}/reviews/")  # type: ignore[attr-defined]
    expect(ada.locator("main")).to_contain_text("Quokka service")


@pytest.mark.django_db(transaction=True)
def test_a_title_only_edit_is_no_new_revision(login_as) -> None:
    review = make_review()
    ada = login_as("ada")
    ada.goto(f"{ada.base}{review.get_absolute_url()}edit/")  # type: ignore[attr-defined]
    ada.fill("#id_title", "Web pod, renamed")
    ada.get_by_role("button", name="Save as a new revision").click()
    expect(ada.locator("h1")).to_have_text("Web pod, renamed")
    expect(ada.locator("#review-revision")).to_have_text("revision 1")
    expect(ada.get_by_role("link", name="History (1 revision)")).to_be_visible()
    review.refresh_from_db()
    assert review.revisions.count() == 1 and "\r" not in review.manifest


OVERFLOW = """() => {
  // The page never scrolls sideways; wide content scrolls inside its own box (the manifest).
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    // Inside an SVG, the drawing's own viewport clips what lies beyond it; the svg is checked.
    if (el.parentElement && el.parentElement.closest('.code-scroll, pre, svg')) continue;
    const r = el.getBoundingClientRect();
    if (r.right > width + 1) wide.push(el.tagName + '.' + el.className);
  }
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5)};
}"""


@pytest.mark.django_db(transaction=True)
def test_the_workflow_pages_fit_a_phone(browser: Browser, live_server) -> None:
    review = make_review("A rather long review title that has to wrap on a phone screen")
    bob = User.objects.get(username="bob")
    ada = User.objects.get(username="ada")
    services.request_review(review, by=ada, reviewers=[bob])
    services.give_verdict(review, reviewer=bob, verdict="changes", body="x" * 300)
    thread = services.add_comment(review, author=bob, body="y " * 200, line=8)
    services.add_comment(review, author=ada, body="a reply", parent=thread)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "ada")
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Log in").click()
        deleted = services.soft_delete(make_other_review(ada), by=ada)
        for path in (
            review.get_absolute_url(),
            f"{review.get_absolute_url()}?line=4",
            f"{review.get_absolute_url()}delete/",
            deleted.get_absolute_url(),
            "/reviews/mine/",
            "/reviews/deleted/",
        ):
            page.goto(f"{live_server.url}{path}")
            found = page.evaluate(OVERFLOW)
            assert found["scroll"] <= found["width"], (path, found)
            assert found["wide"] == [], (path, found)
    finally:
        context.close()


def make_other_review(author: User) -> Review:
    prepared = services.prepare(kind="manifest", manifest=MANIFEST, kubernetes_version="1.37")
    return services.create_review(author=author, title="Binned one", prepared=prepared)
