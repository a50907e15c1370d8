"""Write reports while the analysis runs, one workload at a time: ``write_reports``.

The text is the same, byte for byte, as rendering the whole :class:`Report` at the end
(:func:`advisor.core.report.to_json`, ``to_sarif``, ``to_text``; for CI,
:func:`advisor.core.outputs.to_sarif_for_ci`, ``to_github`` and ``to_junit``), but no more than
one workload's results is held at once: memory follows the largest document, not the input.

A report is written in three parts: a head (text only: the title line), a body (one entry per
workload, in input order) and the document around the body, written once the totals are known.
JSON, SARIF and JUnit put totals (the summary, whether the run succeeded, the counts of
failures) before the list of workloads, results or test cases, so their bodies are spooled to
a temporary file (in memory up to ``SPOOL_IN_MEMORY`` bytes, on disk beyond) and copied out
once the totals are known; text and GitHub annotations write their bodies straight to the
output. Several reports in one run share one pass over the items (a tee): each format writes
its own body.
"""

from __future__ import annotations

import json
import posixpath
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import field
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xml.etree import ElementTree as ET

from advisor.core import ANALYZER_VERSION
from advisor.core.analyze import Item, Options, Report, WorkloadReport
from advisor.core.model import Problem, Skipped
from advisor.core.outputs import (
    _NOT_XML,
    GITHUB_COMMAND,
    SRCROOT,
    _escape_data,
    _escape_property,
    _relative_uri,
    to_sarif_for_ci,
)
from advisor.core.records import dataclass
from advisor.core.report import (
    _sarif_result,
    dumps,
    text_footer,
    text_header,
    text_workload,
    to_dict,
    to_sarif,
    workload_dict,
)
from advisor.core.rules import REGISTRY, SEVERITY_RANK, Finding

FORMATS = ("json", "sarif", "text", "github", "junit")
# Formats whose document puts totals before the body: their bodies are spooled.
SPOOLED = ("json", "sarif", "junit")
SPOOL_IN_MEMORY = 8 * 1024 * 1024
# Stands where the spooled list goes. Found as a whole JSON string: within a longer string its
# closing quote would be escaped. JSON puts only values the advisor sets (versions, counts)
# before the workloads; SARIF puts notifications (a file may be named like this) before the
# results and nothing from the input after them (see write_document).
_PLACEHOLDER = "\u2063pod-advisor-spooled-list\u2063"
# Between two entries of a body, per format; bodies of several parts are joined the same way.
_SEPARATOR = {"json": ",\n", "sarif": ",\n", "junit": "\n    ", "text": "", "github": ""}
# JUnit test cases sit at this depth: <testsuites>, <testsuite>, <testcase>.
_JUNIT_LEVEL = 2


@dataclass
class Tally:
    """What the exit code and the error messages need, counted as the report is written."""

    workloads: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {"error": 0, "warning": 0, "info": 0})
    skipped: list[Skipped] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)

    def add(self, w: WorkloadReport) -> None:
        self.workloads += 1
        for f in w.findings:
            self.counts[f.severity] += 1

    def summary(self) -> dict[str, int]:
        return {"workloads": self.workloads, **self.counts}

    def worst_severity(self) -> str | None:
        present = [s for s, n in self.counts.items() if n]
        return max(present, key=SEVERITY_RANK.__getitem__) if present else None


def write_report(
    items: Iterable[Item], *, fmt: str, options: Options, out: IO[str], base: str | None = None
) -> Tally:
    """Write ``items`` (from :func:`advisor.core.analyze.iter_analysis`) as ``fmt`` to ``out``.

    ``fmt`` is one of :data:`FORMATS`: ``json`` and ``text`` (what
    :func:`advisor.core.report.to_json` and ``to_text`` write), ``sarif`` (``to_sarif``; with
    ``base``, :func:`advisor.core.outputs.to_sarif_for_ci` for that directory), ``github`` and
    ``junit`` (``to_github``, ``to_junit``).
    """
    return write_reports(items, [(fmt, out)], options=options, base=base)


def write_reports(
    items: Iterable[Item],
    outputs: Sequence[tuple[str, IO[str]]],
    *,
    options: Options,
    base: str | None = None,
) -> Tally:
    """Write ``items`` once as each ``(format, output)`` of ``outputs``, in one pass."""
    tally = Tally()
    with ExitStack() as stack:
        bodies: list[IO[str]] = []
        for fmt, out in outputs:
            if fmt in SPOOLED:
                bodies.append(stack.enter_context(_spool()))
            else:  # nothing comes before the body that depends on it
                write_head(fmt, options=options, out=out)
                bodies.append(out)
        tee = [(fmt, body) for (fmt, _), body in zip(outputs, bodies, strict=True)]
        write_bodies(items, tee, tally=tally, base=base)
        for (fmt, out), body in zip(outputs, bodies, strict=True):
            if body is out:
                write_document(tally, [], fmt=fmt, options=options, out=out, base=base)
            else:
                body.seek(0)
                write_document(tally, [body], fmt=fmt, options=options, out=out, base=base)
    return tally


def _spool() -> IO[str]:
    # newline="": a carriage return from the input (raw in text and JUnit) is read back as is.
    return tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY, mode="w+", encoding="utf-8", newline="")


def write_head(fmt: str, *, options: Options, out: IO[str]) -> None:
    """Write what comes before the body and depends on nothing in it (text: the title)."""
    if fmt == "text":
        out.write("\n".join(text_header(_skeleton(Tally(), options))) + "\n")


def write_body(
    items: Iterable[Item], *, fmt: str, out: IO[str], tally: Tally, base: str | None = None
) -> None:
    """Write the per-workload part of one report; see :func:`write_bodies`."""
    write_bodies(items, [(fmt, out)], tally=tally, base=base)


def write_bodies(
    items: Iterable[Item],
    outs: Sequence[tuple[str, IO[str]]],
    *,
    tally: Tally,
    base: str | None = None,
) -> None:
    """Write the per-workload part of each ``(format, output)`` (workloads, results, lines).

    Entries are separated as in the whole document (JSON and SARIF by ",\\n", JUnit test cases
    by a new line and their indent) and indented as there; the bodies of several parts are
    joined by :func:`write_document`. Skipped and unreadable documents go to ``tally``.
    """
    writers = [_Body(fmt, out, base) for fmt, out in outs]
    for item in items:
        if not isinstance(item, WorkloadReport):
            _keep(tally, item)
            continue
        tally.add(item)
        for writer in writers:
            writer.workload(item)


class _Body:
    """One format's body: its entries for each workload, separated as the document has them."""

    def __init__(self, fmt: str, out: IO[str], base: str | None) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}")
        self.fmt, self.out, self.first = fmt, out, True
        self.base = None if base is None else posixpath.normpath(base)
        self.rule_ids = list(REGISTRY)

    def workload(self, w: WorkloadReport) -> None:
        fmt, out = self.fmt, self.out
        if fmt == "text":
            out.write("\n".join(text_workload(w)) + "\n")
            return
        if fmt == "github":
            out.write("".join(github_finding(w, f) + "\n" for f in w.findings))
            return
        if fmt == "junit":
            parts = [junit_testcase(w)]
        elif fmt == "json":
            parts = [_indented(dumps(workload_dict(w)), 4)]
        else:
            parts = [self._result(w, f) for f in w.findings]
        for part in parts:
            out.write(part if self.first else _SEPARATOR[fmt] + part)
            self.first = False

    def _result(self, w: WorkloadReport, f: Finding) -> str:
        result = _sarif_result(w, f, self.rule_ids.index(f.rule))
        if self.base is None:
            return _indented(dumps(result), 8)
        for location in result["locations"]:
            _relocate(location, self.base)
        return _indented(_ascii_json(result), 8)


def _indented(text: str, pad: int) -> str:
    spaces = " " * pad
    return spaces + text.replace("\n", "\n" + spaces)


def _ascii_json(data: Any) -> str:
    """``json.dumps(data, indent=2)`` (ASCII only, as :func:`outputs.sarif_json` writes).

    orjson writes the same text when every character it leaves is printable ASCII (it writes
    non-ASCII and DEL as they are, where ``json`` escapes them); only then is it taken.
    """
    text = dumps(data)
    if text.isascii() and "\x7f" not in text:
        return text
    return json.dumps(data, indent=2)


def _sarif_json(data: Any) -> str:
    return json.dumps(data, indent=2)  # as outputs.sarif_json, without its new line


def _relocate(location: dict[str, Any], base: str) -> None:
    """Make a SARIF location's URI relative to ``base`` (as :func:`to_sarif_for_ci` does)."""
    artifact = location["physicalLocation"]["artifactLocation"]
    uri, relative = _relative_uri(artifact["uri"], base)
    artifact["uri"] = uri
    if relative:
        artifact["uriBaseId"] = SRCROOT


def github_finding(w: WorkloadReport, f: Finding) -> str:
    """The GitHub workflow command for one finding (a line of :func:`outputs.to_github`)."""
    wl = w.workload
    props = [f"file={_escape_property(f.file or wl.file)}"]
    if f.line:
        props.append(f"line={f.line}")
    props.append(f"title={_escape_property(f.rule)}")
    text = f"{wl.kind}/{wl.name}: {f.message}. Fix: {f.fix}"
    return f"::{GITHUB_COMMAND[f.severity]} {','.join(props)}::{_escape_data(text)}"


def github_error(e: Problem) -> str:
    """The GitHub workflow command for one unreadable input."""
    props = [f"file={_escape_property(e.file)}"]
    if e.line:
        props.append(f"line={e.line}")
    props.append("title=unreadable-input")
    return f"::error {','.join(props)}::{_escape_data(e.message)}"


def junit_testcase(w: WorkloadReport) -> str:
    """One workload's ``<testcase>`` as :func:`outputs.to_junit` writes it inside the suite.

    The element is built as there, indented alone at its depth and serialised alone: the same
    text, without the indent of its first line (the separator before it carries that).
    """
    from xml.etree import ElementTree as ET  # JUnit only: not imported by other runs

    wl = w.workload
    case = ET.Element(
        "testcase",
        classname=wl.file,
        name=f"{wl.kind}/{wl.name}" + (f" -n {wl.namespace}" if wl.namespace else ""),
        file=wl.file,
    )
    if wl.line:
        case.set("line", str(wl.line))
    for f in w.findings:
        where = f"{f.file or wl.file}:{f.line or '?'}"
        failure = ET.SubElement(case, "failure", message=f.message, type=f.rule)
        failure.text = (
            f"{f.severity.upper()} {f.rule} at {where}"
            + (f" (container {f.container})" if f.container else "")
            + f"\n{f.message}\nFix: {f.fix}\n"
        )
    return _xml(case)


def junit_error(e: Problem) -> str:
    """The ``<testcase>`` of one unreadable input, as :func:`junit_testcase`."""
    from xml.etree import ElementTree as ET  # JUnit only: not imported by other runs

    case = ET.Element("testcase", classname=e.file, name="read", file=e.file)
    error = ET.SubElement(case, "error", message=e.message, type="unreadable-input")
    where = f"document {e.document}, " if e.document else ""
    error.text = f"{e.file}: {where}line {e.line or '?'}: {e.message}\n"
    return _xml(case)


def _xml(case: ET.Element) -> str:
    from xml.etree import ElementTree as ET  # JUnit only: not imported by other runs

    ET.indent(case, level=_JUNIT_LEVEL)
    text = ET.tostring(case, encoding="unicode")
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def write_document(
    tally: Tally,
    bodies: Sequence[IO[str]],
    *,
    fmt: str,
    options: Options,
    out: IO[str],
    base: str | None = None,
) -> None:
    """Write the report around ``bodies`` (read from where they stand), given the totals.

    Text: the bodies, then the footer (the head was written by :func:`write_head`); GitHub:
    the bodies, then a line per unreadable input; the others: the document with the bodies
    in place of its list. Bodies already written to ``out`` are not passed again.
    """
    if fmt == "text":
        _copy(bodies, out)
        out.write("\n".join(text_footer(_skeleton(tally, options), tally.summary())) + "\n")
        return
    if fmt == "github":
        _copy(bodies, out)
        out.write("".join(github_error(e) + "\n" for e in tally.errors))
        return
    if fmt == "junit":
        head, tail = _junit_frame(tally)
        out.write(head)
        wrote = _join(bodies, out, _SEPARATOR[fmt])
        for e in tally.errors:
            out.write(("\n    " if wrote else "") + junit_error(e))
            wrote = True
        out.write(tail)
        return
    skeleton = _skeleton(tally, options)
    if fmt == "json":
        document = to_dict(skeleton)
        document["summary"] = tally.summary()
        document["workloads"] = _PLACEHOLDER
        # Only values the advisor sets (versions, counts) come before the workloads.
        head, _, tail = dumps(document).partition(dumps(_PLACEHOLDER))
    else:
        document = to_sarif(skeleton) if base is None else to_sarif_for_ci(skeleton, base=base)
        document["runs"][0]["results"] = _PLACEHOLDER
        encode = dumps if base is None else _sarif_json
        # Notifications (names from the input) come before the results, only the base URI
        # (percent-encoded) after them: the last occurrence is the placeholder.
        head, _, tail = encode(document).rpartition(encode(_PLACEHOLDER))
    out.write(head)
    if _join(bodies, out, _SEPARATOR[fmt], opening="[\n"):  # json.dumps's list layout
        out.write("\n" + " " * (2 if fmt == "json" else 6) + "]")
    else:
        out.write("[]")
    out.write(tail + "\n")


def _copy(bodies: Sequence[IO[str]], out: IO[str]) -> None:
    for body in bodies:
        shutil.copyfileobj(body, out)


def _join(bodies: Sequence[IO[str]], out: IO[str], separator: str, opening: str = "") -> bool:
    """Copy the non-empty ``bodies`` to ``out``, ``separator`` between and ``opening`` before
    the first; return whether any was."""
    wrote = False
    for body in bodies:
        chunk = body.read(1)
        if not chunk:
            continue
        out.write(separator if wrote else opening)
        out.write(chunk)
        shutil.copyfileobj(body, out)
        wrote = True
    return wrote


def _junit_frame(tally: Tally) -> tuple[str, str]:
    """The JUnit document before and after its test cases, as :func:`to_junit` writes it."""
    failures = sum(tally.counts.values())
    errors = len(tally.errors)
    tests = str(tally.workloads + errors)
    from xml.etree import ElementTree as ET  # JUnit only: not imported by other runs

    suite = ET.Element("testsuite", name="pod-advisor")
    suite.set("tests", tests)
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    root = ET.Element("testsuites", tests=tests, failures=str(failures), errors=str(errors))
    root.append(suite)
    if tests != "0":  # stands where the test cases go
        ET.SubElement(suite, "placeholder")
    ET.indent(root)
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
    if tests == "0":
        return text + "\n", ""
    head, _, tail = text.partition("<placeholder />")
    return head, tail + "\n"


def merge(tallies: Iterable[Tally]) -> Tally:
    """Add up the tallies of a run's parts, in input order."""
    total = Tally()
    for t in tallies:
        total.workloads += t.workloads
        for severity, n in t.counts.items():
            total.counts[severity] += n
        total.skipped.extend(t.skipped)
        total.errors.extend(t.errors)
    return total


def _keep(tally: Tally, item: Any) -> None:
    if isinstance(item, Skipped):
        tally.skipped.append(item)
    else:
        tally.errors.append(item)


def _skeleton(tally: Tally, options: Options) -> Report:
    """A report without workloads: what the header and footer writers need."""
    return Report(
        analyzer_version=ANALYZER_VERSION,
        kubernetes_version=options.kubernetes_version,
        api_defaults=options.api_defaults,
        assumptions=options.assumptions,
        workloads=(),
        skipped=tuple(tally.skipped),
        errors=tuple(tally.errors),
    )
