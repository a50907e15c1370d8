"""Hostile names pasted into the analyser never run as script, in the page or in the charts."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
]


def hostile_manifest(payload: str) -> str:
    quoted = payload.replace("'", "''")
    return (
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n"
        f"  name: '{quoted}'\n  namespace: '{quoted}'\n"
        f"  annotations: {{note: '{quoted}'}}\n"
        "spec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n"
        f"      - name: '{quoted}'\n        image: '{quoted}'\n"
        "        command: ['sh', '-c', 'tail -F /x']\n"
        f"      - name: 'b{quoted}'\n        image: busybox\n"
        "        command: ['sh', '-c', 'tail -F /y']\n"
    )


@pytest.mark.parametrize("payload", PAYLOADS)
def test_it_never_runs_a_pasted_payload(page: Page, problems, payload: str) -> None:
    page.goto(f"{page.base}/analyze/")  # type: ignore[attr-defined]
    page.fill("#id_manifest", hostile_manifest(payload))
    page.click("#analyze-form button.primary")
    expect(page.locator("#result article.workload")).to_have_count(1)
    expect(page.locator('.chart[data-drawn="1"]')).to_have_count(4)
    # hover over every Gantt bar so plotly renders the hover labels too
    for bar in page.locator(".chart .bars .point").all()[:12]:
        bar.hover(force=True)
    page.wait_for_timeout(300)
    assert problems.dialogs == []
    assert (
        page.evaluate("() => document.querySelectorAll('#result script:not([type])').length") == 0
    )
    assert page.locator("#result").inner_text().count(payload.strip('"><')) >= 1
    page.get_by_role("button", name="Show the fix").first.click()
    expect(page.locator("pre.diff")).to_be_visible()
    assert problems.dialogs == []


def test_it_loads_every_page_without_console_errors(page: Page, problems) -> None:
    for path in (
        "/",
        "/analyze/",
        "/questionnaire/",
        "/rules/",
        "/patterns/",
        "/patterns/native-sidecar/",
    ):
        page.goto(f"{page.base}{path}")  # type: ignore[attr-defined]
        page.wait_for_load_state("networkidle")
    expect(page.locator('.chart[data-drawn="1"]').first).to_be_visible()
    assert problems.errors == [], problems.errors
