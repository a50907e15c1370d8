"""Rules about HorizontalPodAutoscalers and the pods they scale."""

from __future__ import annotations

from advisor.core.analyze import analyze, analyze_text
from tests.core.rules.fixtures_test_helpers import (
    analyze_manifest,
    corpus_text,
    findings,
    manifest,
    suppressed,
)

TORTOISE = "mercari__tortoise__api__v1beta3__testdata__validating__success-with-istio__"
MULTI = "hpa-resource-metric-on-multi-container-pod.yaml"


def _split(text: str) -> tuple[str, str]:
    """Return the workload document and the HPA document of a two-document fixture."""
    workload, hpa = text.split("\n---\n")
    return workload + "\n", hpa


def test_it_warns_that_a_resource_metric_averages_every_container() -> None:
    (finding,) = findings(analyze_manifest(MULTI), "hpa-resource-metric-on-multi-container-pod")
    assert finding.severity == "warning"
    assert "HPA 'web' scales on pod-wide cpu utilisation of 2 containers" in finding.message
    assert "(nginx, fluent-bit)" in finding.message


def test_it_links_an_hpa_in_another_file_and_points_into_that_file() -> None:
    workload, hpa = _split(manifest(MULTI))
    report = analyze([("deploy.yaml", workload), ("hpa.yaml", hpa)])
    (finding,) = findings(report, "hpa-resource-metric-on-multi-container-pod")
    assert finding.file == "hpa.yaml"
    assert finding.line == 13
    assert report.workloads[0].hpas == ("web",)


def test_it_skips_an_hpa_whose_target_is_in_another_namespace() -> None:
    workload, hpa = _split(manifest(MULTI))
    hpa = hpa.replace("  name: web\nspec:", "  name: web\n  namespace: staging\nspec:")
    report = analyze([("deploy.yaml", workload), ("hpa.yaml", hpa)])
    assert [f.rule for f in findings(report) if f.rule.startswith("hpa-")] == []
    assert [s.kind for s in report.skipped] == ["HorizontalPodAutoscaler"]
    assert "is not in the input" in report.skipped[0].reason
    assert report.workloads[0].hpas == ()


def test_it_counts_a_native_sidecar_but_not_a_plain_init_container() -> None:
    native = (
        manifest(MULTI)
        .replace("      containers:\n", "      initContainers:\n", 1)
        .replace(
            "        - name: fluent-bit\n",
            "      containers:\n        - name: fluent-bit\n",
        )
    )
    # nginx is now a plain init container: only fluent-bit runs, so nothing is averaged
    assert findings(analyze_text(native), "hpa-resource-metric-on-multi-container-pod") == []
    native = native.replace(
        "          image: nginx:1.27.2\n",
        "          image: nginx:1.27.2\n          restartPolicy: Always\n",
    )
    (finding,) = findings(analyze_text(native), "hpa-resource-metric-on-multi-container-pod")
    assert "of 2 containers (nginx, fluent-bit)" in finding.message


def test_it_finds_the_injected_istio_proxy_missing_from_the_tortoise_pair() -> None:
    report = analyze(
        [
            ("deployment.yaml", corpus_text(TORTOISE + "deployment.yaml")),
            ("hpa.yaml", corpus_text(TORTOISE + "hpa.yaml")),
        ]
    )
    (finding,) = findings(report, "hpa-container-not-found")
    assert finding.severity == "warning"  # an injected sidecar: likely there at run time
    assert finding.file == "hpa.yaml"
    assert finding.line == 23
    assert (
        "measures container 'istio-proxy', which is not in Deployment 'sample'" in finding.message
    )
    assert "(hoge, nginx)" in finding.message
    assert "injected at admission" in finding.message


def test_it_makes_a_misspelt_container_name_an_error() -> None:
    (finding,) = findings(
        analyze_manifest("hpa-container-not-found.yaml"), "hpa-container-not-found"
    )
    assert finding.severity == "error"
    assert (
        "container 'web', which is not in Deployment 'web' (fluent-bit, nginx)" in finding.message
    )


def test_it_names_the_containers_without_the_request_the_hpa_needs() -> None:
    report = analyze_manifest("hpa-target-missing-request.yaml")
    (finding,) = findings(report, "hpa-target-missing-request")
    assert finding.severity == "error"
    assert "HPA 'api' targets cpu utilisation, but 'api' set no cpu request" in finding.message


def test_it_needs_the_request_only_on_the_container_a_container_metric_names() -> None:
    text = manifest("dont-fire-hpa-resource-metric-on-multi-container-pod.yaml").replace(
        "              cpu: 50m\n", ""
    )
    assert findings(analyze_text(text), "hpa-target-missing-request") == []
    pod_wide = manifest(MULTI).replace("              cpu: 50m\n", "")
    (finding,) = findings(analyze_text(pod_wide), "hpa-target-missing-request")
    assert "'fluent-bit' set no cpu request" in finding.message


def test_it_suppresses_hpa_findings_ignored_on_the_target_workload() -> None:
    text = manifest(MULTI).replace(
        "  name: web\nspec:\n  selector:",
        "  name: web\n  annotations:\n"
        "    pod-advisor.io/ignore: hpa-resource-metric-on-multi-container-pod\n"
        "spec:\n  selector:",
    )
    report = analyze_text(text)
    assert findings(report, "hpa-resource-metric-on-multi-container-pod") == []
    assert len(suppressed(report, "hpa-resource-metric-on-multi-container-pod")) == 1
