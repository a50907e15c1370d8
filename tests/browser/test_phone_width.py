"""Every page at phone width (390 px): nothing overflows sideways except inside a scrollable
box (a table, a code view), and the header does not cover the page title."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Browser

from tests.conftest import CORPUS
from webui import services

LEGACY_JOB = (
    CORPUS / "kubernetes__website__content__en__examples__application__job__job-sidecar-legacy.yaml"
).read_text()
WIDTH = 390

# Elements wider than the screen that lie outside every scrollable box.
OVERFLOW = """
(width) => {
  const scrolls = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (/(auto|scroll)/.test(s.overflowX) && p.scrollWidth > p.clientWidth - 1) return true;
      if (/(auto|scroll|hidden|clip)/.test(s.overflowX) && p !== document.body
          && p !== document.documentElement) return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || getComputedStyle(el).visibility === "hidden") continue;
    if (r.right > width + 1 && !scrolls(el)) {
      const cls = typeof el.className === "string" && el.className
        ? "." + el.className.split(" ")[0] : "";
      out.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${cls}`
        + ` (${Math.round(r.left)}..${Math.round(r.right)})`);
    }
  }
  return { scrollWidth: document.documentElement.scrollWidth, offenders: out.slice(0, 10) };
}
"""


@pytest.fixture
def phone(browser: Browser, live_server):
    context = browser.new_context(
        viewport={"width": WIDTH, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def check(page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    found = page.evaluate(OVERFLOW, WIDTH)
    assert found["scrollWidth"] <= WIDTH, (url, found)
    assert found["offenders"] == [], (url, found)
    title = page.locator("main h1").first
    if title.count():
        header = page.locator("header.site").bounding_box()
        box = title.bounding_box()
        assert header is None or box is None or box["y"] >= header["y"] + header["height"] - 1, url


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_page_fits_a_phone(phone, live_server) -> None:
    base = live_server.url
    user = User.objects.create_user("ada", password="pw-ada-123456", is_staff=True)
    prepared = services.prepare(kind="manifest", manifest=LEGACY_JOB, kubernetes_version="1.37")
    review = services.create_review(author=user, title="Job review", prepared=prepared, tags=["t"])
    changed = LEGACY_JOB.replace("restartPolicy: Never", "restartPolicy: OnFailure")
    services.revise(
        review,
        author=user,
        expected_version=review.version,
        prepared=services.prepare(kind="manifest", manifest=changed, kubernetes_version="1.37"),
    )

    check(phone, f"{base}/accounts/login/")
    for path in ("/", "/questionnaire/?need=outbound-proxy", "/rules/", "/patterns/"):
        check(phone, base + path)
    check(phone, f"{base}/patterns/native-sidecar/")
    # The analyser with a result in it.
    phone.goto(f"{base}/analyze/")
    phone.fill("#id_manifest", LEGACY_JOB)
    phone.click("#analyze-form button.primary")
    phone.locator("#result article.workload .chart[data-drawn='1']").first.wait_for()
    found = phone.evaluate(OVERFLOW, WIDTH)
    assert found["scrollWidth"] <= WIDTH and found["offenders"] == [], found

    client = Client()
    client.force_login(user)
    phone.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )
    slug = review.slug
    for path in (
        f"/r/{slug}/",
        "/reviews/",
        f"/r/{slug}/edit/",
        f"/r/{slug}/history/",
        "/reviews/stats/",
    ):
        check(phone, base + path)
