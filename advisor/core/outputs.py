"""Report formats for CI systems: SARIF with portable locations, GitHub annotations, JUnit XML.

``report.py`` owns the JSON document and the base SARIF log; this module adapts them to what CI
tools read. Locations are made relative to a base directory (the working directory of the run)
so GitHub code scanning can match them with files of the checked-out repository.
"""

from __future__ import annotations

import json
import posixpath
from pathlib import PurePosixPath
from typing import Any

from advisor.core.analyze import Report
from advisor.core.lazy import lazy_re
from advisor.core.report import to_sarif

SRCROOT = "%SRCROOT%"
GITHUB_COMMAND = {"error": "error", "warning": "warning", "info": "notice"}
# Input names that are not files on disk: stdin, and rendered Kustomize output without origin.
NOT_A_FILE_SUFFIX = " (kustomize)"


def quote(text: str) -> str:
    """``urllib.parse.quote``, imported when a SARIF location needs it (not by every run)."""
    from urllib.parse import quote as url_quote

    return url_quote(text)


def _relative_uri(file: str, base: str) -> tuple[str, bool]:
    """Return ``(uri, relative)``: a URI relative to ``base`` when the file lies below it."""
    if not file or file == "stdin" or file.endswith(NOT_A_FILE_SUFFIX):
        return quote(file or "stdin"), False
    path = PurePosixPath(file)
    if not path.is_absolute():
        path = PurePosixPath(posixpath.normpath(posixpath.join(base, file)))
    try:
        rel = path.relative_to(base)
    except ValueError:
        return "file://" + quote(str(path)), False
    return quote(rel.as_posix()), True


def to_sarif_for_ci(report: Report, *, base: str) -> dict[str, Any]:
    """SARIF 2.1.0 whose artifact URIs are relative to ``base`` through ``%SRCROOT%``.

    ``base`` is an absolute POSIX path (the working directory). Files outside it keep an
    absolute ``file://`` URI; standard input stays ``stdin``.
    """
    log = to_sarif(report)
    base = posixpath.normpath(base)
    run = log["runs"][0]
    locations = [loc for result in run["results"] for loc in result.get("locations", [])]
    for invocation in run.get("invocations", []):
        for note in invocation.get("toolExecutionNotifications", []):
            locations.extend(note.get("locations", []))
    for location in locations:
        artifact = location["physicalLocation"]["artifactLocation"]
        uri, relative = _relative_uri(artifact["uri"], base)
        artifact["uri"] = uri
        if relative:
            artifact["uriBaseId"] = SRCROOT
    run["originalUriBaseIds"] = {SRCROOT: {"uri": "file://" + quote(base.rstrip("/") + "/")}}
    return log


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def to_github(report: Report) -> str:
    """GitHub Actions workflow commands: one annotation per finding and per unreadable input."""
    lines: list[str] = []
    for w, f in report.findings():
        wl = w.workload
        props = [f"file={_escape_property(f.file or wl.file)}"]
        if f.line:
            props.append(f"line={f.line}")
        props.append(f"title={_escape_property(f.rule)}")
        text = f"{wl.kind}/{wl.name}: {f.message}. Fix: {f.fix}"
        lines.append(f"::{GITHUB_COMMAND[f.severity]} {','.join(props)}::{_escape_data(text)}")
    for e in report.errors:
        props = [f"file={_escape_property(e.file)}"]
        if e.line:
            props.append(f"line={e.line}")
        props.append("title=unreadable-input")
        lines.append(f"::error {','.join(props)}::{_escape_data(e.message)}")
    return "".join(line + "\n" for line in lines)


def to_junit(report: Report) -> str:
    """JUnit XML: one test case per workload, one failure per finding, one error per bad input."""
    from xml.etree import ElementTree as ET

    suite = ET.Element("testsuite", name="pod-advisor")
    failures = errors = 0
    for w in report.workloads:
        wl = w.workload
        case = ET.SubElement(
            suite,
            "testcase",
            classname=wl.file,
            name=f"{wl.kind}/{wl.name}" + (f" -n {wl.namespace}" if wl.namespace else ""),
            file=wl.file,
        )
        if wl.line:
            case.set("line", str(wl.line))
        for f in w.findings:
            failures += 1
            where = f"{f.file or wl.file}:{f.line or '?'}"
            failure = ET.SubElement(case, "failure", message=f.message, type=f.rule)
            failure.text = (
                f"{f.severity.upper()} {f.rule} at {where}"
                + (f" (container {f.container})" if f.container else "")
                + f"\n{f.message}\nFix: {f.fix}\n"
            )
    for e in report.errors:
        errors += 1
        case = ET.SubElement(suite, "testcase", classname=e.file, name="read", file=e.file)
        error = ET.SubElement(case, "error", message=e.message, type="unreadable-input")
        where = f"document {e.document}, " if e.document else ""
        error.text = f"{e.file}: {where}line {e.line or '?'}: {e.message}\n"
    tests = len(report.workloads) + len(report.errors)
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    root = ET.Element("testsuites", tests=str(tests), failures=str(failures), errors=str(errors))
    root.append(suite)
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode")
    # Manifests may carry characters XML 1.0 cannot hold at all (ElementTree writes them as they
    # are, and the file would not parse): they only come from the input, so show their escape.
    text = _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n"


_NOT_XML = lazy_re("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def sarif_json(log: dict[str, Any]) -> str:
    return json.dumps(log, indent=2) + "\n"
