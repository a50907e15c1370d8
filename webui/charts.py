"""Plotly figure dicts for a workload: resources by phase, startup and shutdown Gantt charts.

Pure functions from core results to plain dicts (``json.dumps`` serialises them; no plotly import).
``static/js/charts.js`` draws them with the vendored plotly.js and sets the config options.

Plotly renders a subset of HTML in every label, so each string that comes from the manifest
(container names, phase explanations, stop signals) goes through :func:`escape` before it reaches
a figure, and hover text uses ``%{customdata}`` with a fixed template.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from advisor.core.analyze import WorkloadReport
from advisor.core.lifecycle import Marker, Segment, Timeline
from advisor.core.quantity import Quantity
from advisor.core.sizing import POD_LEVEL, Phase, Sizing

Figure = dict[str, Any]

FONT_COLOUR = "#8a8a8a"  # neutral grey that reads on light and dark; charts.js refines it
GRID_COLOUR = "rgba(138, 138, 138, 0.25)"
TRANSPARENT = "rgba(0,0,0,0)"
RED = "#d62728"

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
CONTAINER_PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#999999",
    "#8C564B",
    "#17BECF",
)
LIFECYCLES = {
    # lifecycle: (legend name, colour)
    "init": ("init container", "#E69F00"),
    "native-sidecar": ("native sidecar", "#009E73"),
    "regular": ("regular container", "#0072B2"),
}
PHASE_STYLES = {
    # phase: (label, opacity, pattern shape, outline colour or None). Fills are opaque and
    # patterns drawn on white, so a label's colour reads the same on a light or dark page.
    "image-start": ("starting", 1.0, ".", None),
    "post-start": ("postStart hook", 1.0, "/", None),
    "startup-probe": ("waiting for the startup probe", 1.0, "x", None),
    "running-to-completion": ("running to completion", 1.0, "", None),
    "running": ("running", 1.0, "", None),
    "keeps-running": ("keeps running (never exits)", 1.0, "-", RED),
    "pre-stop": ("preStop", 1.0, "/", None),
    "waiting-for-others": ("waiting for others to exit", 1.0, ".", None),
    "terminating": ("terminating", 1.0, "", None),
    "killed": ("killed (SIGKILL)", 1.0, "x", RED),
}
PATTERN_SOLIDITY = 0.3
# Seconds a Job's app is drawn working before it exits (the simulation does not model it).
JOB_WORK_SECONDS = 5.0
MARKER_STYLES = {
    # kind: (legend name, symbol, colour, size)
    "probe-pass": ("startup probe passes", "triangle-up", "#2ca02c", 11),
    "probe-kill": ("startup probe would kill", "x", RED, 13),
    "signal": ("stop signal", "diamond", "#9467bd", 11),
    "budget": ("grace budget used up", "hourglass", "#ff7f0e", 12),
    "sigkill": ("SIGKILL", "x", RED, 14),
    "other": ("event", "circle-open", FONT_COLOUR, 10),
}
# Events worth a vertical line across the chart, besides the pod-wide ones.
LINE_KINDS = {"probe-kill": ("dot", RED), "sigkill": ("dot", RED), "pod": ("dot", FONT_COLOUR)}
RESOURCES = {
    # resource: (title, unit, scale from a quantity's value to the unit)
    "cpu": ("CPU", "cores", 1),
    "memory": ("Memory", "MiB", 2**20),
}


def escape(text: object) -> str:
    """HTML-escape ``text`` for plotly labels (quotes as numeric entities plotly decodes)."""
    return html.escape(str(text)).replace("&quot;", "&#34;").replace("&#x27;", "&#39;")


def workload_charts(report: WorkloadReport) -> dict[str, Figure]:
    """Build every chart of one analysed workload, keyed by a stable name."""
    return {
        "resources-cpu": resource_chart(report.sizing, resource="cpu"),
        "resources-memory": resource_chart(report.sizing, resource="memory"),
        "startup": startup_gantt(report.startup, job=_job_tail(report)),
        "shutdown": shutdown_gantt(report.shutdown, grace_seconds=_grace(report)),
    }


def _job_tail(report: WorkloadReport) -> tuple[list[str], list[str]] | None:
    """For a Job: the regular containers that finish, and those that never exit (which keep the
    pod, and so the Job, running). None when there is nothing to show."""
    if report.workload.kind not in ("Job", "CronJob"):
        return None
    regular = [c for c in report.containers if c.lifecycle == "regular"]
    finish = [c.name for c in regular if not c.long_running]
    stay = [c.name for c in regular if c.long_running]
    return (finish, stay) if finish and stay else None


def _grace(report: WorkloadReport) -> int:
    """Return the grace period the shutdown simulation used, else the pod's."""
    # The report keeps a slimmed pod template without its spec, so the simulation's own
    # deadline marker is the reliable source; the pod value is the fallback.
    for m in report.shutdown.markers:
        if m.container is None and m.label.startswith("grace deadline"):
            return round(m.time)
    return report.workload.pod.grace_seconds


# ---------------------------------------------------------------------------------------------
# resources by phase


def resource_chart(sizing: Sizing, *, resource: str) -> Figure:
    """Stack each container's request per phase, with the effective pod request and limit."""
    if resource not in RESOURCES:
        raise ValueError(f"resource must be one of {', '.join(RESOURCES)}, got {resource!r}")
    title, unit, _ = RESOURCES[resource]
    phases = _phase_labels(sizing.phases)
    containers = list(sizing.container_requests) or _phase_members(sizing.phases)
    data: list[dict[str, Any]] = [
        _container_bars(name, i, sizing.phases, phases, resource, sizing.breakdown != "full")
        for i, name in enumerate(containers)
        if any(resource in ph.requests.get(name, {}) for ph in sizing.phases)
    ]
    data.append(_phase_totals(sizing.phases, phases, resource))
    shapes, annotations = _pod_lines(sizing, resource)
    layout = base_layout(f"{title} requests by phase ({unit})", 340 + 20 * (len(data) // 4))
    layout |= {
        "barmode": "stack",
        "xaxis": axis(title="phase", type="category", categoryorder="array", categoryarray=phases),
        "yaxis": axis(title=f"requested {unit}", rangemode="tozero"),
        "shapes": shapes,
        "annotations": annotations,
    }
    return {"data": data, "layout": layout}


def _phase_labels(phases: Sequence[Phase]) -> list[str]:
    """Escaped, unique x categories for the phases, in order."""
    labels: list[str] = []
    for ph in phases:
        label, n = escape(ph.name), 2
        while label in labels:
            label, n = f"{escape(ph.name)} ({n})", n + 1
        labels.append(label)
    return labels


def _phase_members(phases: Iterable[Phase]) -> list[str]:
    names: list[str] = []
    for ph in phases:
        names.extend(n for n in ph.requests if n not in names)
    return names


def _container_bars(
    name: str,
    index: int,
    phases: Sequence[Phase],
    labels: list[str],
    resource: str,
    sparse: bool = False,
) -> dict[str, Any]:
    """One stacked bar trace: what ``name`` requests in every phase it runs in.

    ``sparse`` (a condensed breakdown, see ``Sizing.breakdown``): only the phases that list the
    container get a bar, so the figure grows with the containers, not with their square.
    """
    x: list[str] = []
    y: list[float | None] = []
    custom: list[list[str]] = []
    for ph, label in zip(phases, labels, strict=True):
        if sparse and name not in ph.requests:
            continue
        request = ph.requests.get(name, {}).get(resource)
        limit = ph.limits.get(name, {}).get(resource)
        x.append(label)
        y.append(None if request is None else _in_unit(request, resource))
        custom.append(
            [escape(name), label, str(request or "none"), str(limit) if limit else "none"]
        )
    return {
        "type": "bar",
        "name": escape(name),
        "x": x,
        "y": y,
        "customdata": custom,
        "marker": {"color": CONTAINER_PALETTE[index % len(CONTAINER_PALETTE)]},
        "hovertemplate": (
            "<b>%{customdata[0]}</b><br>%{customdata[1]}<br>"
            "request %{customdata[2]} (limit %{customdata[3]})<extra></extra>"
        ),
    }


def _phase_totals(phases: Sequence[Phase], labels: list[str], resource: str) -> dict[str, Any]:
    """A label above each stack with the phase's total request (keeps empty phases on the axis)."""
    totals = [ph.total_requests.get(resource) for ph in phases]
    text = [str(q) if q is not None else "0" for q in totals]
    return {
        "type": "scatter",
        "mode": "markers+text",
        "name": "phase total",
        "showlegend": False,
        "x": labels,
        "y": [0.0 if q is None else _in_unit(q, resource) for q in totals],
        "text": text,
        "textposition": "top center",
        "customdata": [[label, t] for label, t in zip(labels, text, strict=True)],
        "marker": {
            "symbol": "line-ew-open",
            "size": 28,
            "color": FONT_COLOUR,
            "line": {"width": 2},
        },
        "hovertemplate": "%{customdata[0]}<br>total request %{customdata[1]}<extra></extra>",
    }


def _pod_lines(sizing: Sizing, resource: str) -> tuple[list[dict], list[dict]]:
    """Horizontal lines for the effective pod request and limit, labelled with their value."""
    shapes: list[dict] = []
    annotations: list[dict] = []
    request = sizing.requests.get(resource)
    limit = sizing.limits.get(resource)
    if request is not None:
        label = f"effective request {request}"
        if sizing.dominant.get(resource) in (POD_LEVEL, "overhead"):
            label += f" ({escape(sizing.dominant[resource])})"
        _hline(shapes, annotations, _in_unit(request, resource), label, "dash", left=True)
    else:
        annotations.append(_note(f"no container requests {resource}"))
    if limit is not None and not limit.is_zero():
        _hline(shapes, annotations, _in_unit(limit, resource), f"effective limit {limit}", "dot")
    elif resource in sizing.unbounded:
        annotations.append(
            _note("no effective limit", x=1.0, y=1.0, xanchor="right", yanchor="bottom")
        )
    return shapes, annotations


def _hline(
    shapes: list[dict], annotations: list[dict], y: float, label: str, dash: str, *, left=False
) -> None:
    shapes.append(
        {
            "type": "line",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "yref": "y",
            "y0": y,
            "y1": y,
            "line": {"color": FONT_COLOUR, "width": 2, "dash": dash},
        }
    )
    annotations.append(
        {
            "xref": "paper",
            "x": 0 if left else 1,
            "xanchor": "left" if left else "right",
            "yref": "y",
            "y": y,
            "yanchor": "bottom",
            "text": label,
            "showarrow": False,
            "font": {"size": 11},
        }
    )


_CAP = 2**63 - 1  # Kubernetes caps a quantity's magnitude there; beyond, floats overflow


def _in_unit(q: Quantity, resource: str) -> float:
    """Return ``q`` in cores (cpu) or MiB (memory), capped at 2^63-1 units (``1e999``)."""
    if resource == "cpu":
        return max(-_CAP, min(_CAP, q.nanos)) / 1e9
    return float(max(-_CAP, min(_CAP, q.value)) / RESOURCES[resource][2])


# ---------------------------------------------------------------------------------------------
# Gantt charts


def startup_gantt(timeline: Timeline, *, job: tuple[list[str], list[str]] | None = None) -> Figure:
    """Draw the startup simulation: one row per container, bars per phase, probe markers.

    ``job`` (containers that finish, containers that never exit) adds what happens after the
    start for a Job: the app works and exits, while a classic sidecar runs on and keeps the
    pod alive, so the Job never completes.
    """
    total = timeline.total_seconds
    segments = list(timeline.segments)
    markers = list(timeline.markers)
    lines: list[dict] = []
    title = f"Startup: every container started after {_secs(total)} (simulated)"
    if job is not None:
        finish, stay = job
        done = total + JOB_WORK_SECONDS
        horizon = done + JOB_WORK_SECONDS * 1.5
        segments = [
            s for s in segments if not (s.phase == "running" and s.container in finish + stay)
        ]
        for s in timeline.segments:
            if s.phase == "running" and s.container in finish:
                why = f"works, then exits (drawn as {JOB_WORK_SECONDS:g}s; the real time varies)"
                segments.append(replace(s, phase="running-to-completion", end=done, why=why))
            elif s.phase == "running" and s.container in stay:
                why = "never exits on its own: it keeps the pod, and so the Job, running"
                segments.append(replace(s, phase="keeps-running", end=horizon, why=why))
        markers += [Marker(done, "exits: its work is done", name) for name in finish]
        lines.append(
            {
                "time": done,
                "text": "app done; "
                + ", ".join(escape(n) for n in stay)
                + (" keeps" if len(stay) == 1 else " keep")
                + " the Job running",
                "dash": "dot",
                "colour": RED,
            }
        )
        title = f"Startup and run: started after {_secs(total)}; the Job never completes"
        timeline = replace(timeline, segments=tuple(segments), total_seconds=horizon)
    return _gantt(
        timeline,
        markers,
        title=title,
        axis_title="seconds after the pod sandbox is ready",
        default_kind="other",
        extra_lines=lines,
    )


def shutdown_gantt(timeline: Timeline, *, grace_seconds: int) -> Figure:
    """Draw the shutdown simulation with stop signals, SIGKILLs and the grace deadline."""
    # The timeline's own deadline marker is replaced by the labelled line for ``grace_seconds``.
    markers = [m for m in timeline.markers if not _is_grace_marker(m)]
    happens = max([timeline.total_seconds, *(m.time for m in markers), 0.5])
    title = (
        f"Shutdown: last container gone after {_secs(timeline.total_seconds)} "
        f"(grace period {grace_seconds}s)"
    )
    figure = _gantt(
        timeline,
        markers,
        title=title,
        axis_title="seconds after the pod is deleted",
        default_kind="signal",
        extra_lines=[],
    )
    grace = float(grace_seconds)
    if not figure["data"]:
        return figure
    if grace <= happens * 2:
        # Close enough to draw on the same axis.
        end = max(happens, grace) * 1.06
        shapes, annotations = _vertical_lines(
            [
                {
                    "time": grace,
                    "text": f"grace period {grace_seconds}s",
                    "dash": "dash",
                    "colour": FONT_COLOUR,
                }
            ],
            end,
        )
        figure["layout"]["shapes"] += shapes
        figure["layout"]["annotations"] += annotations
        figure["layout"]["xaxis"]["range"] = [0, end]
    else:
        # Far beyond: the axis fits what happens and the deadline is named at its right edge.
        figure["layout"]["annotations"].append(
            _note(
                f"grace period {grace_seconds}s →<br>(SIGKILL would come at {grace_seconds}s)",
                x=1.0,
                y=1.0,
                xanchor="right",
                yanchor="bottom",
            )
        )
    return figure


def _gantt(
    timeline: Timeline,
    markers: Sequence[Marker],
    *,
    title: str,
    axis_title: str,
    default_kind: str,
    extra_lines: list[dict],
) -> Figure:
    """Lay out bars, event symbols and vertical lines on one row per container."""
    rows = _rows(timeline.segments, markers)
    styles = _style_legend(timeline.segments)
    data = _lifecycle_bars(timeline.segments) + _marker_traces(markers, default_kind)
    lines = _event_lines(markers, default_kind) + extra_lines
    end = max([timeline.total_seconds, *(line["time"] for line in lines), 0.5]) * 1.06
    if not rows:
        # Nothing to draw: one line of text instead of an empty full-size chart.
        layout = base_layout(title, 90)
        layout |= {
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "showlegend": False,
            "annotations": [_note("no containers run in this phase of the pod's life")],
        }
        return {"data": [], "layout": layout}
    shapes, annotations = _vertical_lines(lines, end)
    layout = base_layout(title, 200 + 40 * max(len(rows), 1))
    layout["meta"] = {"segment_styles": styles}
    layout |= {
        "barmode": "overlay",
        "bargap": 0.3,
        "uniformtext": {"mode": "hide", "minsize": 9},
        "xaxis": axis(title=axis_title, range=[0, end], zeroline=False),
        "yaxis": axis(
            type="category",
            categoryorder="array",
            categoryarray=rows,
            autorange="reversed",
            automargin=True,
        ),
        "shapes": shapes,
        "annotations": annotations,
    }
    layout["margin"]["t"] = 100
    return {"data": data, "layout": layout}


def _is_grace_marker(m: Marker) -> bool:
    return m.container is None and m.label.startswith("grace deadline")


def _rows(segments: Iterable[Segment], markers: Iterable[Marker]) -> list[str]:
    """Escaped container names in the order they first appear (start order)."""
    rows: list[str] = []
    for name in [s.container for s in segments] + [m.container for m in markers if m.container]:
        if _row(name) not in rows:
            rows.append(_row(name))
    return rows


def _row(container: str | None) -> str:
    return escape(container) if container else "(unnamed)"


def _lifecycle_bars(segments: Sequence[Segment]) -> list[dict[str, Any]]:
    """One bar trace per lifecycle, so the legend names lifecycles and colours stay fixed."""
    traces = []
    for lifecycle, (legend, colour) in LIFECYCLES.items():
        mine = [s for s in segments if s.lifecycle == lifecycle]
        if mine:
            traces.append(_bar_trace(mine, legend, colour))
    other = [s for s in segments if s.lifecycle not in LIFECYCLES]
    if other:
        traces.append(_bar_trace(other, "other container", "#999999"))
    return traces


def _style_legend(segments: Sequence[Segment]) -> list[list[str]]:
    """The segment styles used, as [label, pattern shape, outline colour or ""]: charts.js
    draws them as a key under the chart (plotly's legend shows only traces that have data)."""
    used = [p for p in PHASE_STYLES if any(s.phase == p for s in segments)]
    return [
        [escape(PHASE_STYLES[p][0]), PHASE_STYLES[p][2], PHASE_STYLES[p][3] or ""] for p in used
    ]


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio between two #rrggbb colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    a, b = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def blend(colour: str, opacity: float, under: str = "#ffffff") -> str:
    """``colour`` at ``opacity`` over ``under``, as #rrggbb."""
    mixed = [
        round(int(colour[i : i + 2], 16) * opacity + int(under[i : i + 2], 16) * (1 - opacity))
        for i in (1, 3, 5)
    ]
    return "#" + "".join(f"{c:02x}" for c in mixed)


def label_colour(fill: str) -> str:
    """Black or white, whichever reads better on ``fill``."""
    return "#000000" if contrast("#000000", fill) >= contrast("#ffffff", fill) else "#ffffff"


def _bar_trace(segments: Sequence[Segment], legend: str, colour: str) -> dict[str, Any]:
    styles = [PHASE_STYLES.get(s.phase, (s.phase, 1.0, "", None)) for s in segments]
    labels = [escape(label) for label, *_ in styles]
    # Labels sit on the fill; pick the colour that reads on it (the light page under it). A
    # patterned fill is mostly the page: its colour covers PATTERN_SOLIDITY of the area.
    text_colours = [
        label_colour(blend(colour, opacity * (PATTERN_SOLIDITY if shape else 1.0)))
        for _, opacity, shape, _ in styles
    ]
    return {
        "type": "bar",
        "orientation": "h",
        "name": legend,
        "y": [_row(s.container) for s in segments],
        "base": [s.start for s in segments],
        "x": [round(s.end - s.start, 6) for s in segments],
        "text": labels,
        "textposition": "inside",
        "insidetextanchor": "middle",
        "textangle": 0,
        "insidetextfont": {"color": text_colours},
        "customdata": [
            [_row(s.container), label, _wrap(s.why), _secs(s.start), _secs(s.end), legend]
            for s, label in zip(segments, labels, strict=True)
        ],
        "hovertemplate": (
            "<b>%{customdata[0]}</b>: %{customdata[1]}<br>"
            "%{customdata[3]} → %{customdata[4]}<br>%{customdata[2]}"
            "<extra>%{customdata[5]}</extra>"
        ),
        "marker": {
            "color": colour,
            "opacity": [opacity for _, opacity, _, _ in styles],
            "pattern": {
                "shape": [shape for *_, shape, _ in styles],
                "solidity": PATTERN_SOLIDITY,
                "bgcolor": "#ffffff",
            },
            "line": {
                "color": [outline or colour for *_, outline in styles],
                "width": [2 if outline else 1 for *_, outline in styles],
            },
        },
    }


def _marker_kind(m: Marker, default_kind: str) -> str:
    if m.container is None:
        return "pod"
    if m.label == "startup probe passes":
        return "probe-pass"
    if m.label.startswith("startup probe would kill"):
        return "probe-kill"
    if m.label == "SIGKILL":
        return "sigkill"
    if m.label == "grace budget used up":
        return "budget"
    return default_kind


def _marker_traces(markers: Sequence[Marker], default_kind: str) -> list[dict[str, Any]]:
    """Scatter symbols on each container's row, one trace (and legend entry) per kind of event."""
    traces = []
    for kind, (legend, symbol, colour, size) in MARKER_STYLES.items():
        mine = [m for m in markers if _marker_kind(m, default_kind) == kind]
        if not mine:
            continue
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": legend,
                "x": [m.time for m in mine],
                "y": [_row(m.container) for m in mine],
                "customdata": [[_row(m.container), escape(m.label), _secs(m.time)] for m in mine],
                "hovertemplate": (
                    "<b>%{customdata[0]}</b>: %{customdata[1]} at %{customdata[2]}<extra></extra>"
                ),
                "marker": {
                    "symbol": symbol,
                    "color": colour,
                    "size": size,
                    "line": {"color": colour, "width": 2},
                },
                "cliponaxis": False,
            }
        )
    return traces


def _event_lines(markers: Sequence[Marker], default_kind: str) -> list[dict]:
    """Vertical lines for pod-wide events and kills, one per time and kind."""
    grouped: dict[tuple[float, str], list[Marker]] = {}
    for m in markers:
        kind = _marker_kind(m, default_kind)
        if kind in LINE_KINDS:
            grouped.setdefault((m.time, kind), []).append(m)
    lines = []
    for (time, kind), group in grouped.items():
        dash, colour = LINE_KINDS[kind]
        lines.append(
            {"time": time, "text": _line_text(kind, group), "dash": dash, "colour": colour}
        )
    return lines


def _line_text(kind: str, group: Sequence[Marker]) -> str:
    if kind == "pod":
        return " · ".join(dict.fromkeys(escape(m.label) for m in group))
    names = [_row(m.container) for m in group]
    shown = ", ".join(names[:2]) + (f" +{len(names) - 2} more" if len(names) > 2 else "")
    prefix = "✖ SIGKILL" if kind == "sigkill" else "✖ startup probe would kill"
    return f"{prefix}: {shown}"


def _vertical_lines(lines: Sequence[dict], end: float) -> tuple[list[dict], list[dict]]:
    """Shapes and staggered labels for vertical event lines (``end`` is the x-axis end)."""
    shapes: list[dict] = []
    annotations: list[dict] = []
    for i, line in enumerate(sorted(lines, key=lambda item: item["time"])):
        right = line["time"] > 0.7 * end
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "x0": line["time"],
                "x1": line["time"],
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "line": {"color": line["colour"], "width": 1.5, "dash": line["dash"]},
            }
        )
        annotations.append(
            {
                "xref": "x",
                "x": line["time"],
                "xanchor": "right" if right else "left",
                "yref": "paper",
                "y": 1,
                "yanchor": "bottom",
                "yshift": 2 + 16 * (i % 3),
                "text": line["text"],
                "showarrow": False,
                "font": {"size": 11, "color": line["colour"]},
            }
        )
    return shapes, annotations


def _wrap(text: str, width: int = 70) -> str:
    """Escape ``text`` and break it into hover lines."""
    return "<br>".join(escape(part) for part in textwrap.wrap(text, width)) or ""


def _secs(value: float) -> str:
    return f"{round(value, 3):g}s"


# ---------------------------------------------------------------------------------------------
# shared layout


def base_layout(title: str, height: int) -> dict[str, Any]:
    return {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        "autosize": True,
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 60, "b": 10, "pad": 2},
        "paper_bgcolor": TRANSPARENT,
        "plot_bgcolor": TRANSPARENT,
        "font": {"color": FONT_COLOUR, "family": "system-ui, sans-serif", "size": 12},
        # Below the plot, in space plotly reserves for it ("container" reference).
        "legend": {
            "orientation": "h",
            "xref": "paper",
            "x": 0,
            "xanchor": "left",
            "yref": "container",
            "y": 0,
            "yanchor": "bottom",
        },
        "hoverlabel": {"align": "left"},
        "hovermode": "closest",
    }


def axis(*, title: str | None = None, **options: Any) -> dict[str, Any]:
    axis: dict[str, Any] = {
        "gridcolor": GRID_COLOUR,
        "linecolor": GRID_COLOUR,
        "zerolinecolor": GRID_COLOUR,
        "automargin": True,
        "fixedrange": False,
    }
    if title:
        axis["title"] = {"text": title}
    return axis | options


def _note(
    text: str, *, x: float = 0.5, y: float = 0.5, xanchor: str = "center", yanchor: str = "middle"
) -> dict[str, Any]:
    """Place a label on the plot area (paper coordinates), not on the data."""
    return {
        "xref": "paper",
        "yref": "paper",
        "x": x,
        "y": y,
        "xanchor": xanchor,
        "yanchor": yanchor,
        "text": text,
        "showarrow": False,
        "font": {"size": 12},
    }
