"""Rules about requests, limits and memory-backed volumes."""

from __future__ import annotations

from advisor.core.analyze import analyze_text
from tests.core.rules.fixtures_test_helpers import analyze_manifest, findings, manifest


def test_it_names_the_container_and_field_of_an_invalid_quantity() -> None:
    (finding,) = findings(analyze_manifest("resources-invalid-quantity.yaml"), "invalid-quantity")
    assert finding.severity == "error"
    assert finding.container == "api"
    assert finding.message.startswith("'api' containers[0].resources.requests.memory: ")
    assert "512MB" in finding.message


def test_it_flags_an_invalid_pod_level_quantity_without_a_container() -> None:
    text = manifest("versions-pod-level-resources-requires-version.yaml").replace(
        "      memory: 512Mi\n    limits:", "      memory: half-a-gig\n    limits:"
    )
    (finding,) = findings(analyze_text(text), "invalid-quantity")
    assert finding.container is None
    assert finding.message.startswith("spec.resources.requests.memory: ")
    assert finding.line == 13


def test_it_shows_the_request_and_the_lower_limit() -> None:
    report = analyze_manifest("resources-request-exceeds-limit.yaml")
    (finding,) = findings(report, "request-exceeds-limit")
    assert finding.container == "api"
    assert finding.message.startswith("'api' requests cpu 1 but is limited to 500m")


def test_it_names_the_helper_and_what_it_does_not_request() -> None:
    report = analyze_manifest("resources-sidecar-missing-requests.yaml")
    (finding,) = findings(report, "sidecar-missing-requests")
    assert finding.severity == "warning"
    assert finding.container == "fluent-bit"
    assert finding.message == "sidecar 'fluent-bit' has no cpu or memory request"


def test_it_names_only_the_missing_resource() -> None:
    text = manifest("dont-fire-resources-sidecar-missing-requests.yaml").replace(
        "              cpu: 50m\n              memory: 64Mi\n", "              memory: 64Mi\n"
    )
    (finding,) = findings(analyze_text(text), "sidecar-missing-requests")
    assert finding.message == "sidecar 'fluent-bit' has no cpu request"
    assert finding.line == 42  # the helper's resources


def test_it_counts_limits_as_requests_only_with_api_defaulting() -> None:
    name = "dont-fire-resources-request-exceeds-limit.yaml"
    assert findings(analyze_manifest(name), "sidecar-missing-requests") == []
    (finding,) = findings(analyze_manifest(name, api_defaults=False), "sidecar-missing-requests")
    assert finding.container == "fluent-bit"


def test_it_warns_about_an_unbounded_memory_volume_and_its_users() -> None:
    report = analyze_manifest("resources-memory-backed-emptydir.yaml")
    (finding,) = findings(report, "memory-backed-emptydir")
    assert finding.severity == "warning"
    assert "volume 'cache' is memory-backed with no sizeLimit (mounted by nginx)" in finding.message


def test_it_only_informs_about_a_memory_volume_with_a_size_limit() -> None:
    text = manifest("resources-memory-backed-emptydir.yaml").replace(
        "            medium: Memory\n", "            medium: Memory\n            sizeLimit: 64Mi\n"
    )
    (finding,) = findings(analyze_text(text), "memory-backed-emptydir")
    assert finding.severity == "info"
    assert "up to 64Mi (mounted by nginx)" in finding.message
    assert finding.line == 36
