"""Reading manifests into workloads, HPAs and skipped kinds."""

from __future__ import annotations

import pytest

from advisor.core.intake import parse
from tests.conftest import CORPUS, corpus_files

KINDS = {
    "Pod": "spec: {containers: [{name: a, image: x}]}",
    "Deployment": "spec: {template: {spec: {containers: [{name: a, image: x}]}}}",
    "StatefulSet": "spec: {template: {spec: {containers: [{name: a, image: x}]}}}",
    "DaemonSet": "spec: {template: {spec: {containers: [{name: a, image: x}]}}}",
    "ReplicaSet": "spec: {template: {spec: {containers: [{name: a, image: x}]}}}",
    "ReplicationController": "spec: {template: {spec: {containers: [{name: a, image: x}]}}}",
    "Job": "spec: {template: {spec: {containers: [{name: a, image: x}]}}}",
    "CronJob": (
        "spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: a, image: x}]}}}}}"
    ),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_it_finds_the_pod_template_of_every_workload_kind(kind: str) -> None:
    result = parse(f"apiVersion: v1\nkind: {kind}\nmetadata: {{name: w}}\n{KINDS[kind]}\n")
    (workload,) = result.workloads
    assert workload.kind == kind
    assert [c.name for c in workload.pod.containers] == ["a"]


def test_it_opens_a_list_and_keeps_each_items_line() -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: Pod\n  metadata: {name: one}\n"
        "  spec: {containers: [{name: a}]}\n"
        "- apiVersion: v1\n  kind: Pod\n  metadata: {name: two}\n"
        "  spec: {containers: [{name: b}]}\n"
    )
    result = parse(text)
    assert [(w.name, w.line, w.document) for w in result.workloads] == [
        ("one", 4, 1),
        ("two", 8, 1),
    ]


def test_it_lists_other_kinds_as_skipped_with_a_reason() -> None:
    result = parse(
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\n"
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: wf}\n"
    )
    assert [(s.kind, s.document, s.line) for s in result.skipped] == [
        ("Service", 1, 1),
        ("Workflow", 2, 5),
    ]
    assert "custom resource" in result.skipped[1].reason


def test_it_normalises_hpa_metrics_across_api_versions() -> None:
    result = parse(
        "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: h1}\n"
        "spec: {scaleTargetRef: {kind: Deployment, name: web},"
        " targetCPUUtilizationPercentage: 50}\n"
        "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h2}\n"
        "spec:\n  scaleTargetRef: {kind: Deployment, name: web}\n  metrics:\n"
        "  - type: ContainerResource\n    containerResource: {name: cpu, container: app}\n"
    )
    h1, h2 = result.hpas
    assert [(m.type, m.resource) for m in h1.metrics] == [("Resource", "cpu")]
    assert [(m.type, m.resource, m.container, m.line) for m in h2.metrics] == [
        ("ContainerResource", "cpu", "app", 12)
    ]


def test_it_reports_a_document_that_is_not_an_object() -> None:
    result = parse("just some text\n---\nkind: Pod\nspec: {containers: [{name: a}]}\n")
    assert result.errors[0].document == 1
    assert "expected a Kubernetes object" in result.errors[0].message
    assert len(result.workloads) == 1


def test_it_still_reads_a_pod_the_api_server_would_reject() -> None:
    result = parse("kind: Pod\nmetadata: {name: empty}\nspec: {containers: []}\n")
    assert result.workloads[0].pod.containers == ()


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name[-60:])
def test_it_reads_every_corpus_file_without_losing_a_document(path) -> None:
    result = parse(path.read_text(), file=path.name)
    assert not result.errors
    counted = len(result.workloads) + len(result.hpas) + len(result.skipped)
    assert counted >= result.documents


def test_the_corpus_is_present() -> None:
    assert len(corpus_files()) >= 70, CORPUS
