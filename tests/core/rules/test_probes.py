"""Rules about probes, hooks and start-up gating."""

from __future__ import annotations

from advisor.core.analyze import analyze_text
from tests.core.rules.fixtures_test_helpers import analyze_manifest, findings, manifest


def test_it_says_which_init_container_sets_which_probe() -> None:
    report = analyze_manifest("probes-probe-on-init-container.yaml")
    (finding,) = findings(report, "probe-on-init-container")
    assert finding.severity == "error"
    assert finding.container == "cloud-sql-proxy"
    assert "init container 'cloud-sql-proxy' sets startupProbe" in finding.message
    assert "restartPolicy: Always" in finding.message


def test_it_flags_a_lifecycle_hook_on_a_plain_init_container() -> None:
    text = manifest("dont-fire-probes-probe-on-init-container.yaml").replace(
        "          image: busybox:1.36\n",
        "          image: busybox:1.36\n"
        "          lifecycle:\n"
        "            postStart:\n"
        '              exec: {command: ["sh", "-c", "date"]}\n',
    )
    (finding,) = findings(analyze_text(text), "probe-on-init-container")
    assert finding.container == "wait-for-dns"
    assert "sets lifecycle" in finding.message
    assert finding.line == 20


def test_it_warns_that_the_app_races_a_native_proxy_without_startup_probe() -> None:
    report = analyze_manifest("probes-sidecar-without-startup-probe.yaml")
    (finding,) = findings(report, "sidecar-without-startup-probe")
    assert finding.severity == "warning"
    assert finding.container == "cloud-sql-proxy"
    assert "native sidecar 'cloud-sql-proxy' (ambassador) has no startupProbe" in finding.message


def test_it_does_not_ask_a_log_shipper_for_a_startup_probe() -> None:
    report = analyze_manifest(
        "dont-fire-versions-native-sidecar-requires-version.yaml", kubernetes_version=(1, 29)
    )
    assert report.workloads[0].workload.pod.sidecars
    assert findings(report, "sidecar-without-startup-probe") == []


def test_it_suggests_a_native_sidecar_for_a_classic_proxy_from_1_29_only() -> None:
    name = "workload-classic-sidecar-blocks-job.yaml"
    (finding,) = findings(
        analyze_manifest(name, kubernetes_version=(1, 29)), "sidecar-without-startup-probe"
    )
    assert finding.severity == "info"
    assert finding.container == "cloud-sql-proxy"
    assert "classic sidecar" in finding.message
    assert (
        findings(
            analyze_manifest(name, kubernetes_version=(1, 28)), "sidecar-without-startup-probe"
        )
        == []
    )
