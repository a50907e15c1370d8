"""Benchmark the command-line checker as a CI job runs it: whole processes, floor in the same run.

    .venv/bin/python bench/cli.py [--repeat 5] [--megabytes 10]
        [--rows corpus,10mb,50mb,50mb-sarif,50mb-junit,tiny,jobs]

Each row times the advisor as one whole process (start-up, imports, reading, analysis, JSON
written to a file) against the floor: a whole Python process that loads the same bytes with
libyaml's ``CSafeLoader`` and nothing else. The two run in turn, A B A B ..., ``--repeat``
times each after one warm-up, and the ratio is taken pair by pair, so a machine whose speed
drifts during the run moves both sides of each ratio; the median ratio is reported, with the
median wall time and the largest peak RSS of each side (``wait4``'s ``ru_maxrss``).

Rows (targets from issue 11):

* ``corpus``: the 76 real manifests of tests/fixtures/corpus, one process (target 2x);
* ``10mb``: a generated 10 MB multi-document file (bench/generate.py; target 1.25x);
* ``50mb``: 50 MB in five 10 MB files (target 1.25x, peak RSS at most 200 MiB);
* ``50mb-sarif``, ``50mb-junit`` (and ``50mb-github``, ``50mb-text``, not run unless named):
  the same files written as that format instead of JSON; memory should follow the largest
  document, not the input (peak RSS at most 200 MiB, as JSON). The generated workloads have no
  findings, so SARIF and GitHub write no result there: ``findings50-sarif``,
  ``findings50-github``, ``findings50-junit`` (not run unless named) read 50 MB of the corpus
  repeated instead (five files, about 15,000 findings);
* ``tiny``: 20,000 one-container Pods, 2 MB (target 2x);
* ``jobs``: two 10 MB files with ``--jobs 2`` against ``--jobs 1`` (target at least 1.7x
  faster), reported only when the command line has ``--jobs``.

Before timing, the advisor's bytecode is compiled (``compileall``), as ``pip install`` does for
a wheel: with ``PYTHONDONTWRITEBYTECODE`` set (as on CI machines) an editable checkout would
otherwise compile every module from source in every run, about 120 ms that no installed copy
pays. ``--no-compile`` measures that case instead.

Also reported: the import time of the command line alone (``-c 'import <module>'``) against
``-c pass``. The advisor runs as ``pod-advisor analyze`` when the console script is installed
next to this Python, else as ``python -m advisor.cli``; either way with this checkout first on
``PYTHONPATH``, so an editable install of another checkout is not what gets measured.

Writes ``bench/results/cli-latest.md`` (``bench/run_all.py`` appends its rows to history.md).
No test asserts a time: CI runs ``--quick`` once to prove the script still works.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import generate  # noqa: E402
from bench.run_all import provenance  # noqa: E402

CORPUS = ROOT / "tests" / "fixtures" / "corpus"
RESULTS = ROOT / "bench" / "results"
FLOOR = (
    "import sys, yaml\n"
    "for name in sys.argv[1:]:\n"
    "    with open(name, 'rb') as f:\n"
    "        list(yaml.load_all(f.read(), Loader=yaml.CSafeLoader))\n"
)
# This checkout's advisor, even when the console script belongs to an editable install elsewhere.
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
}
TINY_POD = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: tiny-{i}\nspec:\n  containers:\n"
    "  - name: app\n    image: nginx:1.27\n"
)


@dataclass
class Run:
    wall: float
    rss_kib: int
    code: int


def advisor_command() -> list[str]:
    script = Path(sys.executable).with_name("pod-advisor")
    if script.exists():
        return [str(script), "analyze"]
    return [sys.executable, "-m", "advisor.cli"]


def run_once(cmd: list[str], out: Path) -> Run:
    """Run ``cmd`` with stdout to ``out``; wall time and the child's own peak RSS."""
    with out.open("wb") as sink:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.DEVNULL, cwd=ROOT, env=ENV)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(wall, usage.ru_maxrss, proc.returncode)


@dataclass
class Row:
    name: str
    inputs: str
    target: str
    advisor: list[Run]
    floor: list[Run]

    @property
    def ratio(self) -> float:
        return statistics.median(
            a.wall / f.wall for a, f in zip(self.advisor, self.floor, strict=True)
        )


def measure(
    name: str,
    files: list[Path],
    target: str,
    repeat: int,
    tmp: Path,
    args: list[str],
    fmt: str = "json",
) -> Row:
    advisor = [*advisor_command(), "--format", fmt, *args, *map(str, files)]
    floor = [sys.executable, "-c", FLOOR, *map(str, files)]
    out = tmp / "out.json"
    run_once(advisor, out)  # warm-up: page cache, compiled bytecode
    run_once(floor, out)
    a_runs, f_runs = [], []
    for _ in range(repeat):
        a_runs.append(run_once(advisor, out))
        f_runs.append(run_once(floor, out))
    if any(r.code not in (0, 1) for r in a_runs):
        raise SystemExit(f"{name}: the advisor failed (exit {a_runs[0].code}): {' '.join(advisor)}")
    size = sum(p.stat().st_size for p in files)
    inputs = f"{len(files)} file(s), {size / 1e6:.1f} MB"
    return Row(name, inputs, target, a_runs, f_runs)


def measure_jobs(files: list[Path], repeat: int, tmp: Path) -> Row | None:
    """``--jobs 2`` against ``--jobs 1`` on the same files (the 'floor' is the serial run)."""
    probe = subprocess.run(
        [*advisor_command(), "--help"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    if "--jobs" not in probe.stdout:
        return None
    out = tmp / "out.json"
    two = [*advisor_command(), "--format", "json", "--jobs", "2", *map(str, files)]
    one = [*advisor_command(), "--format", "json", "--jobs", "1", *map(str, files)]
    run_once(two, out)
    a_runs, f_runs = [], []
    for _ in range(repeat):
        a_runs.append(run_once(two, out))
        f_runs.append(run_once(one, out))
    size = sum(p.stat().st_size for p in files)
    return Row("jobs", f"{len(files)} files, {size / 1e6:.1f} MB", "<= 0.59x", a_runs, f_runs)


def repeated_corpus(tmp: Path, corpus: list[Path], size: int) -> list[Path]:
    """Five files of about ``size`` bytes each: the corpus over and over, names made unique."""
    texts = [p.read_text(encoding="utf-8") for p in corpus if p.suffix == ".yaml"]
    files = []
    for i in range(5):
        parts, total, copy = [], 0, 0
        while total < size:
            chunk = "".join(
                f"---\n{t.replace('name: ', f'name: f{i}c{copy}-', 1)}\n" for t in texts
            )
            parts.append(chunk)
            total += len(chunk.encode())
            copy += 1
        path = tmp / f"corpus-{i}.yaml"
        path.write_text("".join(parts), encoding="utf-8")
        files.append(path)
    return files


def import_time(repeat: int) -> tuple[float, float]:
    """Median wall seconds of importing the command line, and of an empty interpreter."""
    module = "advisor.cli"
    imp, empty = [], []
    for _ in range(repeat + 1):
        imp.append(run_once([sys.executable, "-c", f"import {module}"], Path(os.devnull)).wall)
        empty.append(run_once([sys.executable, "-c", "pass"], Path(os.devnull)).wall)
    return statistics.median(imp[1:]), statistics.median(empty[1:])


def table(rows: list[Row], imports: tuple[float, float]) -> str:
    lines = [
        "| row | input | advisor (median s) | floor (median s) | ratio (median of pairs) | "
        "advisor peak RSS | floor peak RSS | target |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        a = statistics.median(x.wall for x in r.advisor)
        f = statistics.median(x.wall for x in r.floor)
        a_rss = max(x.rss_kib for x in r.advisor) / 1024
        f_rss = max(x.rss_kib for x in r.floor) / 1024
        lines.append(
            f"| {r.name} | {r.inputs} | {a:.3f} | {f:.3f} | **{r.ratio:.2f}x** | "
            f"{a_rss:.0f} MiB | {f_rss:.0f} MiB | {r.target} |"
        )
    imp, empty = imports
    lines.append("")
    lines.append(
        f"Importing the command line (`python -c 'import advisor.cli'`): {imp * 1000:.0f} ms "
        f"against {empty * 1000:.0f} ms for `python -c pass` "
        f"({(imp - empty) * 1000:.0f} ms of imports)."
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--megabytes", type=float, default=10.0)
    parser.add_argument("--rows", default="corpus,10mb,50mb,50mb-sarif,50mb-junit,tiny,jobs")
    parser.add_argument("--quick", action="store_true", help="1 repeat, 0.2 MB files (smoke)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where cli-latest.md goes")
    parser.add_argument(
        "--no-compile", action="store_true", help="do not compile the bytecode first (see above)"
    )
    args = parser.parse_args()
    if not args.no_compile:
        compileall.compile_dir(ROOT / "advisor", quiet=1)
    if args.quick:
        args.repeat, args.megabytes = 1, 0.2
    wanted = set(args.rows.split(","))
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as name:
        tmp = Path(name)
        corpus = sorted(p for p in CORPUS.iterdir() if p.suffix not in (".tsv", ".md"))
        big = generate(int(args.megabytes * 1024 * 1024))
        bigs = []
        for i in range(5):
            path = tmp / f"generated-{i}.yaml"
            path.write_text(big.replace("name: web-", f"name: web{i}-"))
            bigs.append(path)
        tiny = tmp / "tiny-pods.yaml"
        count = 20_000 if not args.quick else 400
        tiny.write_text("---\n".join(TINY_POD.format(i=i) for i in range(count)))
        plan = [
            ("corpus", corpus, "<= 2x"),
            ("10mb", bigs[:1], "<= 1.25x"),
            ("50mb", bigs, "<= 1.25x, RSS <= 200 MiB"),
            ("tiny", [tiny], "<= 2x"),
        ]
        for fmt in ("sarif", "junit", "github", "text"):
            plan.append((f"50mb-{fmt}", bigs, "RSS <= 200 MiB"))
        if any(row.startswith("findings50-") for row in wanted):
            findings = repeated_corpus(tmp, corpus, int(args.megabytes * 1_000_000))
            for fmt in ("sarif", "junit", "github"):
                plan.append((f"findings50-{fmt}", findings, "RSS <= 200 MiB"))
        for row, files, target in plan:
            if row in wanted:
                print(f"cli: {row}", file=sys.stderr, flush=True)
                fmt = row.partition("-")[2] or "json"
                rows.append(measure(row, files, target, args.repeat, tmp, [], fmt))
        if "jobs" in wanted:
            jobs = measure_jobs(bigs[:2], args.repeat, tmp)
            if jobs is not None:
                rows.append(jobs)
        imports = import_time(args.repeat)
    text = (
        "# Command line: whole process against the CSafeLoader floor\n\n"
        f"{provenance()}\n\n"
        f"{'Quick smoke run (not for quoting). ' if args.quick else ''}"
        f"Median of {args.repeat} runs per side, A B A B after one warm-up each; "
        f"{'bytecode not compiled first' if args.no_compile else 'bytecode compiled first'}.\n\n"
        f"{table(rows, imports)}\n"
    )
    if "jobs" in wanted and not any(r.name == "jobs" for r in rows):
        text += "\nThe `jobs` row is not measured: this command line has no `--jobs` option.\n"
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "cli-latest.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
