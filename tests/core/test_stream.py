"""Writing the report as the analysis runs gives the whole-report writers' exact text."""

from __future__ import annotations

import io

import pytest

from advisor.core import outputs
from advisor.core.analyze import Options, analyze, iter_analysis
from advisor.core.report import dumps, to_json, to_sarif, to_text
from advisor.core.stream import _PLACEHOLDER, write_report, write_reports
from tests.conftest import FIXTURES, corpus_files

MANIFESTS = sorted((FIXTURES / "manifests").glob("*.yaml"))
ALL = ["json", "sarif", "text", "sarif-ci", "github", "junit"]
BASE = "/work/repo"  # SARIF for CI: locations relative to this directory


def _whole(report, fmt: str) -> str:
    return {
        "json": lambda: to_json(report) + "\n",
        "sarif": lambda: dumps(to_sarif(report)) + "\n",
        "text": lambda: to_text(report),
        "sarif-ci": lambda: outputs.sarif_json(outputs.to_sarif_for_ci(report, base=BASE)),
        "github": lambda: outputs.to_github(report),
        "junit": lambda: outputs.to_junit(report),
    }[fmt]()


def _both(inputs, fmt: str, options: Options) -> tuple[str, str]:
    report = analyze(inputs, options=options)
    whole = _whole(report, fmt)
    out = io.StringIO()
    base = BASE if fmt == "sarif-ci" else None
    tally = write_report(
        iter_analysis(inputs, options=options),
        fmt=fmt.removesuffix("-ci"),
        options=options,
        out=out,
        base=base,
    )
    assert tally.worst_severity() == report.worst_severity()
    assert [e.message for e in tally.errors] == [e.message for e in report.errors]
    return out.getvalue(), whole


@pytest.mark.parametrize("fmt", ALL)
def test_it_streams_the_whole_corpus_as_the_whole_report_reads(fmt: str) -> None:
    inputs = [(p.name, p.read_bytes()) for p in corpus_files()]
    streamed, whole = _both(inputs, fmt, Options())
    assert streamed == whole


@pytest.mark.parametrize("fmt", ALL)
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_it_streams_each_fixture_as_the_whole_report_reads(path, fmt: str) -> None:
    streamed, whole = _both([(path.name, path.read_bytes())], fmt, Options())
    assert streamed == whole


@pytest.mark.parametrize("fmt", ALL)
def test_it_streams_empty_and_unreadable_inputs(fmt: str) -> None:
    inputs = [("empty.yaml", b""), ("broken.yaml", b"a: [\n"), ("cm.yaml", b"kind: ConfigMap\n")]
    streamed, whole = _both(inputs, fmt, Options(api_defaults=False))
    assert streamed == whole


@pytest.mark.parametrize("fmt", ALL)
def test_it_streams_files_named_like_its_placeholder(fmt: str) -> None:
    inputs = [
        (_PLACEHOLDER, b"a: [\n"),
        ("/work/repo/" + _PLACEHOLDER, b"kind: Pod\nmetadata: {name: x}\nspec: {containers: [\n"),
        (_PLACEHOLDER + ".yaml", (FIXTURES / "manifests" / MANIFESTS[0].name).read_bytes()),
    ]
    streamed, whole = _both(inputs, fmt, Options())
    assert streamed == whole


def test_it_writes_several_formats_in_one_pass_as_each_alone() -> None:
    inputs = [(p.name, p.read_bytes()) for p in corpus_files()[:20]]
    inputs.append(("broken.yaml", b"a: [\n"))
    report = analyze(inputs)
    sinks = {fmt: io.StringIO() for fmt in ("json", "text", "sarif", "github", "junit")}
    write_reports(
        iter_analysis(inputs, options=Options()), list(sinks.items()), options=Options(), base=BASE
    )
    assert sinks.pop("sarif").getvalue() == _whole(report, "sarif-ci")
    for fmt, sink in sinks.items():
        assert sink.getvalue() == _whole(report, fmt)


def test_it_links_an_autoscaler_that_comes_before_its_target() -> None:
    hpa = (
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\n"
        "spec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
        "  minReplicas: 1\n  maxReplicas: 3\n  metrics:\n  - type: Resource\n"
        "    resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}\n"
    )
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
        "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
        "    spec:\n      containers:\n"
        "      - {name: app, image: shop, resources: {requests: {cpu: 100m}}}\n"
        "      - {name: proxy, image: envoyproxy/envoy, resources: {requests: {cpu: 900m}}}\n"
    )
    report = analyze([("hpa.yaml", hpa), ("deploy.yaml", deployment)])
    assert report.workloads[0].hpas == ("web",)
    assert not [s for s in report.skipped if s.kind == "HorizontalPodAutoscaler"]
