"""Hostile text saved in a review (title, description, tags, comments, revision note, manifest
names, the user's own name) never runs as script in a real browser, on any page that shows it,
charts and hover labels included, and the content security policy is never violated."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from webui import services
from webui.models import Comment

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SVG = '"><svg onload=alert(1)>'
ALL = f"{SCRIPT} {IMG} {SVG}"
JS_LINK = "javascript:alert(1)"
PASSWORD = "correct horse battery"
USERNAME = "eve<img src=x onerror=alert(1)>"


def q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# A Job whose log shipper is a classic sidecar (a fixable error), every name hostile.
MANIFEST = f"""\
apiVersion: batch/v1
kind: Job
metadata:
  name: {q(SCRIPT)}
  namespace: {q(SVG)}
  labels: {{app: {q(IMG)}}}
  annotations: {{note: {q(ALL)}, pod-advisor.io/ignore: {q(IMG)}}}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: {q(IMG)}
        image: {q(SVG)}
        command: ['sh', '-c', {q(SCRIPT)}]
        env:
        - {{name: {q(SCRIPT)}, value: {q(IMG)}}}
        volumeMounts:
        - {{name: {q(SVG)}, mountPath: /data}}
      - name: {q(SVG + "b")}
        image: busybox
        command: ['sh', '-c', 'tail -F /data/log']
        volumeMounts:
        - {{name: {q(SVG)}, mountPath: /data}}
      volumes:
      - name: {q(SVG)}
        emptyDir: {{}}
"""


def hover_every_bar(page: Page) -> None:
    """Hover chart bars so plotly renders its hover labels (HTML) too."""
    expect(page.locator('.chart[data-drawn="1"]').first).to_be_visible()
    for bar in page.locator(".chart .bars .point").all()[:16]:
        bar.hover(force=True)
        page.wait_for_timeout(30)


def assert_nothing_ran(page: Page, problems) -> None:
    assert problems.dialogs == [], problems.dialogs
    assert problems.errors == [], problems.errors  # console errors, CSP violations included
    assert page.locator('a[href^="javascript:" i]').count() == 0
    inline = "() => document.querySelectorAll('script:not([src]):not([type])').length"
    assert page.evaluate(inline) == 0
    assert page.evaluate("() => document.querySelectorAll('[onerror], [onload]').length") == 0


@pytest.mark.django_db(transaction=True)
def test_hostile_review_text_never_runs_anywhere(page: Page, problems) -> None:
    author = User.objects.create_user(USERNAME, password=PASSWORD)
    prepared = services.prepare(kind="manifest", manifest=MANIFEST, kubernetes_version="1.37")
    review = services.create_review(
        author=author,
        title=ALL,
        description=f"{ALL}\n{JS_LINK}\n[x]({JS_LINK})",
        tags=[SCRIPT, IMG, "ok"],
        prepared=prepared,
    )
    again = services.prepare(
        kind="manifest", manifest=MANIFEST + f"# {ALL}\n", kubernetes_version="1.31"
    )
    review = services.revise(
        review, author=author, expected_version=review.version, prepared=again, note=ALL
    )
    for body in (ALL, JS_LINK, f'<a href="{JS_LINK}">click</a>'):
        Comment.objects.create(review=review, author=author, body=body)
    # The review workflow: a hostile line comment (with the hostile line), a reply, a verdict.
    thread = services.add_comment(review, author=author, body=ALL, line=4)
    services.add_comment(review, author=author, body=JS_LINK, parent=thread)
    critic = User.objects.create_user(f"critic{SVG}", password=PASSWORD)
    services.request_review(review, by=author, reviewers=[critic])
    services.give_verdict(review, reviewer=critic, verdict="changes", body=ALL)
    base = page.base  # type: ignore[attr-defined]

    # log in through the form, with the hostile user name
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", USERNAME)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("nav.account")).to_contain_text(USERNAME)

    slug = review.slug
    page.goto(f"{base}/r/{slug}/")
    expect(page.locator("h1")).to_have_text(ALL)
    expect(page.locator("main")).to_contain_text(JS_LINK)
    expect(page.locator("#manifest")).to_contain_text(SCRIPT)
    page.get_by_role("link", name="Comment on line 4").click()
    expect(page.locator("#line-body-4")).to_be_visible()
    for path in (
        f"/r/{slug}/history/",
        f"/r/{slug}/history/?a=2&b=1",
        f"/r/{slug}/reanalyse/",
        f"/r/{slug}/edit/",
        f"/r/{slug}/delete/",
        "/reviews/mine/",
        "/reviews/",
        "/reviews/?q=alert",
        "/rules/classic-sidecar-blocks-job/reviews/",
    ):
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
    # search as you type (htmx fragment) with hostile words
    page.goto(f"{base}/reviews/")
    page.fill("input[name=q]", SVG)
    page.wait_for_load_state("networkidle")
    for path in ("/reviews/stats/", "/reviews/stats/?by=pattern", f"/reviews/stats/?tag={IMG}"):
        page.goto(f"{base}{path}")
        hover_every_bar(page)
    assert_nothing_ran(page, problems)

    # the analyser, with the same manifest: result, charts, hovers, the fix
    page.goto(f"{base}/analyze/")
    page.fill("#id_manifest", MANIFEST)
    page.click("#analyze-form button.primary")
    expect(page.locator("#result article.workload")).to_have_count(1)
    expect(page.locator('#result .chart[data-drawn="1"]')).to_have_count(4)
    hover_every_bar(page)
    page.get_by_role("button", name="Show the fix").first.click()
    expect(page.locator("pre.diff")).to_be_visible()
    assert re.search(r"restartPolicy: Always", page.locator("pre.diff").inner_text())
    assert_nothing_ran(page, problems)
