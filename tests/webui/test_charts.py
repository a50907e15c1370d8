"""Chart builders: valid plotly figures, truthful numbers, every container drawn, no raw HTML."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import plotly.graph_objects as go
import pytest
from plotly.offline import get_plotlyjs_version

from advisor.core.analyze import WorkloadReport, analyze_text
from advisor.core.lifecycle import Assumptions
from tests.conftest import CORPUS, ROOT, corpus_files
from webui import charts

RESOURCES_EXAMPLE = CORPUS / (
    "kubernetes__website__content__en__examples__pods__multi-container__resources.yaml"
)
COCKROACH = CORPUS / "kubernetes__examples___archived__cockroachdb__cockroachdb-statefulset.yaml"

HOSTILE = {
    "<script>alert(1)</script>": "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<img src=x onerror=alert(1)>": "&lt;img src=x onerror=alert(1)&gt;",
    '"><svg onload=alert(1)>': "&#34;&gt;&lt;svg onload=alert(1)&gt;",
    "<b>SIGQUIT</b>": "&lt;b&gt;SIGQUIT&lt;/b&gt;",
}
HOSTILE_MANIFEST = """
apiVersion: v1
kind: Pod
metadata: {name: hostile}
spec:
  terminationGracePeriodSeconds: 20
  initContainers:
  - name: '<script>alert(1)</script>'
    image: busybox
    resources: {requests: {cpu: 100m, memory: 32Mi}, limits: {memory: 32Mi}}
  - name: '<img src=x onerror=alert(1)>'
    image: envoy
    restartPolicy: Always
    startupProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1, failureThreshold: 2}
    lifecycle:
      preStop: {sleep: {seconds: 5}}
      stopSignal: '<b>SIGQUIT</b>'
    resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {memory: 64Mi}}
  containers:
  - name: '"><svg onload=alert(1)>'
    image: nginx
    startupProbe: {httpGet: {path: /, port: 80}, periodSeconds: 1, failureThreshold: 1}
    lifecycle:
      preStop: {sleep: {seconds: 30}}
    resources: {requests: {cpu: 300m, memory: 128Mi}, limits: {memory: 128Mi}}
"""
EVERYWHERE = {"<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>'}
AT_SHUTDOWN = {"<b>SIGQUIT</b>"}  # the init container has exited by then; the signal is sent then
# The only markup a figure may carry is the one the builders write themselves.
OUR_TAGS = {"<br>", "<b>", "</b>", "<extra>", "</extra>"}


def workloads(path: Path, **options: object) -> tuple[WorkloadReport, ...]:
    return analyze_text(path.read_bytes(), file=path.name, **options).workloads


def only_workload(text: str, **options: object) -> WorkloadReport:
    (workload,) = analyze_text(text, **options).workloads
    return workload


def bars(fig: dict) -> list[dict]:
    """The bar traces that draw data (not the legend entries naming segment styles)."""
    return [t for t in fig["data"] if t["type"] == "bar"]


def steady_total(fig: dict) -> float:
    return sum(t["y"][-1] or 0 for t in bars(fig))


def rows_with_bars(fig: dict) -> set[str]:
    return {y for t in bars(fig) for y in t["y"]}


def row(name: str) -> str:
    return charts.escape(name) if name else "(unnamed)"


def trace(fig: dict, name: str) -> dict | None:
    return next((t for t in fig["data"] if t.get("name") == name), None)


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name[-60:])
def test_it_builds_figures_plotly_accepts_for_every_corpus_workload(path: Path) -> None:
    for w in workloads(path):
        figures = charts.workload_charts(w)
        assert list(figures) == ["resources-cpu", "resources-memory", "startup", "shutdown"]
        for name, fig in figures.items():
            json.dumps(fig, allow_nan=False)
            try:
                go.Figure(fig)
            except ValueError as exc:  # plotly names the bad property
                pytest.fail(f"{w.workload.name} {name}: {exc}")


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name[-60:])
def test_it_draws_every_running_container_in_both_gantt_charts(path: Path) -> None:
    for w in workloads(path):
        figures = charts.workload_charts(w)
        pod = w.workload.pod
        assert rows_with_bars(figures["startup"]) == {row(s.container) for s in w.startup.segments}
        if not any("would kill" in m.label for m in w.startup.markers):
            assert rows_with_bars(figures["startup"]) == {row(c.name) for c in pod.all_containers}
        running = pod.containers + pod.sidecars
        assert rows_with_bars(figures["shutdown"]) == {row(c.name) for c in running}


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name[-60:])
def test_it_stacks_each_phase_to_the_sizing_total(path: Path) -> None:
    for w in workloads(path):
        for resource in ("cpu", "memory"):
            fig = charts.resource_chart(w.sizing, resource=resource)
            for i, phase in enumerate(w.sizing.phases):
                total = phase.total_requests.get(resource)
                expected = charts._in_unit(total, resource) if total is not None else 0
                stacked = sum(t["y"][i] or 0 for t in bars(fig))
                assert stacked == pytest.approx(expected), (w.workload.name, phase.name)


def test_it_charts_the_multi_container_example_in_cores_and_mib() -> None:
    (w,) = workloads(RESOURCES_EXAMPLE)
    cpu = charts.resource_chart(w.sizing, resource="cpu")
    memory = charts.resource_chart(w.sizing, resource="memory")

    assert cpu["layout"]["barmode"] == "stack"
    assert "CPU" in cpu["layout"]["title"]["text"] and "cores" in cpu["layout"]["title"]["text"]
    assert "MiB" in memory["layout"]["title"]["text"]
    assert cpu["layout"]["xaxis"]["categoryarray"] == [
        "init setup",
        "sidecar log-shipper starts",
        "steady state",
    ]
    assert steady_total(cpu) == pytest.approx(0.35)
    assert steady_total(memory) == pytest.approx(192)
    assert [t["name"] for t in bars(cpu)] == ["setup", "log-shipper", "app"]


def test_it_draws_the_effective_request_and_limit_as_labelled_lines() -> None:
    (w,) = workloads(RESOURCES_EXAMPLE)
    cpu = charts.resource_chart(w.sizing, resource="cpu")
    memory = charts.resource_chart(w.sizing, resource="memory")

    assert [s["y0"] for s in cpu["layout"]["shapes"]] == [pytest.approx(0.35)]
    cpu_labels = [a["text"] for a in cpu["layout"]["annotations"]]
    assert "effective request 350m" in cpu_labels
    assert "no effective limit" in cpu_labels  # no container sets a cpu limit
    assert [s["y0"] for s in memory["layout"]["shapes"]] == [pytest.approx(192)] * 2
    memory_labels = [a["text"] for a in memory["layout"]["annotations"]]
    assert {"effective request 192Mi", "effective limit 192Mi"} <= set(memory_labels)


def test_it_hovers_with_the_canonical_quantity_and_the_container() -> None:
    (w,) = workloads(RESOURCES_EXAMPLE)
    cpu = charts.resource_chart(w.sizing, resource="cpu")
    memory = charts.resource_chart(w.sizing, resource="memory")

    app_cpu = trace(cpu, "app")["customdata"][-1]
    app_memory = trace(memory, "app")["customdata"][-1]
    assert app_cpu[0] == "app" and app_cpu[2] == "300m"
    assert app_memory[2] == "128Mi"
    assert "%{customdata[2]}" in trace(cpu, "app")["hovertemplate"]
    assert trace(cpu, "phase total")["text"] == ["200m", "50m", "350m"]


def test_it_keeps_each_containers_colour_across_the_resource_charts() -> None:
    (w,) = workloads(RESOURCES_EXAMPLE)
    cpu = charts.resource_chart(w.sizing, resource="cpu")
    memory = charts.resource_chart(w.sizing, resource="memory")
    colours = {t["name"]: t["marker"]["color"] for t in bars(cpu)}

    assert {t["name"]: t["marker"]["color"] for t in bars(memory)} == colours
    assert len(set(colours.values())) == 3


def test_it_rejects_a_resource_it_cannot_chart() -> None:
    (w,) = workloads(RESOURCES_EXAMPLE)
    with pytest.raises(ValueError, match="ephemeral-storage"):
        charts.resource_chart(w.sizing, resource="ephemeral-storage")


def test_it_colours_gantt_bars_by_lifecycle_and_names_phases_in_text() -> None:
    (w,) = workloads(RESOURCES_EXAMPLE)
    startup = charts.startup_gantt(w.startup)

    assert [t["name"] for t in bars(startup)] == [
        "init container",
        "native sidecar",
        "regular container",
    ]
    assert len({t["marker"]["color"] for t in bars(startup)}) == 3
    assert all(t["orientation"] == "h" for t in bars(startup))
    assert startup["layout"]["yaxis"]["autorange"] == "reversed"
    assert startup["layout"]["yaxis"]["categoryarray"] == ["setup", "log-shipper", "app"]
    init = trace(startup, "init container")
    assert init["base"] == [0.0, 1.0] and init["x"] == [1.0, 5.0]
    assert init["text"] == ["starting", "running to completion"]
    # starting and running look different: a pattern on one, a solid fill on the other
    assert init["marker"]["pattern"]["shape"][0] != init["marker"]["pattern"]["shape"][1]
    assert "init done: regular containers start" in [
        a["text"] for a in startup["layout"]["annotations"]
    ]


def test_it_tells_shutdown_phases_apart_without_colour() -> None:
    (w,) = workloads(RESOURCES_EXAMPLE)
    shutdown = charts.shutdown_gantt(w.shutdown, grace_seconds=30)
    sidecar = trace(shutdown, "native sidecar")

    assert sidecar["text"] == ["waiting for others to exit", "terminating"]
    assert sidecar["marker"]["pattern"]["shape"][0] != sidecar["marker"]["pattern"]["shape"][1]
    signals = trace(shutdown, "stop signal")
    assert signals["marker"]["symbol"] == "diamond"
    assert signals["x"] == [0.0, 1.0] and signals["y"] == ["app", "log-shipper"]


def test_it_marks_a_near_grace_deadline_with_a_dashed_labelled_line() -> None:
    (w,) = workloads(RESOURCES_EXAMPLE)
    happens = w.shutdown.total_seconds
    shutdown = charts.shutdown_gantt(w.shutdown, grace_seconds=round(happens * 1.5) or 1)
    grace = float(round(happens * 1.5) or 1)

    (line,) = shutdown["layout"]["shapes"]
    assert (line["x0"], line["x1"], line["yref"]) == (grace, grace, "paper")
    assert line["line"]["dash"] == "dash"
    assert [a["text"] for a in shutdown["layout"]["annotations"]] == [f"grace period {grace:g}s"]
    assert shutdown["layout"]["xaxis"]["range"][1] > grace


def test_the_shutdown_axis_fits_what_happens_not_a_far_grace_period() -> None:
    (w,) = workloads(RESOURCES_EXAMPLE)
    assert w.shutdown.total_seconds < 10
    shutdown = charts.shutdown_gantt(w.shutdown, grace_seconds=300)

    end = shutdown["layout"]["xaxis"]["range"][1]
    assert w.shutdown.total_seconds < end < 2 * w.shutdown.total_seconds + 1
    (note,) = shutdown["layout"]["annotations"]
    assert note["text"].startswith("grace period 300s →") and note["x"] == 1.0
    assert "300s" in shutdown["layout"]["title"]["text"]


def test_it_uses_the_grace_period_the_simulation_used() -> None:
    (w,) = workloads(COCKROACH)
    shutdown = charts.workload_charts(w)["shutdown"]

    texts = [a["text"] for a in shutdown["layout"]["annotations"]]
    assert len(texts) == 1 and texts[0].startswith("grace period 60s")


def test_it_marks_sigkill_with_a_red_symbol_and_line() -> None:
    (w,) = workloads(RESOURCES_EXAMPLE, assumptions=Assumptions(exit_after_sigterm_seconds=60))
    assert any(m.label == "SIGKILL" for m in w.shutdown.markers)
    shutdown = charts.workload_charts(w)["shutdown"]

    kills = trace(shutdown, "SIGKILL")
    assert kills["marker"]["symbol"] == "x" and kills["marker"]["color"] == charts.RED
    assert sorted(kills["y"]) == ["app", "log-shipper"]
    assert trace(shutdown, "stop signal")["marker"]["symbol"] != "x"
    assert any(s["line"]["color"] == charts.RED for s in shutdown["layout"]["shapes"])
    labels = [a["text"] for a in shutdown["layout"]["annotations"]]
    assert any(label.startswith("✖ SIGKILL") for label in labels)
    killed = [p for t in bars(shutdown) for p in t["text"]]
    assert "killed (SIGKILL)" in killed


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name[-60:])
def test_it_marks_every_sigkill_of_a_corpus_shutdown(path: Path) -> None:
    for w in workloads(path, assumptions=Assumptions(exit_after_sigterm_seconds=45)):
        shutdown = charts.workload_charts(w)["shutdown"]
        killed = {row(m.container) for m in w.shutdown.markers if m.label == "SIGKILL"}
        kills = trace(shutdown, "SIGKILL")
        assert set(kills["y"] if kills else ()) == killed


def test_it_marks_a_startup_probe_that_would_kill() -> None:
    slow = Assumptions(per_container={"app": {"ready_after_seconds": 100}})
    w = only_workload(
        """
apiVersion: v1
kind: Pod
metadata: {name: slow}
spec:
  containers:
  - name: app
    image: app
    startupProbe: {httpGet: {path: /, port: 80}, periodSeconds: 5, failureThreshold: 3}
  - name: proxy
    image: envoy
    startupProbe: {httpGet: {path: /, port: 80}, periodSeconds: 1}
""",
        assumptions=slow,
    )
    startup = charts.startup_gantt(w.startup)

    assert trace(startup, "startup probe would kill")["y"] == ["app"]
    assert trace(startup, "startup probe passes")["y"] == ["proxy"]
    assert trace(startup, "startup probe would kill")["marker"]["symbol"] == "x"
    labels = [a["text"] for a in startup["layout"]["annotations"]]
    assert "✖ startup probe would kill: app" in labels


def test_it_never_lets_hostile_names_through_unescaped() -> None:
    w = only_workload(HOSTILE_MANIFEST, assumptions=Assumptions(exit_after_sigterm_seconds=10))
    figures = charts.workload_charts(w)

    for name, fig in figures.items():
        payload = json.dumps(fig)
        for raw, escaped in HOSTILE.items():
            assert raw not in payload, (name, raw)
            if (name == "shutdown") == (raw in AT_SHUTDOWN) or raw in EVERYWHERE:
                assert escaped in payload, (name, escaped)
        for tag in re.findall(r"<[^<>]*>", payload):
            assert tag in OUR_TAGS, (name, tag)
        go.Figure(fig)
    legend = [t["name"] for t in figures["resources-cpu"]["data"]]
    assert HOSTILE["<script>alert(1)</script>"] in legend


def test_it_lays_out_for_any_width_and_either_colour_scheme() -> None:
    (w,) = workloads(RESOURCES_EXAMPLE)
    for fig in charts.workload_charts(w).values():
        layout = fig["layout"]
        assert layout["autosize"] is True and "width" not in layout
        assert 200 <= layout["height"] <= 800
        assert layout["paper_bgcolor"] == layout["plot_bgcolor"] == "rgba(0,0,0,0)"
        assert layout["font"]["color"] == charts.FONT_COLOUR


def test_it_grows_the_gantt_charts_with_the_rows() -> None:
    (small,) = workloads(RESOURCES_EXAMPLE)
    big = only_workload(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: big}\nspec:\n  containers:\n"
        + "".join(f"  - {{name: c{i}, image: x}}\n" for i in range(8))
    )
    assert (
        charts.startup_gantt(big.startup)["layout"]["height"]
        > charts.startup_gantt(small.startup)["layout"]["height"]
    )


def test_it_needs_neither_plotly_nor_django() -> None:
    code = "import sys, webui.charts; print(sorted({'plotly', 'django'} & set(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_it_validates_against_the_plotly_js_the_browser_gets() -> None:
    version = get_plotlyjs_version()
    vendored = ROOT / "static" / "vendor" / f"plotly-basic-{version}.min.js"
    assert vendored.is_file(), f"the vendored plotly.js differs from plotly.py's {version}"
    assert f"v{version}" in vendored.read_text(encoding="utf-8")[:200]


def test_the_gantt_legend_names_every_segment_style_it_draws() -> None:
    (w,) = workloads(RESOURCES_EXAMPLE, assumptions=Assumptions(exit_after_sigterm_seconds=60))
    for fig, timeline in (
        (charts.startup_gantt(w.startup), w.startup),
        (charts.shutdown_gantt(w.shutdown, grace_seconds=30), w.shutdown),
    ):
        legend = {label for label, _, _ in fig["layout"]["meta"]["segment_styles"]}
        drawn = {charts.PHASE_STYLES[s.phase][0] for s in timeline.segments}
        assert legend == drawn
    names = {charts.PHASE_STYLES[p][0] for p in charts.PHASE_STYLES}
    for wanted in ("starting", "waiting for the startup probe", "running", "preStop"):
        assert wanted in names
    assert "terminating" in names and any("SIGKILL" in n for n in names)


@pytest.mark.parametrize("path", corpus_files()[:20], ids=lambda p: p.name[-60:])
def test_every_bar_label_reads_on_its_fill(path: Path) -> None:
    for w in workloads(path, assumptions=Assumptions(exit_after_sigterm_seconds=45)):
        for key in ("startup", "shutdown"):
            for t in bars(charts.workload_charts(w)[key]):
                pattern = t["marker"]["pattern"]
                fills = [
                    # a patterned fill shows its colour on only `solidity` of its area
                    charts.blend(t["marker"]["color"], o * (pattern["solidity"] if shape else 1))
                    for o, shape in zip(t["marker"]["opacity"], pattern["shape"], strict=True)
                ]
                for fill, text in zip(fills, t["insidetextfont"]["color"], strict=True):
                    assert charts.contrast(text, fill) >= 4.5, (key, t["name"], fill)


def test_a_jobs_timeline_shows_the_app_finishing_and_the_sidecar_keeping_it_alive() -> None:
    (w,) = workloads(
        CORPUS
        / "kubernetes__website__content__en__examples__application__job__job-sidecar-legacy.yaml"
    )
    startup = charts.workload_charts(w)["startup"]
    phases = {(y, text) for t in bars(startup) for y, text in zip(t["y"], t["text"], strict=True)}
    assert ("myjob", "running to completion") in phases
    assert ("logshipper", "keeps running (never exits)") in phases
    keeps = next(
        (t, i)
        for t in bars(startup)
        for i, y in enumerate(t["y"])
        if t["text"][i] == "keeps running (never exits)"
    )
    trace_, i = keeps
    runs_to = trace_["base"][i] + trace_["x"][i]
    assert runs_to >= startup["layout"]["xaxis"]["range"][1] / 1.06 - 1e-6  # to the edge
    assert any("keeps the Job running" in a["text"] for a in startup["layout"]["annotations"])
    assert trace(startup, "event")["y"] == ["myjob"]  # its exit


def test_a_native_sidecar_job_has_no_never_ending_bar() -> None:
    (w,) = workloads(
        CORPUS / "kubernetes__website__content__en__examples__application__job__job-sidecar.yaml"
    )
    startup = charts.workload_charts(w)["startup"]
    assert all("keeps running (never exits)" not in t["text"] for t in bars(startup))


def test_the_startup_title_gives_the_simulated_time_not_the_axis_end() -> None:
    (w,) = workloads(RESOURCES_EXAMPLE)
    startup = charts.startup_gantt(w.startup)
    total = w.startup.total_seconds
    assert f"after {round(total, 3):g}s" in startup["layout"]["title"]["text"]
    assert startup["layout"]["xaxis"]["range"][1] > total


def test_the_stats_charts_count_in_whole_numbers_with_room_for_labels() -> None:
    from datetime import date

    from webui import kb_charts

    over_time = kb_charts.patterns_over_time(
        [(date(2025, 1, 1), "native-sidecar", 2), (date(2025, 2, 1), "init", 1)]
    )
    yaxis = over_time["layout"]["yaxis"]
    assert (yaxis["tick0"], yaxis["dtick"], yaxis["tickformat"]) == (0, 1, "d")
    top = kb_charts.top_findings([("rule-a", 3), ("rule-b", 1)])
    bar = top["data"][0]
    assert bar["text"] == [3, 1] and bar["textposition"] == "outside"
    assert bar["cliponaxis"] is False
    assert top["layout"]["xaxis"]["range"][1] > 3  # the label of the longest bar fits
    many = kb_charts.top_findings([("rule-a", 40)])
    assert "dtick" not in many["layout"]["xaxis"] and many["layout"]["xaxis"]["tickformat"] == "d"


def test_an_empty_stats_chart_is_one_line_of_text() -> None:
    from webui import kb_charts

    for empty in (
        kb_charts.patterns_over_time([]),
        kb_charts.top_findings([]),
        kb_charts.by_tag([]),
    ):
        go.Figure(empty)
        assert empty["data"] == [] and empty["layout"]["height"] <= 100
        (note,) = empty["layout"]["annotations"]
        assert note["text"].startswith("No review")
        assert empty["layout"]["xaxis"]["visible"] is False


def test_a_timeline_with_no_container_is_one_line_of_text() -> None:
    from advisor.core.lifecycle import Timeline

    nothing = Timeline(segments=(), markers=(), total_seconds=0.0, assumptions=(), notes=())
    for fig in (charts.startup_gantt(nothing), charts.shutdown_gantt(nothing, grace_seconds=30)):
        go.Figure(fig)
        assert fig["data"] == [] and fig["layout"]["height"] <= 100
        assert fig["layout"]["annotations"][0]["text"].startswith("no containers run")
