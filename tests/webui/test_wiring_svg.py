"""The wiring diagram: a pure function from the analysis to escaped, server-rendered SVG."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest
from django.test import Client
from django.urls import reverse

from advisor.core.analyze import analyze_text
from tests.conftest import FIXTURES
from webui.wiring_svg import wiring_svg

TYPO = (FIXTURES / "manifests" / "ports-local-port-typo.yaml").read_text(encoding="utf-8")
HOSTILE = """
apiVersion: v1
kind: Pod
metadata: {name: "x"}
spec:
  shareProcessNamespace: true
  containers:
    - name: "<script>alert(1)</script>"
      image: example/a
      ports: [{containerPort: 8080}]
    - name: "b&amp"
      image: example/b
      env: [{name: U, value: "http://localhost:8080/<img src=x onerror=alert(1)>"}]
"""


def test_it_draws_boxes_arrows_ports_and_loose_ends() -> None:
    (w,) = analyze_text(TYPO).workloads
    svg = wiring_svg(w, index=3)
    root = ElementTree.fromstring(svg)  # well-formed XML
    assert root.tag.endswith("svg") and root.get("data-wiring") == "3"
    names = re.findall(r'class="wiring-name">([^<]+)<', svg)
    assert names == ["checkout", "daprd"]
    assert 'data-from="daprd" data-to="checkout"' in svg  # daprd --app-port 8080
    assert ">8080</text>" in svg  # the arrow's label
    assert ":3050?" in svg  # the call that reaches nothing
    assert "local-port-typo:checkout" in svg  # the finding that edge belongs to
    assert ":3500</text>" in svg  # daprd's declared port on the pod's border


def test_it_escapes_every_label() -> None:
    (w,) = analyze_text(HOSTILE).workloads
    svg = wiring_svg(w)
    ElementTree.fromstring(svg)
    assert "<script>" not in svg and "<img" not in svg
    assert "&lt;script&gt;" in svg and "b&amp;amp" in svg


def test_it_draws_nothing_for_a_single_container() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
        "spec:\n  containers: [{name: a, image: i}]\n"
    )
    (w,) = analyze_text(text).workloads
    assert wiring_svg(w) == ""


def test_it_stays_bounded_on_a_pod_with_hundreds_of_containers() -> None:
    containers = "".join(
        f"    - {{name: c{i}, image: busybox, ports: [{{containerPort: {10000 + i}}}], "
        f"env: [{{name: N, value: 'localhost:{10000 + (i + 1) % 199}'}}]}}\n"
        for i in range(199)  # the budget's most containers in one pod is 200
    )
    text = f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n{containers}"
    (w,) = analyze_text(text).workloads
    svg = wiring_svg(w)
    assert svg.count('class="wiring-box') == 40
    assert "+159 more container(s) not drawn" in svg


@pytest.mark.django_db
def test_the_result_fragment_includes_the_diagram(client: Client) -> None:
    response = client.post(
        reverse("analyze"),
        {"manifest": HOSTILE, "kubernetes_version": "1.33"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert '<svg class="wiring-svg"' in body
    assert "<script>alert" not in body
    assert "Wiring" in body and "as text" in body
