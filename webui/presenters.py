"""Shape core results for templates: grouping, chart figures, commands. No Kubernetes logic."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from advisor.core.analyze import Report, WorkloadReport
from advisor.core.debug import Command, kubectl_commands
from advisor.core.fixes import offers_fix
from advisor.core.report import quantities
from advisor.core.rules import REGISTRY, SEVERITIES, Finding
from webui import charts

SEVERITY_LABEL = {"error": "Error", "warning": "Warning", "info": "Info"}
SEVERITY_ICON = {"error": "✖", "warning": "▲", "info": "ℹ"}


@dataclass(frozen=True)
class FindingView:
    finding: Finding
    title: str
    fix_value: str | None  # the value the fix-it button posts, when the rule has a mechanical fix

    @property
    def icon(self) -> str:
        return SEVERITY_ICON[self.finding.severity]


@dataclass(frozen=True)
class WorkloadView:
    index: int
    report: WorkloadReport
    groups: list[tuple[str, str, list[FindingView]]]
    charts: list[tuple[str, str, str, dict[str, Any]]]  # (element id, title, filename, figure)
    commands: tuple[Command, ...]
    requests: dict[str, str]
    limits: dict[str, str]

    @property
    def anchor(self) -> str:
        return f"w{self.index}"

    @property
    def wiring_svg(self) -> str:
        """The wiring diagram (every label escaped by :mod:`webui.wiring_svg`)."""
        from django.utils.safestring import mark_safe

        from webui.wiring_svg import wiring_svg

        return mark_safe(wiring_svg(self.report, index=self.index))


def workload_views(report: Report) -> list[WorkloadView]:
    """One view per analysed workload, in input order."""
    return [_workload_view(i, w, report) for i, w in enumerate(report.workloads)]


def _workload_view(index: int, w: WorkloadReport, report: Report) -> WorkloadView:
    figures = charts.workload_charts(w)
    titles = {
        "resources-cpu": "CPU requests by phase",
        "resources-memory": "Memory requests by phase",
        "startup": "Startup",
        "shutdown": "Shutdown",
    }
    chart_list = [
        (f"chart-{index}-{key}", titles.get(key, key), f"{w.workload.name}-{key}", fig)
        for key, fig in figures.items()
    ]
    return WorkloadView(
        index=index,
        report=w,
        groups=_groups(w, report),
        charts=chart_list,
        commands=kubectl_commands(w.workload),
        requests=quantities(w.sizing.requests),
        limits=quantities(w.sizing.limits),
    )


def _groups(w: WorkloadReport, report: Report) -> list[tuple[str, str, list[FindingView]]]:
    groups = []
    for severity in SEVERITIES:
        items = [_finding_view(f, w, report) for f in w.findings if f.severity == severity]
        if items:
            groups.append((severity, SEVERITY_LABEL[severity], items))
    return groups


def _finding_view(f: Finding, w: WorkloadReport, report: Report) -> FindingView:
    rule = REGISTRY.get(f.rule)
    return FindingView(
        finding=f,
        title=rule.title if rule else f.rule,
        fix_value=_fix_value(f, w) if offers_fix(f.rule, report.kubernetes_version) else None,
    )


def _fix_value(f: Finding, w: WorkloadReport) -> str | None:
    """What the fix-it button sends: the rule and where to apply it."""
    app = next((c.name for c in w.containers if c.role == "app"), None)
    if f.rule.startswith("hpa-"):
        if not w.hpas or f.file not in (None, w.workload.file):
            return None
        return json.dumps({"rule": f.rule, "hpa": w.hpas[0], "container": app})
    return json.dumps({"rule": f.rule, "document": w.workload.document, "container": f.container})


def manifest_lines(text: str) -> list[str]:
    """The manifest split into lines for the numbered code view."""
    return text.replace("\r\n", "\n").split("\n")
