"""The whole pipeline over real manifests: nothing raises, nothing is dropped."""

from __future__ import annotations

import json

import pytest

from advisor.core.analyze import Options, analyze, analyze_text
from advisor.core.report import to_dict, to_json, to_sarif, to_text
from advisor.core.versions import SUPPORTED
from advisor.core.yamlload import Limits
from tests.conftest import CORPUS, corpus_files


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name[-60:])
def test_it_analyses_every_corpus_file_in_every_format(path) -> None:
    report = analyze([(path.name, path.read_bytes())])
    assert report.errors == ()
    document = json.loads(to_json(report))
    listed = len(document["workloads"]) + len(document["skipped"])
    assert listed >= 1, "a corpus file produced neither a workload nor a skipped entry"
    for workload in document["workloads"]:
        assert workload["containers"], workload["name"]
        assert all(c["role"] and c["reason"] for c in workload["containers"])
        assert workload["startup"], workload["name"]
    assert to_sarif(report)["version"] == "2.1.0"
    assert to_text(report)


@pytest.mark.parametrize("version", SUPPORTED, ids=lambda v: f"1.{v[1]}")
def test_it_analyses_the_corpus_for_every_supported_version(version) -> None:
    inputs = [(p.name, p.read_bytes()) for p in corpus_files()]
    report = analyze(inputs, options=Options(kubernetes_version=version))
    assert report.errors == ()
    assert len(report.workloads) >= 60


def test_it_links_an_hpa_in_another_file_to_its_deployment() -> None:
    prefix = "mercari__tortoise__api__v1beta3__testdata__validating__success-with-istio__"
    files = [CORPUS / f"{prefix}deployment.yaml", CORPUS / f"{prefix}hpa.yaml"]
    report = analyze([(p.name, p.read_bytes()) for p in files])
    (workload,) = report.workloads
    assert workload.hpas
    hpa_findings = [f for f in workload.findings if f.file and f.file.endswith("hpa.yaml")]
    assert any(f.rule == "hpa-container-not-found" for f in hpa_findings)


def test_it_lists_an_hpa_whose_target_is_missing_as_skipped() -> None:
    report = analyze_text(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\n"
        "spec: {scaleTargetRef: {kind: Deployment, name: nowhere}}\n"
    )
    (skipped,) = report.skipped
    assert "not in the input" in skipped.reason


def test_it_reports_document_and_line_of_unreadable_input_and_keeps_the_rest() -> None:
    report = analyze_text(
        "kind: Pod\nmetadata: {name: ok}\nspec: {containers: [{name: a, image: x}]}\n"
        "---\nkind: Pod\nspec: [unclosed\n"
    )
    assert [w.workload.name for w in report.workloads] == ["ok"]
    (error,) = report.errors
    assert error.document == 2
    assert error.line in (6, 7)


def test_it_refuses_oversized_input_with_a_clear_error() -> None:
    report = analyze(
        [("big.yaml", "a: 1\n" * 1000)], options=Options(limits=Limits(max_bytes=1000))
    )
    (error,) = report.errors
    assert "larger than the limit" in error.message


def test_it_computes_on_the_manifest_as_written_without_api_defaults() -> None:
    text = (
        CORPUS / "kubernetes__examples___archived__storage__redis__redis-master.yaml"
    ).read_text()
    with_defaults = to_dict(analyze_text(text))["workloads"][0]["effective"]
    as_written = to_dict(analyze_text(text, api_defaults=False))["workloads"][0]["effective"]
    assert with_defaults["requests"] == {"cpu": "100m"}
    assert with_defaults["defaults_applied"]
    assert as_written["requests"] == {}
    assert as_written["limits"] == {"cpu": "100m"}


def test_it_suppresses_rules_named_in_the_ignore_annotation() -> None:
    text = (
        CORPUS
        / "kubernetes__website__content__en__examples__application__job__job-sidecar-legacy.yaml"
    ).read_text()
    plain = analyze_text(text).workloads[0]
    assert "classic-sidecar-blocks-job" in {f.rule for f in plain.findings}
    ignored_text = text.replace(
        "metadata:\n  name: myjob",
        "metadata:\n  name: myjob\n  annotations:\n"
        "    pod-advisor.io/ignore: classic-sidecar-blocks-job, sidecar-missing-requests",
        1,
    )
    ignored = analyze_text(ignored_text).workloads[0]
    assert "classic-sidecar-blocks-job" not in {f.rule for f in ignored.findings}
    assert {f.rule for f in ignored.suppressed} >= {"classic-sidecar-blocks-job"}
    assert "suppressed" in to_text(analyze_text(ignored_text))
