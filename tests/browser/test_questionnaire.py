"""The questionnaire in a real browser: answers change the recommendation live."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def test_it_updates_the_recommendation_as_answers_change(page: Page) -> None:
    page.goto(f"{page.base}/questionnaire/")  # type: ignore[attr-defined]
    recommendation = page.locator("#recommendation")
    expect(recommendation).to_contain_text("Choose what the extra container must do")
    page.select_option("#q-need", "setup-before-start")
    expect(recommendation.locator(".pattern-name")).to_have_text("Init container")
    page.select_option("#q-need", "batch-job-helper")
    expect(recommendation.locator(".pattern-name")).not_to_have_text("Init container")
    native = recommendation.locator("pre.starter").inner_text()
    assert "restartPolicy: Always" in native
    page.select_option("#q-kubernetes_version", "1.27")
    expect(recommendation.locator("pre.starter")).not_to_contain_text("restartPolicy: Always")
    assert "need=batch-job-helper" in page.url


def test_it_sends_the_starter_manifest_to_the_analyser(page: Page) -> None:
    page.goto(f"{page.base}/questionnaire/?need=outbound-proxy")  # type: ignore[attr-defined]
    page.fill("#id_app_name", "checkout")
    page.locator("#id_app_name").dispatch_event("change")
    expect(page.locator("#recommendation pre.starter")).to_contain_text("checkout")
    page.get_by_role("button", name="Analyse this manifest").click()
    expect(page.locator("#result article.workload").first).to_be_visible()
    expect(page.locator("#result")).to_contain_text("checkout")
