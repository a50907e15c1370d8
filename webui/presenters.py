"""Shape core results for templates: grouping, chart figures, commands. No Kubernetes logic."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from advisor.core.analyze import Advice, ContainerReport, Report, WorkloadReport
from advisor.core.debug import Command, kubectl_commands
from advisor.core.fixes import offers_fix
from advisor.core.lifecycle import Assumptions, Marker, Segment, Timeline
from advisor.core.model import PodTemplate, Problem, Skipped, Workload
from advisor.core.quantity import Quantity, parse_quantity
from advisor.core.report import quantities
from advisor.core.rules import REGISTRY, SEVERITIES, Finding
from advisor.core.sizing import Phase, Sizing
from advisor.core.versions import parse_version
from advisor.core.wiring import Dangling, Edge, Listener, Wiring
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

    def assumptions(self) -> list[str]:
        """Every assumption either simulation used, once each, in order."""
        return list(
            dict.fromkeys(self.report.startup.assumptions + self.report.shutdown.assumptions)
        )


def workload_views(report: Report) -> list[WorkloadView]:
    """One view per analysed workload, in input order."""
    return [_workload_view(i, w, report) for i, w in enumerate(report.workloads)]


def workload_view(index: int, report: Report) -> WorkloadView:
    """The view of one workload (the many-workloads page renders them one at a time)."""
    return _workload_view(index, report.workloads[index], report)


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


@dataclass(frozen=True)
class SummaryRow:
    """One workload in the many-workloads summary: what it is and what is wrong, no charts."""

    index: int
    kind: str
    name: str
    namespace: str
    roles: dict[str, int]  # role -> containers
    patterns: tuple[str, ...]
    cpu: str
    memory: str
    counts: dict[str, int]  # severity -> findings
    rules: tuple[str, ...]
    cpu_sort: float  # cores, for sorting
    memory_sort: float  # bytes, for sorting

    @property
    def anchor(self) -> str:
        return f"w{self.index}"

    @property
    def findings(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Summary:
    """Totals over every workload, and one row each."""

    rows: list[SummaryRow]
    counts: dict[str, int]
    roles: dict[str, int]
    rules: list[str]


def summary(report: Report) -> Summary:
    """The overview of a result with many workloads (cheap: no chart is built)."""
    rows = [_summary_row(i, w) for i, w in enumerate(report.workloads)]
    counts = {s: sum(r.counts[s] for r in rows) for s in SEVERITIES}
    roles: dict[str, int] = {}
    for r in rows:
        for role, n in r.roles.items():
            roles[role] = roles.get(role, 0) + n
    rules = sorted({rule for r in rows for rule in r.rules})
    return Summary(rows=rows, counts=counts, roles=dict(sorted(roles.items())), rules=rules)


def _summary_row(index: int, w: WorkloadReport) -> SummaryRow:
    roles: dict[str, int] = {}
    for c in w.containers:
        roles[c.role] = roles.get(c.role, 0) + 1
    counts = {s: sum(1 for f in w.findings if f.severity == s) for s in SEVERITIES}
    requests = quantities(w.sizing.requests)
    cpu, memory = w.sizing.requests.get("cpu"), w.sizing.requests.get("memory")
    wl = w.workload
    return SummaryRow(
        index=index,
        kind=wl.kind,
        name=wl.name,
        namespace=wl.namespace,
        roles=dict(sorted(roles.items())),
        patterns=w.advice.patterns,
        cpu=requests.get("cpu", ""),
        memory=requests.get("memory", ""),
        counts=counts,
        rules=tuple(sorted({f.rule for f in w.findings})),
        cpu_sort=cpu.nanos / 1e9 if cpu is not None else 0.0,
        memory_sort=float(memory.value) if memory is not None else 0.0,
    )


def workload_key(w: WorkloadReport) -> str:
    """Kind/name and namespace: how two analyses of one review are matched workload by workload."""
    wl = w.workload
    return f"{wl.kind}/{wl.name}" + (f" -n {wl.namespace}" if wl.namespace else "")


def manifest_lines(text: str) -> list[str]:
    """The manifest split into lines for the numbered code view."""
    return text.replace("\r\n", "\n").split("\n")


# ---------------------------------------------------------------------------------------------
# A stored snapshot (the JSON document of advisor.core.report.to_dict) read back into the core's
# result types, so that a saved review renders with the same template and charts as /analyze/,
# without analysing anything again. Fields an older snapshot lacks fall back to empty values.


def report_from_snapshot(snapshot: Mapping[str, Any]) -> Report:
    """The :class:`Report` a snapshot was made from, as far as the page needs it."""
    version = str(snapshot.get("kubernetes_version") or "1.37")
    return Report(
        analyzer_version=str(snapshot.get("analyzer_version", "")),
        kubernetes_version=parse_version(version),
        api_defaults=bool(snapshot.get("api_defaults", True)),
        assumptions=Assumptions(),
        workloads=tuple(_workload_from(w) for w in snapshot.get("workloads", [])),
        skipped=tuple(
            Skipped(
                file=s.get("file", ""),
                document=s.get("document", 0),
                line=s.get("line"),
                kind=s.get("kind", ""),
                name=s.get("name", ""),
                reason=s.get("reason", ""),
            )
            for s in snapshot.get("skipped", [])
        ),
        errors=tuple(
            Problem(
                file=e.get("file", ""),
                document=e.get("document"),
                line=e.get("line"),
                message=e.get("message", ""),
            )
            for e in snapshot.get("errors", [])
        ),
    )


def workload_view_from_snapshot(snapshot: Mapping[str, Any], index: int) -> WorkloadView:
    """The view of one workload of a stored snapshot (only that one is read back)."""
    workloads = snapshot.get("workloads", [])
    if not 0 <= index < len(workloads):
        raise IndexError(index)
    report = report_from_snapshot({**snapshot, "workloads": [], "skipped": [], "errors": []})
    return _workload_view(index, _workload_from(workloads[index]), report)


def _workload_from(w: Mapping[str, Any]) -> WorkloadReport:
    containers = tuple(
        ContainerReport(
            name=c.get("name", ""),
            lifecycle=c.get("lifecycle", "regular"),
            role=c.get("role", ""),
            reason=c.get("reason", ""),
            line=c.get("line"),
            image=c.get("image", ""),
            long_running=bool(c.get("long_running", True)),
            advice=c.get("advice"),
        )
        for c in w.get("containers", [])
    )
    pod = PodTemplate(spec={}, metadata={}, init_containers=(), containers=(), path="", line=None)
    workload = Workload(
        file=w.get("file", "manifest"),
        document=w.get("document", 0),
        line=w.get("line"),
        kind=w.get("kind", ""),
        api_version="",
        name=w.get("name", ""),
        namespace=w.get("namespace", ""),
        pod=pod,
        raw={},
    )
    recommendation = w.get("recommendation", {})
    return WorkloadReport(
        workload=workload,
        containers=containers,
        sizing=_sizing_from(w.get("effective", {}), w.get("qos_class", ""), containers),
        startup=_timeline_from(w.get("startup", []), w.get("startup_details", {})),
        shutdown=_timeline_from(w.get("shutdown", []), w.get("shutdown_details", {})),
        advice=Advice(
            patterns=tuple(recommendation.get("patterns", [])),
            summary=recommendation.get("summary", ""),
            per_container=tuple(
                (a.get("container", ""), a.get("text", ""))
                for a in recommendation.get("advice", [])
            ),
        ),
        findings=tuple(_finding_from(f) for f in w.get("findings", [])),
        suppressed=tuple(_finding_from(f) for f in w.get("suppressed", [])),
        ignored_rules=tuple(w.get("ignored_rules", [])),
        hpas=tuple(w.get("hpas", [])),
        wiring=_wiring_from(w.get("wiring"), tuple(c.name for c in containers)),
    )


def _wiring_from(data: Mapping[str, Any] | None, containers: tuple[str, ...]) -> Wiring | None:
    """The wiring a snapshot stored (snapshots older than the wiring model have none)."""
    if not data:
        return None

    def listener(x: Mapping[str, Any]) -> Listener:
        return Listener(
            x.get("container", ""), x.get("port", 0), x.get("evidence", ""), x.get("line")
        )

    return Wiring(
        containers=containers,
        edges=tuple(
            Edge(
                kind=e.get("kind", "network"),
                source=e.get("from", ""),
                target=e.get("to", ""),
                port=e.get("port"),
                volume=e.get("volume"),
                evidence=e.get("evidence", ""),
                line=e.get("line"),
                directed=bool(e.get("directed", True)),
            )
            for e in data.get("edges", [])
        ),
        listeners=tuple(listener(x) for x in data.get("listeners", [])),
        dangling=tuple(
            Dangling(
                container=d.get("from", ""),
                port=d.get("port", 0),
                evidence=d.get("evidence", ""),
                line=d.get("line"),
                near=(
                    Listener(d["near"].get("container", ""), d["near"].get("port", 0), "", None)
                    if d.get("near")
                    else None
                ),
            )
            for d in data.get("dangling", [])
        ),
        mesh_proxy=data.get("mesh_proxy"),
    )


def _finding_from(f: Mapping[str, Any]) -> Finding:
    return Finding(
        rule=f.get("rule", ""),
        severity=f.get("severity", "info"),
        message=f.get("message", ""),
        fix=f.get("fix", ""),
        line=f.get("line"),
        container=f.get("container"),
        file=f.get("file"),
    )


def _resources(values: Mapping[str, Any]) -> dict[str, Quantity]:
    return {k: parse_quantity(v) for k, v in values.items()}


def _sizing_from(e: Mapping[str, Any], qos: str, containers: tuple[ContainerReport, ...]) -> Sizing:
    phases = tuple(
        Phase(
            name=p.get("name", ""),
            kind=p.get("kind", ""),
            container=p.get("container"),
            requests={c: _resources(v) for c, v in p.get("requests", {}).items()},
            limits={c: _resources(v) for c, v in p.get("limits", {}).items()},
            total_requests=_resources(p.get("total_requests", {})),
            total_limits=_resources(p.get("total_limits", {})),
        )
        for p in e.get("phases", [])
    )
    return Sizing(
        requests=_resources(e.get("requests", {})),
        limits=_resources(e.get("limits", {})),
        qos_class=qos,
        dominant=dict(e.get("dominant", {})),
        phases=phases,
        unbounded=dict(e.get("unbounded", {})),
        defaults_applied=tuple(e.get("defaults_applied", [])),
        problems=(),
        notes=tuple(e.get("notes", [])),
        # Only the names and their order matter to the page (chart colours follow them).
        container_requests={c.name: {} for c in containers},
        container_limits={},
    )


def _timeline_from(rows: Any, details: Mapping[str, Any]) -> Timeline:
    segments = tuple(
        Segment(
            container=r.get("container", ""),
            lifecycle=r.get("lifecycle", "regular"),
            phase=r.get("phase", "running"),
            start=float(r.get("start", 0)),
            end=float(r.get("end", 0)),
            why=r.get("why", ""),
        )
        for r in rows
    )
    markers = tuple(
        Marker(time=float(m.get("time", 0)), label=m.get("label", ""), container=m.get("container"))
        for m in details.get("markers", [])
    )
    total = details.get("total_seconds")
    if total is None:
        total = max((s.end for s in segments), default=0.0)
    return Timeline(
        segments=segments,
        markers=markers,
        total_seconds=float(total),
        assumptions=tuple(details.get("assumptions", [])),
        notes=tuple(details.get("notes", [])),
    )
