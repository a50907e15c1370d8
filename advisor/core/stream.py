"""Write a report while the analysis runs, one workload at a time: ``write_report``.

The text is the same, byte for byte, as rendering the whole :class:`Report` at the end
(:func:`advisor.core.report.to_json`, ``to_sarif``, ``to_text``), but no more than one
workload's results is held at once: memory follows the largest document, not the input.
JSON and SARIF put totals (the summary, whether the run succeeded) before the list of
workloads or results, so those lists are spooled to a temporary file (in memory up to
``SPOOL_IN_MEMORY`` bytes, on disk beyond) and copied out once the totals are known.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import field
from typing import IO, Any

from advisor.core import ANALYZER_VERSION
from advisor.core.analyze import Item, Options, Report, WorkloadReport
from advisor.core.model import Problem, Skipped
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
from advisor.core.rules import REGISTRY, SEVERITY_RANK

FORMATS = ("json", "sarif", "text")
SPOOL_IN_MEMORY = 8 * 1024 * 1024
# Stands where the spooled list goes. Only values the advisor itself sets (versions, counts)
# come before the list in either document, so the first occurrence is always this one.
_PLACEHOLDER = "\u2063pod-advisor-spooled-list\u2063"


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


def write_report(items: Iterable[Item], *, fmt: str, options: Options, out: IO[str]) -> Tally:
    """Write ``items`` (from :func:`advisor.core.analyze.iter_analysis`) as ``fmt`` to ``out``.

    ``fmt`` is ``json`` or ``text`` (what :func:`advisor.core.report.to_json` and ``to_text``
    write) or ``sarif`` (``to_sarif``).
    """
    if fmt == "text":  # nothing comes before the workloads that depends on them
        tally = Tally()
        out.write("\n".join(text_header(_skeleton(tally, options))) + "\n")
        write_body(items, fmt=fmt, out=out, tally=tally)
        write_document(tally, [], fmt=fmt, options=options, out=out)
        return tally
    with tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY, mode="w+", encoding="utf-8") as spool:
        tally = Tally()
        write_body(items, fmt=fmt, out=spool, tally=tally)
        spool.seek(0)
        write_document(tally, [spool], fmt=fmt, options=options, out=out)
    return tally


def write_body(items: Iterable[Item], *, fmt: str, out: IO[str], tally: Tally) -> None:
    """Write the per-workload part of the report (JSON workloads, SARIF results or text).

    JSON and SARIF items are separated by ",\n" and indented as in the whole document; the
    bodies of several parts are joined by :func:`write_document`.
    """
    first = True
    rule_ids = list(REGISTRY)
    pad = " " * (4 if fmt == "json" else 8)  # the list items' indent: json 4, SARIF 8
    for item in items:
        if not isinstance(item, WorkloadReport):
            _keep(tally, item)
            continue
        tally.add(item)
        if fmt == "text":
            out.write("\n".join(text_workload(item)) + "\n")
            continue
        if fmt == "json":
            parts = [dumps(workload_dict(item))]
        else:
            parts = [dumps(_sarif_result(item, f, rule_ids.index(f.rule))) for f in item.findings]
        for part in parts:
            out.write(("" if first else ",\n") + pad + part.replace("\n", "\n" + pad))
            first = False


def write_document(
    tally: Tally, bodies: Sequence[IO[str]], *, fmt: str, options: Options, out: IO[str]
) -> None:
    """Write the report around ``bodies`` (read from where they stand), given the totals.

    For text the header was written before the body: only the footer is written here.
    """
    if fmt == "text":
        out.write("\n".join(text_footer(_skeleton(tally, options), tally.summary())) + "\n")
        return
    skeleton = _skeleton(tally, options)
    document = to_dict(skeleton) if fmt == "json" else to_sarif(skeleton)
    if fmt == "json":
        document["summary"] = tally.summary()
        document["workloads"] = _PLACEHOLDER
    else:
        document["runs"][0]["results"] = _PLACEHOLDER
    head, _, tail = dumps(document).partition(dumps(_PLACEHOLDER))
    out.write(head)
    wrote = False
    for body in bodies:
        chunk = body.read(1)
        if not chunk:
            continue
        out.write(",\n" if wrote else "[\n")
        out.write(chunk)
        shutil.copyfileobj(body, out)
        wrote = True
    out.write(("\n" + " " * (2 if fmt == "json" else 6) + "]") if wrote else "[]")
    out.write(tail + "\n")


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
