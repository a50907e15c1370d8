"""Analyse many files on several cores and write the report a single process would write.

The files are cut into contiguous groups of about equal size, one per worker process. The
parent first reads the run's autoscalers (a scan plus a parse of the documents that name
the kind), so each worker links its workloads to HPAs in any file; each worker writes its
part of the report (JSON workloads, SARIF results or text) to a temporary file and returns
its totals; the parent writes the totals, the parts in input order, and the autoscalers no
part could link. ``--jobs N`` changes the time, never the output (tests/test_parallel.py).

A single file is analysed by one process: splitting a file by documents would count its
input budgets (aliases, documents) per part instead of per file. Inputs under
``PARALLEL_MIN_BYTES`` in all are analysed in-process: starting workers would cost more than
it saves.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from itertools import chain
from pathlib import Path
from typing import IO, Any

from advisor.core.analyze import Item, Options, autoscalers, iter_analysis, iter_part, unlinked
from advisor.core.model import Problem, Skipped
from advisor.core.report import text_header
from advisor.core.stream import Tally, _skeleton, merge, write_body, write_document, write_report
from advisor.core.yamlload import with_big_stack

Inputs = Sequence[tuple[str, str | bytes]]


def _same(item: Item) -> Item:
    return item


PARALLEL_MIN_BYTES = 1024 * 1024

# What the workers need, inherited through fork rather than pickled (the inputs can be large).
_JOB: dict[str, Any] = {}


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def groups(inputs: Inputs, jobs: int) -> list[list[tuple[str, str | bytes]]]:
    """Cut ``inputs`` into at most ``jobs`` contiguous groups of about equal total size."""
    total = sum(len(data) for _, data in inputs) or 1
    cut: list[list[tuple[str, str | bytes]]] = [[]]
    done = 0
    for item in inputs:
        if cut[-1] and done >= total * len(cut) / jobs and len(cut) < jobs:
            cut.append([])
        cut[-1].append(item)
        done += len(item[1])
    return cut


def write_files(
    inputs: Inputs,
    *,
    fmt: str,
    options: Options,
    out: IO[str],
    jobs: int,
    transform: Callable[[Item], Item] = _same,
    trailing: Sequence[Item] = (),
) -> Tally:
    """Analyse ``inputs`` with up to ``jobs`` processes and write the report as ``fmt``.

    Every item passes through ``transform`` (in the worker that made it) before it is written;
    ``trailing`` items (problems found before the analysis) come after the analysis's own.
    """
    parts = groups(inputs, jobs) if jobs > 1 else [list(inputs)]
    size = sum(len(data) for _, data in inputs)
    if len(parts) < 2 or size < PARALLEL_MIN_BYTES or "fork" not in _start_methods():
        items = chain(map(transform, iter_analysis(inputs, options=options)), trailing)
        return with_big_stack(lambda: write_report(items, fmt=fmt, options=options, out=out))
    hpas = with_big_stack(lambda: autoscalers(inputs, options))
    with tempfile.TemporaryDirectory(prefix="pod-advisor-") as tmp:
        _JOB.update(
            parts=parts, options=options, hpas=hpas, fmt=fmt, tmp=Path(tmp), transform=transform
        )
        try:
            # fork: the workers share the loaded modules, compiled schemas and the inputs.
            with multiprocessing.get_context("fork").Pool(len(parts)) as pool:
                done = pool.map(_work, range(len(parts)))
        finally:
            _JOB.clear()
        linked = set().union(*(part_linked for _, part_linked, _ in done))
        tally = merge(t for t, _, _ in done)
        for item in chain(map(transform, unlinked(hpas, linked)), trailing):
            if isinstance(item, Skipped):
                tally.skipped.append(item)
            elif isinstance(item, Problem):
                tally.errors.append(item)
        bodies = [open(path, encoding="utf-8") for _, _, path in done]  # noqa: SIM115
        try:
            if fmt == "text":
                out.write("\n".join(text_header(_skeleton(tally, options))) + "\n")
                for body in bodies:
                    shutil.copyfileobj(body, out)
                write_document(tally, [], fmt=fmt, options=options, out=out)
            else:
                write_document(tally, bodies, fmt=fmt, options=options, out=out)
        finally:
            for body in bodies:
                body.close()
    return tally


def _start_methods() -> list[str]:
    return multiprocessing.get_all_start_methods()


def _work(index: int) -> tuple[Tally, set[int], str]:
    """Analyse one group into its own body file; return its totals and linked autoscalers."""
    job = _JOB
    path = job["tmp"] / f"part-{index}"
    tally, linked = Tally(), set[int]()
    with path.open("w", encoding="utf-8") as body:
        part = iter_part(
            job["parts"][index], options=job["options"], hpas=job["hpas"], linked=linked
        )
        items = map(job["transform"], part)
        with_big_stack(lambda: write_body(items, fmt=job["fmt"], out=body, tally=tally))
    return tally, linked, str(path)
