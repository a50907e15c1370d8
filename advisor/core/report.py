"""Turn a :class:`~advisor.core.analyze.Report` into JSON, SARIF 2.1.0 or text.

The JSON document is the stable interface for CI and the API (README "JSON output").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson

from advisor.core import ANALYZER_VERSION
from advisor.core.analyze import Report, WorkloadReport
from advisor.core.lifecycle import Timeline
from advisor.core.quantity import Quantity
from advisor.core.rules import REGISTRY, Finding
from advisor.core.sizing import Sizing
from advisor.core.versions import format_version
from advisor.core.wiring import describe

SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
INFORMATION_URI = "https://github.com/pod-pattern-advisor/pod-pattern-advisor"


def quantities(values: Mapping[str, Quantity]) -> dict[str, str]:
    """Render a resource map with canonical quantity strings, names sorted."""
    return {name: str(values[name]) for name in sorted(values)}


def to_dict(report: Report) -> dict[str, Any]:
    """Return the stable JSON document for ``report``."""
    return {
        "analyzer_version": report.analyzer_version,
        "kubernetes_version": format_version(report.kubernetes_version),
        "api_defaults": report.api_defaults,
        "summary": _summary(report),
        "workloads": [workload_dict(w) for w in report.workloads],
        "skipped": [
            {
                "file": s.file,
                "document": s.document,
                "line": s.line,
                "kind": s.kind,
                "name": s.name,
                "reason": s.reason,
            }
            for s in report.skipped
        ],
        "errors": [
            {"file": e.file, "document": e.document, "line": e.line, "message": e.message}
            for e in report.errors
        ],
    }


def _summary(report: Report) -> dict[str, int]:
    counts = {"workloads": len(report.workloads), "error": 0, "warning": 0, "info": 0}
    for _, f in report.findings():
        counts[f.severity] += 1
    return counts


def workload_dict(w: WorkloadReport) -> dict[str, Any]:
    """Return the JSON object for one workload."""
    wl = w.workload
    return {
        "file": wl.file,
        "document": wl.document,
        "line": wl.line,
        "kind": wl.kind,
        "name": wl.name,
        "namespace": wl.namespace,
        "containers": [
            {
                "name": c.name,
                "lifecycle": c.lifecycle,
                "role": c.role,
                "reason": c.reason,
                "line": c.line,
                "image": c.image,
                "long_running": c.long_running,
                "advice": c.advice,
            }
            for c in w.containers
        ],
        "effective": sizing_dict(w.sizing),
        "qos_class": w.sizing.qos_class,
        "startup": timeline_rows(w.startup),
        "shutdown": timeline_rows(w.shutdown),
        "startup_details": timeline_details(w.startup),
        "shutdown_details": timeline_details(w.shutdown),
        "recommendation": {
            "patterns": list(w.advice.patterns),
            "summary": w.advice.summary,
            "advice": [{"container": name, "text": text} for name, text in w.advice.per_container],
        },
        "findings": [finding_dict(f) for f in w.findings],
        "suppressed": [finding_dict(f) for f in w.suppressed],
        "ignored_rules": list(w.ignored_rules),
        "hpas": list(w.hpas),
        "wiring": wiring_dict(w),
    }


def wiring_dict(w: WorkloadReport) -> dict[str, Any]:
    """The pod's wiring: edges (kind, from, to, port or volume, evidence, line) and loose ends."""
    wiring = w.wiring
    if wiring is None:
        return {"edges": [], "dangling": [], "listeners": [], "mesh_proxy": None}
    return {
        "edges": [
            {
                "kind": e.kind,
                "from": e.source,
                "to": e.target,
                "port": e.port,
                "volume": e.volume,
                "directed": e.directed,
                "evidence": e.evidence,
                "line": e.line,
            }
            for e in wiring.edges
        ],
        "dangling": [
            {
                "from": d.container,
                "port": d.port,
                "evidence": d.evidence,
                "line": d.line,
                "near": ({"container": d.near.container, "port": d.near.port} if d.near else None),
            }
            for d in wiring.dangling
        ],
        "listeners": [
            {"container": x.container, "port": x.port, "evidence": x.evidence, "line": x.line}
            for x in wiring.listeners
        ],
        "mesh_proxy": wiring.mesh_proxy,
    }


def finding_dict(f: Finding) -> dict[str, Any]:
    out = {
        "rule": f.rule,
        "severity": f.severity,
        "container": f.container,
        "line": f.line,
        "message": f.message,
        "fix": f.fix,
    }
    if f.file:
        out["file"] = f.file
    return out


def sizing_dict(s: Sizing) -> dict[str, Any]:
    return {
        "requests": quantities(s.requests),
        "limits": quantities(s.limits),
        "dominant": dict(sorted(s.dominant.items())),
        "unbounded": dict(sorted(s.unbounded.items())),
        "defaults_applied": list(s.defaults_applied),
        "notes": list(s.notes),
        "breakdown": s.breakdown,
        "phases": [
            {
                "name": p.name,
                "kind": p.kind,
                "container": p.container,
                "requests": {c: quantities(v) for c, v in p.requests.items()},
                "limits": {c: quantities(v) for c, v in p.limits.items()},
                "total_requests": quantities(p.total_requests),
                "total_limits": quantities(p.total_limits),
            }
            for p in s.phases
        ],
    }


def timeline_rows(t: Timeline) -> list[dict[str, Any]]:
    return [
        {
            "container": s.container,
            "lifecycle": s.lifecycle,
            "phase": s.phase,
            "start": s.start,
            "end": s.end,
            "why": s.why,
        }
        for s in t.segments
    ]


def timeline_details(t: Timeline) -> dict[str, Any]:
    return {
        "total_seconds": t.total_seconds,
        "markers": [
            {"time": m.time, "label": m.label, "container": m.container} for m in t.markers
        ],
        "assumptions": list(t.assumptions),
        "notes": list(t.notes),
    }


def to_json(report: Report, *, indent: int | None = 2) -> str:
    return dumps(to_dict(report), indent=indent)


def dumps(data: Any, *, indent: int | None = 2) -> str:
    """Serialise a report document: orjson where it gives ``json.dumps``'s exact text.

    ``json.dumps(indent=2, ensure_ascii=False)`` and orjson's ``OPT_INDENT_2`` write the same
    bytes for what reports hold (str keys, strings, ints within 64 bits, finite floats, lists,
    dicts); anything else (a huge int, a non-finite float) falls back to ``json``.
    """
    if indent == 2:  # orjson has no compact form with json's ", " and ": " separators
        try:
            return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode()
        except (TypeError, OverflowError):
            pass
    return json.dumps(data, indent=indent, ensure_ascii=False)


def to_sarif(report: Report) -> dict[str, Any]:
    """Return a SARIF 2.1.0 log that GitHub code scanning accepts."""
    rule_ids = list(REGISTRY)
    results = []
    for w, f in report.findings():
        results.append(_sarif_result(w, f, rule_ids.index(f.rule)))
    notifications = [
        {
            "level": "error",
            "message": {"text": e.message},
            "locations": [_location(e.file, e.line)],
        }
        for e in report.errors
    ]
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "pod-pattern-advisor",
                        "version": ANALYZER_VERSION,
                        "semanticVersion": ANALYZER_VERSION,
                        "informationUri": INFORMATION_URI,
                        "rules": [_sarif_rule(REGISTRY[i]) for i in rule_ids],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not report.errors,
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "results": results,
            }
        ],
    }


def _sarif_rule(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": "".join(part.capitalize() for part in r.id.split("-")),
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": r.rationale},
        "help": {
            "text": f"{r.rationale}\n\nFix: {r.fix}",
            "markdown": f"{r.rationale}\n\n**Fix:** {r.fix}",
        },
        "defaultConfiguration": {"level": SARIF_LEVEL[r.severity]},
        "properties": {"tags": ["kubernetes", r.area], "precision": "high"},
    }


def _sarif_result(w: WorkloadReport, f: Finding, index: int) -> dict[str, Any]:
    file = f.file or w.workload.file
    where = f"{w.workload.kind}/{w.workload.name}"
    text = f"{where}: {f.message}. Fix: {f.fix}"
    import hashlib  # only SARIF needs it; importing it costs a run that writes none 4 ms

    digest = hashlib.sha256(f"{f.rule}|{where}|{f.container}|{f.message}".encode()).hexdigest()
    return {
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": SARIF_LEVEL[f.severity],
        "message": {"text": text},
        "locations": [_location(file, f.line)],
        "partialFingerprints": {"podAdvisorFinding/v1": digest[:32]},
    }


def _location(file: str, line: int | None) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": file or "stdin"},
            "region": {"startLine": max(1, line or 1)},
        }
    }


def to_text(report: Report) -> str:
    """Return a report for people reading a terminal."""
    lines = text_header(report)
    for w in report.workloads:
        lines.extend(text_workload(w))
    lines.extend(text_footer(report, _summary(report)))
    return "\n".join(lines) + "\n"


def text_header(report: Report) -> list[str]:
    """The text report's first lines (the workloads follow)."""
    return [
        f"Pod Pattern Advisor {report.analyzer_version} - Kubernetes "
        f"{format_version(report.kubernetes_version)}"
        f"{'' if report.api_defaults else ' (no API defaulting)'}",
        "",
    ]


def text_footer(report: Report, counts: Mapping[str, int]) -> list[str]:
    """The text report's last lines: skipped and unreadable documents, then the totals."""
    lines: list[str] = []
    for s in report.skipped:
        lines.append(
            f"skipped {s.file}:{s.line or '?'} (document {s.document}) "
            f"{s.kind or '?'} {s.name}: {s.reason}"
        )
    for e in report.errors:
        where = f"document {e.document}, " if e.document else ""
        lines.append(f"ERROR {e.file}: {where}line {e.line or '?'}: {e.message}")
    lines.append("")
    lines.append(
        f"{counts['workloads']} workload(s): {counts['error']} error(s), "
        f"{counts['warning']} warning(s), {counts['info']} info; "
        f"{len(report.skipped)} skipped, {len(report.errors)} unreadable"
    )
    return lines


def text_workload(w: WorkloadReport) -> list[str]:
    """The text report's lines for one workload."""
    wl = w.workload
    ns = f" -n {wl.namespace}" if wl.namespace else ""
    out = [f"== {wl.kind}/{wl.name}{ns}  ({wl.file}:{wl.line}, document {wl.document})"]
    for c in w.containers:
        out.append(f"   {c.lifecycle:<15} {c.role:<13} {c.name}: {c.reason}")
    s = w.sizing
    out.append(f"   requests {_fmt(s.requests)}  limits {_fmt(s.limits)}  QoS {s.qos_class}")
    for name, reason in s.unbounded.items():
        out.append(f"   {name} limit unbounded in practice: {reason}")
    out.append(f"   startup  {_order(w.startup)}  ({w.startup.total_seconds:g}s)")
    out.append(f"   shutdown {_order(w.shutdown)}  ({w.shutdown.total_seconds:g}s)")
    out.extend(_text_wiring(w))
    out.append(f"   advice: {w.advice.summary}")
    for name, text in w.advice.per_container:
        out.append(f"     - {name}: {text}")
    for f in w.findings:
        at = (
            f"{f.file}:{f.line or '?'}" if f.file and f.file != wl.file else f"line {f.line or '?'}"
        )
        out.append(f"   {f.severity.upper():<7} {f.rule} ({at}): {f.message}")
        out.append(f"           fix: {f.fix}")
    if w.suppressed:
        out.append(
            f"   {len(w.suppressed)} finding(s) suppressed by pod-advisor.io/ignore: "
            f"{', '.join(sorted({f.rule for f in w.suppressed}))}"
        )
    out.append("")
    return out


WIRING_TEXT_LIMIT = 12


def _text_wiring(w: WorkloadReport) -> list[str]:
    """A few lines: the pod's edges (the first dozen) and calls that reach nothing."""
    if w.wiring is None or not (w.wiring.edges or w.wiring.dangling):
        return []
    edges = w.wiring.edges
    out = [f"   wiring ({len(edges)} edge(s)):"]
    out += [f"     {describe(e)}" for e in edges[:WIRING_TEXT_LIMIT]]
    if len(edges) > WIRING_TEXT_LIMIT:
        out.append(f"     ... {len(edges) - WIRING_TEXT_LIMIT} more in --format json")
    for d in w.wiring.dangling:
        near = f" ('{d.near.container}' serves {d.near.port})" if d.near else ""
        out.append(
            f"     loose end: {d.container} calls local port {d.port}, nothing serves it{near}"
        )
    return out


def _fmt(values: Mapping[str, Quantity]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in quantities(values).items()) + "}"


def _order(t: Timeline) -> str:
    seen: list[str] = []
    for seg in sorted(t.segments, key=lambda s: s.start):
        if seg.container not in seen:
            seen.append(seg.container)
    return " -> ".join(seen) if seen else "-"
