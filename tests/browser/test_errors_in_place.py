"""An error on an in-page request never loses the page: the message shows, the text stays.

Run with DEBUG on (the README's ``./dev run``) and off (production): django-htmx's DEBUG helper
used to replace the whole document with the error fragment, so the pasted manifest was gone.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import CORPUS

LEGACY_JOB = (
    CORPUS / "kubernetes__website__content__en__examples__application__job__job-sidecar-legacy.yaml"
).read_text()
BROKEN = "kind: Pod\nspec: [broken\n"

pytestmark = pytest.mark.parametrize("debug", [True, False], ids=["debug-on", "debug-off"])


@pytest.fixture(autouse=True)
def _debug(settings, debug: bool) -> None:
    settings.DEBUG = debug


def open_analyser(page: Page, text: str) -> None:
    page.goto(f"{page.base}/analyze/")  # type: ignore[attr-defined]
    page.fill("#id_manifest", text)


def press_analyse(page: Page) -> None:
    page.click("#analyze-form button.primary")


def assert_page_kept(page: Page, text: str) -> None:
    expect(page.locator("h1")).to_have_text("Analyse a manifest")
    expect(page.locator("#id_manifest")).to_have_value(text)
    expect(page.locator("header.site")).to_be_visible()


def test_unreadable_yaml_shows_the_message_beside_the_box(page: Page, debug: bool) -> None:
    open_analyser(page, BROKEN)
    press_analyse(page)
    expect(page.locator("#result .alert.error")).to_contain_text("line 3")
    assert_page_kept(page, BROKEN)


def test_an_empty_box_asks_for_a_manifest(page: Page, debug: bool) -> None:
    open_analyser(page, "")
    press_analyse(page)
    expect(page.locator("#result .alert.error")).to_be_visible()
    assert_page_kept(page, "")


def test_a_paste_over_the_size_limit_says_so(page: Page, settings, debug: bool) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    big = LEGACY_JOB + "# " + "padding " * 800 + "\n"
    open_analyser(page, big)
    press_analyse(page)
    expect(page.locator("#result .alert.error")).to_contain_text("not read")
    assert_page_kept(page, big)


def test_a_fix_that_cannot_apply_is_explained_in_its_slot(page: Page, debug: bool) -> None:
    open_analyser(page, LEGACY_JOB)
    press_analyse(page)
    button = page.locator("li.finding", has_text="classic-sidecar-blocks-job").get_by_role(
        "button", name="Show the fix"
    )
    # The manifest changed after the analysis: the document the fix names is gone.
    page.fill("#id_manifest", "kind: ConfigMap\n")
    button.click()
    expect(page.locator(".fix-slot .alert.error")).to_be_visible()
    assert_page_kept(page, "kind: ConfigMap\n")
    expect(page.locator("#result article.workload")).to_have_count(1)


def test_a_server_error_keeps_the_page_and_the_result(page: Page, monkeypatch, debug: bool) -> None:
    open_analyser(page, LEGACY_JOB)
    press_analyse(page)
    expect(page.locator("#result article.workload")).to_have_count(1)

    def fail(*args, **kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr("webui.views.run_analysis", fail)
    page.fill("#id_manifest", LEGACY_JOB + "\n")
    press_analyse(page)
    alert = page.locator("#result .request-problem")
    expect(alert).to_contain_text("server failed (500)")
    expect(alert).not_to_contain_text("simulated failure")  # no traceback in the page
    assert_page_kept(page, LEGACY_JOB + "\n")
    expect(page.locator("#result article.workload")).to_have_count(1)


def test_no_connection_says_so_and_keeps_the_text(page: Page, debug: bool) -> None:
    open_analyser(page, LEGACY_JOB)
    page.route("**/analyze/", lambda route: route.abort("connectionfailed"))
    press_analyse(page)
    expect(page.locator("#result .request-problem")).to_contain_text("could not be reached")
    assert_page_kept(page, LEGACY_JOB)
