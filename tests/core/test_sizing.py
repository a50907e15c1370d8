"""Effective pod resources: Kubernetes' own vectors, defaulting, QoS, phases."""

from __future__ import annotations

import pytest
import yaml

from advisor.core.model import PodTemplate
from advisor.core.quantity import parse_quantity
from advisor.core.sizing import effective_resources
from tests.conftest import CORPUS, VECTORS

VECTOR_DOC = yaml.safe_load((VECTORS / "k8s-requests-sample.yaml").read_text())
RESOURCE_VECTORS = VECTOR_DOC["vectors"]


def pod_of(manifest: dict) -> PodTemplate:
    return PodTemplate.from_raw(manifest.get("spec"), manifest.get("metadata"), path="spec")


def assert_map(actual: dict, expected: dict, partial: list[str]) -> None:
    keys = set(expected) if partial else set(expected) | set(actual)
    for name in keys:
        if partial and name not in partial:
            continue
        assert name in actual, f"missing {name}: got {actual}"
        assert name in expected, f"unexpected {name}={actual[name]}"
        assert actual[name] == parse_quantity(expected[name]), (name, str(actual[name]))


def test_it_has_the_whole_vector_file() -> None:
    assert len(RESOURCE_VECTORS) >= 24


@pytest.mark.parametrize("vector", RESOURCE_VECTORS, ids=[v["name"] for v in RESOURCE_VECTORS])
def test_it_matches_kubernetes_vector(vector: dict) -> None:
    sizing = effective_resources(pod_of(vector["pod"]), api_defaults=False)
    expect = vector["expect"]
    partial = vector.get("partial", [])
    if "requests" in expect:
        assert_map(sizing.requests, expect["requests"], partial)
    if "limits" in expect:
        assert_map(sizing.limits, expect["limits"], partial)


def sized(text: str, **kwargs: object):
    return effective_resources(pod_of(yaml.safe_load(text)), **kwargs)


INTERLEAVED = """
spec:
  initContainers:
  - {name: init-1, resources: {requests: {cpu: "5"}}}
  - {name: sc-1, restartPolicy: Always, resources: {requests: {cpu: "1"}}}
  - {name: sc-2, restartPolicy: Always, resources: {requests: {cpu: "2"}}}
  - {name: init-2, resources: {requests: {cpu: "5"}}}
  - {name: sc-3, restartPolicy: Always, resources: {requests: {cpu: "3"}}}
  containers:
  - {name: main, resources: {requests: {cpu: "1"}}}
"""


def test_it_stacks_earlier_sidecars_on_a_later_init_container() -> None:
    sizing = sized(INTERLEAVED)
    assert str(sizing.requests["cpu"]) == "8"
    assert sizing.dominant["cpu"] == "init init-2"
    steady = sizing.phases[-1]
    assert str(steady.total_requests["cpu"]) == "7"
    assert [p.name for p in sizing.phases] == [
        "init init-1",
        "sidecar sc-1 starts",
        "sidecar sc-2 starts",
        "init init-2",
        "sidecar sc-3 starts",
        "steady state",
    ]
    assert set(sizing.phases[3].requests) == {"sc-1", "sc-2", "init-2"}


def test_it_copies_a_limit_into_a_missing_request_and_says_so() -> None:
    text = "spec: {containers: [{name: redis, resources: {limits: {cpu: '0.1'}}}]}"
    with_defaults = sized(text)
    assert str(with_defaults.requests["cpu"]) == "100m"
    assert any("redis" in d and "cpu" in d for d in with_defaults.defaults_applied)
    as_written = sized(text, api_defaults=False)
    assert "cpu" not in as_written.requests
    assert as_written.defaults_applied == ()


@pytest.mark.parametrize(
    ("text", "qos"),
    [
        ("spec: {containers: [{name: a}]}", "BestEffort"),
        (
            "spec: {containers: [{name: a, resources: {limits: {cpu: 1, memory: 1Gi}}}]}",
            "Guaranteed",
        ),
        (
            "spec: {containers: [{name: a, resources: {limits: {cpu: 1, memory: 1Gi}}}, "
            "{name: b, resources: {requests: {cpu: 100m}}}]}",
            "Burstable",
        ),
        (
            "spec: {initContainers: [{name: i, resources: {requests: {cpu: 1}}}], "
            "containers: [{name: a}]}",
            "Burstable",
        ),
    ],
)
def test_it_computes_the_qos_class(text: str, qos: str) -> None:
    assert sized(text).qos_class == qos


def test_it_reports_a_limit_that_is_unbounded_in_practice() -> None:
    sizing = sized(
        "spec: {containers: [{name: app, resources: {limits: {cpu: 2, memory: 2Gi}}}, "
        "{name: shipper}]}"
    )
    assert str(sizing.limits["memory"]) == "2Gi"
    assert "shipper" in sizing.unbounded["memory"]


def test_it_adds_overhead_only_to_limits_that_exist() -> None:
    sizing = sized(
        "spec: {overhead: {cpu: 250m, memory: 120Mi}, containers: [{name: a, resources: "
        "{requests: {cpu: 1, memory: 1Gi}, limits: {cpu: 2}}}]}"
    )
    assert str(sizing.requests["cpu"]) == "1250m"
    assert str(sizing.requests["memory"]) == "1144Mi"
    assert str(sizing.limits["cpu"]) == "2250m"
    assert "memory" not in sizing.limits


def test_it_ignores_pod_level_resources_when_the_feature_is_off() -> None:
    text = (
        "spec: {resources: {requests: {cpu: 4}}, containers: [{name: a, resources: "
        "{requests: {cpu: 1}}}]}"
    )
    assert str(sized(text).requests["cpu"]) == "4"
    off = sized(text, pod_level_resources=False)
    assert str(off.requests["cpu"]) == "1"
    assert off.notes


def test_it_reports_invalid_quantities_without_crashing() -> None:
    sizing = sized(
        "spec: {containers: [{name: a, resources: {requests: {cpu: lots, memory: -1}}}]}"
    )
    fields = {p.field for p in sizing.problems}
    assert fields == {
        "containers[0].resources.requests.cpu",
        "containers[0].resources.requests.memory",
    }
    assert sizing.requests == {}


def test_it_sizes_the_textbook_corpus_example() -> None:
    doc = yaml.safe_load(
        (
            CORPUS
            / "kubernetes__website__content__en__examples__pods__multi-container__resources.yaml"
        ).read_text()
    )
    sizing = effective_resources(pod_of(doc))
    assert {k: str(v) for k, v in sizing.requests.items()} == {"cpu": "350m", "memory": "192Mi"}
