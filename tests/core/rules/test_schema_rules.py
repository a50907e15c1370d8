"""Rules fed by validation against the target version's OpenAPI schema."""

from __future__ import annotations

from advisor.core.analyze import analyze_text
from tests.core.rules.fixtures_test_helpers import analyze_manifest, findings, manifest


def test_it_suggests_init_containers_for_a_misspelt_init_container() -> None:
    (finding,) = findings(analyze_manifest("schema-unknown-field.yaml"), "unknown-field")
    assert finding.severity == "error"
    assert finding.line == 18
    assert finding.message == (
        "spec.template.spec.initContainer: unknown field 'initContainer' "
        "(did you mean 'initContainers'?)"
    )


def test_it_says_from_which_version_a_field_exists() -> None:
    name = "dont-fire-versions-native-sidecar-requires-version.yaml"
    (finding,) = findings(analyze_manifest(name, kubernetes_version=(1, 27)), "unknown-field")
    assert finding.line == 29
    assert "'restartPolicy' is not available in Kubernetes 1.27; it exists from 1.28" in (
        finding.message
    )
    assert findings(analyze_manifest(name, kubernetes_version=(1, 28)), "unknown-field") == []


def test_it_reports_the_expected_type_of_a_field() -> None:
    (finding,) = findings(analyze_manifest("schema-invalid-field.yaml"), "invalid-field")
    assert finding.severity == "error"
    assert finding.message == (
        "spec.template.spec.terminationGracePeriodSeconds: expected an integer, got string '60s'"
    )


def test_it_reports_a_map_where_the_schema_wants_a_list() -> None:
    text = manifest("dont-fire-schema-invalid-field.yaml").replace(
        "          image: nginx:1.27.2\n",
        "          image: nginx:1.27.2\n          env:\n            LOG_LEVEL: debug\n",
    )
    (finding,) = findings(analyze_text(text), "invalid-field")
    assert finding.line == 21
    assert finding.message == (
        "spec.template.spec.containers[0].env: expected an array, got an object"
    )
    assert findings(analyze_text(text), "unknown-field") == []
