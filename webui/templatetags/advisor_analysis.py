"""Render a stored analysis snapshot with the analyser's own templates (saved reviews)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.urls import reverse

from advisor.core.report import quantities
from webui import charts, presenters, views

register = template.Library()


@register.simple_tag
def stored_analysis(
    snapshot: Mapping[str, Any] | None, manifest: str = "", slug: str = "", revision: Any = None
) -> dict[str, Any] | None:
    """The context ``_result.html`` needs, read from a snapshot (no analysis is run).

    With more workloads than the analyser renders up front, the summary comes first and each
    workload is fetched from ``review-workload`` when opened (``revision`` picks an older one).
    """
    if not snapshot or "workloads" not in snapshot:
        return None
    report = presenters.report_from_snapshot(snapshot)
    context: dict[str, Any] = {"report": report}
    if len(report.workloads) > views.inline_limit() and slug:
        url = reverse("review-workload", args=[slug, 0]).removesuffix("0/")
        context |= {
            "summary": presenters.summary(report),
            "detail_url": url,
            "detail_query": f"?revision={revision}" if revision else "",
            "workloads": [],
        }
    else:
        context["workloads"] = presenters.workload_views(report)
    context["lines"] = presenters.manifest_lines(manifest) if manifest else []
    return context


# Before/after charts for at most this many workloads (the ones whose timeline or requests moved).
SIDE_BY_SIDE_LIMIT = 10


@register.simple_tag
def side_by_side(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[Any]:
    """For each workload in both snapshots whose timelines or requests differ: its startup,
    shutdown and request charts before and after, as (key, [(title, before id, fig, after id,
    fig)], requests before, requests after)."""
    if not before or not after:
        return []
    old = presenters.report_from_snapshot(before)
    new = presenters.report_from_snapshot(after)
    key = presenters.workload_key
    previous = {key(w): w for w in old.workloads}
    out: list[Any] = []
    for j, w in enumerate(new.workloads):
        if key(w) not in previous:
            continue
        v = previous[key(w)]
        if (v.startup, v.shutdown, v.sizing.phases) == (w.startup, w.shutdown, w.sizing.phases):
            continue
        a, b = charts.workload_charts(v), charts.workload_charts(w)
        pairs = [
            (title, f"cmp-{j}-a-{name}", a[name], f"cmp-{j}-b-{name}", b[name])
            for name, title in CHART_TITLES
        ]
        out.append((key(w), pairs, quantities(v.sizing.requests), quantities(w.sizing.requests)))
        if len(out) == SIDE_BY_SIDE_LIMIT:
            break
    return out


CHART_TITLES = (
    ("startup", "Startup"),
    ("shutdown", "Shutdown"),
    ("resources-cpu", "CPU requests by phase"),
    ("resources-memory", "Memory requests by phase"),
)
