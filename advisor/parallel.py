"""Analyse many files on several cores and write the report a single process would write.

The run is cut into contiguous groups of about equal size, one per worker process. A file
larger than a quarter of a worker's share is first cut into slices at ``---`` lines
(:func:`advisor.core.yamlload.cut`), each slice knowing the lines and documents of the file
before it, so one large file uses every core too. The parent first reads the run's
autoscalers (a scan plus a parse of the documents that name the kind), so each worker links
its workloads to HPAs in any file; each worker writes its part of each report (the body of
each format: JSON workloads, SARIF results, JUnit test cases, GitHub annotations or text) to a
temporary file of its own and returns its totals; the parent writes, for each report, the
totals, the parts in input order, and the autoscalers no part could link.

``--jobs N`` changes the time, never the output (tests/test_parallel.py). Budgets that count
across a file or a run (nodes from alias expansion per file, workloads per run) are counted
per slice and per worker; when their sums reach a limit, whichever part went over, the run is
done again in one process, so a breach is reported exactly where a serial run reports it.
Inputs under ``PARALLEL_MIN_BYTES`` in all are analysed in-process: starting workers would
cost more than it saves.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import IO, Any

from advisor.core.analyze import Item, Options, autoscalers, iter_analysis, iter_part, unlinked
from advisor.core.errors import InputError
from advisor.core.model import HPA, Problem, Skipped
from advisor.core.stream import (
    Tally,
    merge,
    write_bodies,
    write_document,
    write_head,
    write_reports,
)
from advisor.core.yamlload import Slice, cut, decode, with_big_stack

Inputs = Sequence[tuple[str, str | bytes]]


@dataclass(frozen=True)
class Piece:
    """One unit of work: a whole input, or the slice ``data[start:end]`` of one (``part``).

    The slice is taken in the worker, so the parent holds no copy of the inputs.
    """

    index: int  # the input's position in the run
    file: str
    data: str | bytes
    start: int = 0
    end: int = -1
    part: Slice | None = None

    @property
    def size(self) -> int:
        return (len(self.data) if self.part is None else self.end) - self.start

    def text(self) -> str | bytes:
        return self.data if self.part is None else self.data[self.start : self.end]


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


# A file is cut into slices of about this fraction of a worker's share, so groups of slices
# come out about equal even when the files are not.
SLICES_PER_SHARE = 4


def pieces(inputs: Inputs, jobs: int, options: Options) -> list[Piece]:
    """The inputs as units of work, large files cut at document separators."""
    total = sum(len(data) for _, data in inputs) or 1
    slice_size = total / jobs / SLICES_PER_SHARE
    out: list[Piece] = []
    for index, (file, data) in enumerate(inputs):
        count = round(len(data) / slice_size) if jobs > 1 else 1
        out.extend(
            _slices(index, file, data, count, options) if count > 1 else [Piece(index, file, data)]
        )
    return out


def _slices(index: int, file: str, data: str | bytes, count: int, options: Options) -> list[Piece]:
    """``data`` cut into about ``count`` slices; one whole piece when it cannot be cut."""
    whole = [Piece(index, file, data)]
    if isinstance(data, bytes):
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return whole  # UTF-16: offsets in characters are not offsets in bytes
        try:
            text = decode(data, file=file)
        except InputError:
            return whole  # the worker reports it, as a serial run does
    else:
        text = data
    cuts = cut(text, count, options.limits)
    if len(cuts) < 2:
        return whole
    # Character offsets to offsets in ``data`` (decoding dropped a UTF-8 byte order mark).
    positions = [at for at, _ in cuts]
    if isinstance(data, bytes):
        bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
        if text.isascii():
            positions = [bom + at if at else 0 for at in positions]
        else:
            positions = [bom + len(text[:at].encode("utf-8")) if at else 0 for at in positions]
    del text
    ends = [*positions[1:], len(data)]
    return [
        Piece(index, file, data, start, end, part)
        for start, end, (_, part) in zip(positions, ends, cuts, strict=True)
    ]


def groups(items: Sequence[Piece], jobs: int) -> list[list[Piece]]:
    """Cut ``items`` into at most ``jobs`` contiguous groups of about equal total size."""
    total = sum(item.size for item in items) or 1
    cut_: list[list[Piece]] = [[]]
    done = 0
    for item in items:
        size = item.size
        if cut_[-1] and done + size / 2 > total * len(cut_) / jobs and len(cut_) < jobs:
            cut_.append([])
        cut_[-1].append(item)
        done += size
    return cut_


def write_files(
    inputs: Inputs,
    *,
    outputs: Sequence[tuple[str, IO[str]]],
    options: Options,
    jobs: int,
    transform: Callable[[Item], Item] = _same,
    trailing: Sequence[Item] = (),
    base: str | None = None,
) -> Tally:
    """Analyse ``inputs`` with up to ``jobs`` processes and write each ``(format, output)``.

    Every item passes through ``transform`` (in the worker that made it) before it is written;
    ``trailing`` items (problems found before the analysis) come after the analysis's own.
    ``base`` makes SARIF locations relative (:func:`advisor.core.stream.write_reports`).
    """
    formats = [fmt for fmt, _ in outputs]
    size = sum(len(data) for _, data in inputs)
    if jobs > 1 and size >= PARALLEL_MIN_BYTES and "fork" in _start_methods():
        parts = groups(pieces(inputs, jobs, options), jobs)
        if len(parts) > 1:
            done = _run_parts(
                inputs, parts, formats=formats, options=options, transform=transform, base=base
            )
            if done is not None:
                try:
                    return _write_parts(
                        *done,
                        outputs=outputs,
                        options=options,
                        transform=transform,
                        trailing=trailing,
                        base=base,
                    )
                finally:
                    shutil.rmtree(done[0], ignore_errors=True)
    items = chain(map(transform, iter_analysis(inputs, options=options)), trailing)
    return with_big_stack(lambda: write_reports(items, outputs, options=options, base=base))


# What a worker returns: its totals, the autoscalers it linked, its body file per format, and
# the alias-expansion nodes each slice of a cut file used.
Part = tuple[Tally, set[int], list[str], list[tuple[int, int]]]
Done = tuple[Path, list[HPA], list[Part]]


def _run_parts(
    inputs: Inputs,
    parts: list[list[Piece]],
    *,
    formats: list[str],
    options: Options,
    transform: Callable[[Item], Item],
    base: str | None,
) -> Done | None:
    """Run one worker per part; None when a budget counted across parts was reached."""
    hpas = with_big_stack(lambda: autoscalers(inputs, options))
    tmp = Path(tempfile.mkdtemp(prefix="pod-advisor-"))
    _JOB.update(
        parts=parts,
        options=options,
        hpas=hpas,
        formats=formats,
        tmp=tmp,
        transform=transform,
        base=base,
    )
    try:
        # fork: the workers share the loaded modules, compiled schemas and the inputs.
        import multiprocessing  # here, not at import: 10 ms a run without workers would pay

        with multiprocessing.get_context("fork").Pool(len(parts)) as pool:
            done = pool.map(_work, range(len(parts)))
    finally:
        _JOB.clear()
    nodes: dict[int, int] = {}
    for _, _, _, used in done:
        for index, count in used:
            nodes[index] = nodes.get(index, 0) + count
    limits = options.limits
    if sum(tally.workloads for tally, _, _, _ in done) >= limits.max_workloads or any(
        count > limits.max_nodes for count in nodes.values()
    ):
        shutil.rmtree(tmp, ignore_errors=True)
        return None
    return tmp, hpas, done


def _write_parts(
    tmp: Path,
    hpas: list[HPA],
    done: list[Part],
    *,
    outputs: Sequence[tuple[str, IO[str]]],
    options: Options,
    transform: Callable[[Item], Item],
    trailing: Sequence[Item],
    base: str | None,
) -> Tally:
    """Write the totals and the workers' parts, in input order, as one report per output."""
    linked = set().union(*(part_linked for _, part_linked, _, _ in done))
    tally = merge(t for t, _, _, _ in done)
    for item in chain(map(transform, unlinked(hpas, linked)), trailing):
        if isinstance(item, Skipped):
            tally.skipped.append(item)
        elif isinstance(item, Problem):
            tally.errors.append(item)
    for k, (fmt, out) in enumerate(outputs):
        # newline="" here and in _work: a carriage return in a body is copied as it is.
        bodies = [open(paths[k], encoding="utf-8", newline="") for _, _, paths, _ in done]  # noqa: SIM115
        try:
            write_head(fmt, options=options, out=out)
            write_document(tally, bodies, fmt=fmt, options=options, out=out, base=base)
        finally:
            for body in bodies:
                body.close()
    return tally


def _start_methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods()


def _work(index: int) -> Part:
    """Analyse one group into a body file per format.

    Returns its totals, the autoscalers it linked, the body files, and for each slice of a cut
    file the file's position and the alias-expansion nodes the slice used.
    """
    job = _JOB
    group: list[Piece] = job["parts"][index]
    tally, linked = Tally(), set[int]()
    paths = [job["tmp"] / f"part-{index}-{k}" for k in range(len(job["formats"]))]
    with ExitStack() as stack:
        bodies = [
            stack.enter_context(path.open("w", encoding="utf-8", newline="")) for path in paths
        ]
        part = iter_part(
            [(piece.file, piece.text()) for piece in group],
            options=job["options"],
            hpas=job["hpas"],
            linked=linked,
            slices=[piece.part for piece in group],
        )
        items = map(job["transform"], part)
        outs = list(zip(job["formats"], bodies, strict=True))
        with_big_stack(lambda: write_bodies(items, outs, tally=tally, base=job["base"]))
    used = [(piece.index, piece.part.nodes_used) for piece in group if piece.part is not None]
    return tally, linked, [str(path) for path in paths], used
