"""The analyser in a real browser: charts drawn, lines highlighted, fixes applied, no XSS."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.conftest import CORPUS

LEGACY_JOB = (
    CORPUS / "kubernetes__website__content__en__examples__application__job__job-sidecar-legacy.yaml"
)
ISTIO_JOB = (
    CORPUS / "istio__istio__pkg__kube__inject__testdata__inject__job-old-version.yaml.injected"
)
NATIVE_SIDECARS = (
    CORPUS / "istio__istio__pkg__kube__inject__testdata__inject__native-sidecar.yaml.injected"
)


def open_analyser(page: Page) -> None:
    page.goto(f"{page.base}/analyze/")  # type: ignore[attr-defined]


def analyse(page: Page, text: str) -> None:
    open_analyser(page)
    page.fill("#id_manifest", text)
    page.click("#analyze-form button.primary")
    expect(page.locator("#result article.workload").first).to_be_visible()


def test_it_draws_both_gantt_charts_and_the_resource_charts(page: Page, problems) -> None:
    analyse(page, NATIVE_SIDECARS.read_text())
    charts = page.locator("article.workload").first.locator(".chart")
    expect(charts).to_have_count(4)
    for i in range(4):
        chart = charts.nth(i)
        expect(chart).to_have_attribute("data-drawn", "1")
        expect(chart.locator("svg.main-svg").first).to_be_attached()
    for key in ("startup", "shutdown"):
        chart = page.locator(f'.chart[data-figure="chart-0-{key}"]')
        labels = chart.locator(".ytick text").evaluate_all("els => els.map(e => e.textContent)")
        expected = {"hello", "istio-proxy", "other-sidecar"} | (
            {"istio-init"} if key == "startup" else set()
        )
        assert expected <= set(labels), labels
        assert chart.locator(".bars .point").count() >= len(expected)
    stacked = page.locator('.chart[data-figure="chart-0-resources-cpu"] .bars .point')
    assert stacked.count() >= 2
    assert problems.errors == []


def test_it_highlights_the_line_of_a_clicked_finding(page: Page) -> None:
    analyse(page, LEGACY_JOB.read_text())
    finding = page.locator("li.finding", has_text="classic-sidecar-blocks-job")
    finding.locator("a.line-link").click()
    line = page.locator("ol.code li#L15")
    expect(line).to_have_class(re.compile("highlight"))
    expect(line).to_be_in_viewport()
    selected = page.evaluate(
        "() => { const t = document.querySelector('#id_manifest');"
        " return t.value.substring(t.selectionStart, t.selectionEnd); }"
    )
    assert "logshipper" in selected


def test_it_applies_a_fix_and_the_finding_disappears(page: Page) -> None:
    analyse(page, LEGACY_JOB.read_text())
    finding = page.locator("li.finding", has_text="classic-sidecar-blocks-job")
    finding.get_by_role("button", name="Show the fix").click()
    diff = page.locator("pre.diff")
    expect(diff).to_contain_text("restartPolicy: Always")
    page.get_by_role("button", name="Analyse the patched manifest").click()
    expect(page.locator("#id_manifest")).to_have_value(re.compile("restartPolicy: Always"))
    expect(page.locator("#result article.workload")).to_have_count(1)
    expect(page.locator("#result")).not_to_contain_text("classic-sidecar-blocks-job")
    expect(page.locator("#result .lc-native-sidecar").first).to_be_visible()


def test_it_analyses_with_ctrl_enter_and_keeps_the_text(page: Page) -> None:
    open_analyser(page)
    page.fill("#id_manifest", "kind: Pod\nspec: [broken\n")
    page.press("#id_manifest", "Control+Enter")
    expect(page.locator("#result .alert.error")).to_contain_text("line")
    expect(page.locator("#id_manifest")).to_have_value("kind: Pod\nspec: [broken\n")


def test_it_reads_an_uploaded_file_into_the_box(page: Page, tmp_path) -> None:
    upload = tmp_path / "istio-job.yaml"
    upload.write_text(ISTIO_JOB.read_text())
    open_analyser(page)
    page.set_input_files("#id_upload", str(upload))
    expect(page.locator("#id_manifest")).to_have_value(re.compile("istio-proxy"))
    page.click("#analyze-form button.primary")
    expect(page.locator("#result")).to_contain_text("classic-sidecar-blocks-job")


def test_it_resimulates_when_an_assumption_changes(page: Page) -> None:
    analyse(page, ISTIO_JOB.read_text())
    before = page.locator("#result").inner_text()
    page.fill("#id_init_run_seconds", "30")
    page.locator("#id_init_run_seconds").dispatch_event("change")
    expect(page.locator("#result details.assumptions")).to_contain_text("30s")
    assert page.locator("#result").inner_text() != before


def test_it_downloads_a_chart_as_png_offline(page: Page) -> None:
    analyse(page, LEGACY_JOB.read_text())
    chart = page.locator('.chart[data-figure="chart-0-startup"]')
    chart.hover()
    with page.expect_download() as download_info:
        chart.locator('.modebar-btn[data-title="Download plot as a PNG"]').click()
    download = download_info.value
    assert download.suggested_filename.endswith(".png")
    assert download.path().read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
