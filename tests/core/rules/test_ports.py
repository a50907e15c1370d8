"""Rules about the network namespace the containers of a pod share."""

from __future__ import annotations

from advisor.core.analyze import analyze_text
from tests.core.rules.fixtures_test_helpers import analyze_manifest, corpus_text, findings, manifest

ISTIO_NATIVE = "istio__istio__pkg__kube__inject__testdata__inject__native-sidecar.yaml.injected"


def test_it_finds_the_user_sidecar_and_the_app_both_on_port_80_in_istio_injection() -> None:
    report = analyze_text(corpus_text(ISTIO_NATIVE), file="native-sidecar.yaml.injected")
    (finding,) = findings(report, "duplicate-container-port")
    assert finding.severity == "error"
    assert finding.container == "hello"
    assert finding.line == 22
    assert "'other-sidecar' and 'hello' both declare port 80/TCP" in finding.message


def test_it_names_the_two_containers_and_the_port() -> None:
    (finding,) = findings(
        analyze_manifest("ports-duplicate-container-port.yaml"), "duplicate-container-port"
    )
    assert finding.container == "statsd-exporter"
    assert "'checkout' and 'statsd-exporter' both declare port 9102/TCP" in finding.message


def test_it_treats_the_same_number_over_udp_and_tcp_as_different_ports() -> None:
    text = manifest("dont-fire-ports-duplicate-container-port.yaml").replace(
        "containerPort: 9102", "containerPort: 9125"
    )
    assert findings(analyze_text(text), "duplicate-container-port") == []
    tcp = text.replace("              protocol: UDP\n", "")
    assert [f.container for f in findings(analyze_text(tcp), "duplicate-container-port")] == [
        "statsd-exporter"
    ]


def test_it_sees_a_collision_once_the_init_container_becomes_a_native_sidecar() -> None:
    text = manifest("dont-fire-ports-init-container-reuses-port.yaml")
    assert findings(analyze_text(text), "duplicate-container-port") == []
    sidecar = text.replace(
        "    - name: import-realm\n", "    - name: import-realm\n      restartPolicy: Always\n"
    )
    (finding,) = findings(analyze_text(sidecar), "duplicate-container-port")
    assert finding.container == "keycloak"
