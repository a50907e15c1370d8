"""Render a stored analysis snapshot with the analyser's own templates (saved reviews)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.urls import reverse

from webui import presenters, views

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
