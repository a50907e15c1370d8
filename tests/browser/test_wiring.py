"""The wiring diagram in a real browser: selecting a finding highlights its edge."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.test_analyser import analyse
from tests.conftest import FIXTURES

TYPO = FIXTURES / "manifests" / "ports-local-port-typo.yaml"
DAPR = FIXTURES / "manifests" / "dont-fire-ports-local-port-typo.yaml"


def test_selecting_a_finding_highlights_its_edge(page: Page, problems) -> None:
    analyse(page, TYPO.read_text())
    diagram = page.locator("article.workload").first.locator("svg.wiring-svg")
    expect(diagram).to_be_visible()
    loose = diagram.locator(".wiring-dangling")
    expect(loose).not_to_have_class(re.compile("is-highlighted"))
    finding = page.locator("li.finding", has_text="local-port-typo")
    finding.locator("p.message").click()
    expect(finding).to_have_class(re.compile("is-selected"))
    expect(loose).to_have_class(re.compile("is-highlighted"))
    finding.locator("p.message").click()  # a second click clears the selection
    expect(loose).not_to_have_class(re.compile("is-highlighted"))
    assert problems.errors == []


def test_the_diagram_fits_a_phone(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    analyse(page, DAPR.read_text())
    diagram = page.locator("svg.wiring-svg").first
    box = diagram.bounding_box()
    assert box is not None and box["width"] <= 390
    assert box["width"] >= 300  # drawn at (nearly) full width, labels stay legible
    finding = page.locator("li.finding", has_text="sidecar-without-startup-probe")
    finding.locator("p.message").click()
    edge = diagram.locator('.wiring-edge[data-from="checkout"][data-to="daprd"]')
    expect(edge).to_have_class(re.compile("is-highlighted"))
