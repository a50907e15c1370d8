"""Rules about features the target Kubernetes version may not have."""

from __future__ import annotations

import pytest

from advisor.core.analyze import analyze_text
from tests.core.rules.fixtures_test_helpers import analyze_manifest, corpus_text, findings

SIDECAR = "versions-native-sidecar-requires-version.yaml"
POD_LEVEL = "kubernetes__website__content__en__examples__pods__resource__pod-level-resources.yaml"


def test_it_makes_a_native_sidecar_an_error_on_1_28_and_fine_on_1_29() -> None:
    (finding,) = findings(
        analyze_manifest(SIDECAR, kubernetes_version=(1, 28)), "native-sidecar-requires-version"
    )
    assert finding.severity == "error"
    assert finding.container == "fluent-bit"
    assert "'fluent-bit' is a native sidecar, but in Kubernetes 1.28" in finding.message
    assert "SidecarContainers feature gate" in finding.message
    assert (
        findings(
            analyze_manifest(SIDECAR, kubernetes_version=(1, 29)), "native-sidecar-requires-version"
        )
        == []
    )


def test_it_says_native_sidecars_do_not_exist_before_1_28() -> None:
    (finding,) = findings(
        analyze_manifest(SIDECAR, kubernetes_version=(1, 27)), "native-sidecar-requires-version"
    )
    assert "do not exist yet (alpha in 1.28)" in finding.message


@pytest.mark.parametrize(("version", "fires"), [((1, 32), True), ((1, 33), True), ((1, 34), False)])
def test_it_warns_about_pod_level_resources_before_1_34(
    version: tuple[int, int], fires: bool
) -> None:
    report = analyze_text(corpus_text(POD_LEVEL), kubernetes_version=version)
    found = findings(report, "pod-level-resources-requires-version")
    assert bool(found) is fires
    if fires:
        assert found[0].severity == "warning"
        assert f"Kubernetes 1.{version[1]}" in found[0].message
        assert "the sizing ignores it" in found[0].message


def test_it_ignores_pod_level_resources_in_the_sizing_when_the_feature_is_off() -> None:
    old = analyze_manifest(
        "versions-pod-level-resources-requires-version.yaml", kubernetes_version=(1, 33)
    )
    new = analyze_manifest(
        "versions-pod-level-resources-requires-version.yaml", kubernetes_version=(1, 34)
    )
    assert str(old.workloads[0].sizing.requests["memory"]) == "320Mi"
    assert str(new.workloads[0].sizing.requests["memory"]) == "512Mi"


RESTART = "versions-restart-policy-on-regular-container.yaml"


@pytest.mark.parametrize(
    ("version", "severity", "words"),
    [
        ((1, 25), "error", "do not exist yet (alpha in 1.34)"),
        ((1, 33), "error", "rejects it"),
        ((1, 34), "error", "ContainerRestartRules feature gate"),
        ((1, 35), "info", "does not make the container a sidecar"),
        ((1, 37), "info", "per-container restart policy"),
    ],
)
def test_it_judges_restart_policy_on_a_regular_container_by_version(
    version: tuple[int, int], severity: str, words: str
) -> None:
    (finding,) = findings(
        analyze_manifest(RESTART, kubernetes_version=version), "restart-policy-on-regular-container"
    )
    assert (finding.severity, finding.container) == (severity, "selenium")
    assert words in finding.message


@pytest.mark.parametrize(
    ("api_version", "version", "fires"),
    [
        ("extensions/v1beta1", (1, 25), True),
        ("apps/v1beta2", (1, 30), True),
        ("apps/v1", (1, 37), False),
    ],
)
def test_it_names_removed_workload_apis_and_their_replacement(
    api_version: str, version: tuple[int, int], fires: bool
) -> None:
    text = (
        f"apiVersion: {api_version}\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n"
        "  template:\n    spec:\n      containers: [{name: web, image: nginx}]\n"
    )
    found = findings(analyze_text(text, kubernetes_version=version), "removed-api-version")
    assert bool(found) == fires
    if fires:
        assert found[0].fix == "Use apiVersion: apps/v1." and "1.16" in found[0].message


def test_it_knows_batch_v1beta1_cronjobs_went_away_in_1_25() -> None:
    text = (
        "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: c}\nspec:\n"
        "  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n"
        "          restartPolicy: Never\n          containers: [{name: c, image: busybox}]\n"
    )
    (finding,) = findings(analyze_text(text, kubernetes_version=(1, 25)), "removed-api-version")
    assert "batch/v1" in finding.fix
