"""Run every benchmark in turn and write their results under bench/results/.

    .venv/bin/python bench/run_all.py [--only core,page-weight,peer,web] [--quick]

Runs, each as its own process so that a failure in one does not stop the others:

* ``bench/core.py``         the analysis core against libyaml's CSafeLoader alone;
* ``bench/cli.py``          the command line, whole process, against a CSafeLoader process;
* ``bench/page_weight.py``  the compressed bytes of a first visit to the analysis page;
* ``bench/peer.py``         ``manage.py analyze`` against checkov on the corpus;
* ``bench/web.py``          gunicorn under a bounded wrk load: the analyse API against /healthz.

Every result file (``bench/results/<name>-latest.md``, one per benchmark, overwritten) carries
the date, the commit and the machine (cores, CPU model, Python); each run also appends its
headline figures under a dated heading to ``bench/results/history.md`` (one history file, not a
dated file per run); ``bench/results/latest.md`` combines a summary table with every
benchmark's report.
``--quick`` passes smaller settings (fewer repeats, shorter loads) for a smoke test; the figures
in the README come from a run without it. The exit code is 1 when a benchmark failed to run
(a missed target is reported in the results, not in the exit code).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PROVENANCE = "<!-- provenance -->"

# name, script, arguments for --quick
BENCHMARKS: list[tuple[str, str, list[str]]] = [
    ("core", "bench/core.py", ["--repeat", "2", "--megabytes", "2"]),
    ("cli", "bench/cli.py", ["--quick"]),
    ("page-weight", "bench/page_weight.py", []),
    ("peer", "bench/peer.py", ["--repeat", "2"]),
    ("web", "bench/web.py", ["--duration", "3", "--warmup", "1"]),
]


def commit() -> str:
    """``git rev-parse --short HEAD`` (read-only), with ``+dirty`` when the tree has changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            # --no-optional-locks: read only, never refresh the index others are using.
            ["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}+dirty" if dirty else head


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    return (
        f"{os.cpu_count()} cores, {cpu_model()} ({platform.machine()}), "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def load_average() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except OSError:
        return None


def provenance(
    now: dt.datetime | None = None, load: tuple[float, float, float] | None = None
) -> str:
    """One Markdown line: date, commit, machine (and the load average before the run)."""
    now = now or dt.datetime.now(dt.UTC)
    text = f"Date: {now:%Y-%m-%d %H:%M} UTC. Commit: `{commit()}`. Machine: {machine()}."
    if load is not None:
        text += (
            f" Load average before the run: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} "
            "(1 / 5 / 15 min; other processes compete for the same cores)."
        )
    return text


def write_result(name: str, markdown: str, data: dict | None = None) -> Path:
    """Write ``<name>-latest.md`` (and ``<name>-latest.json`` when given)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    latest = RESULTS / f"{name}-latest.md"
    latest.write_text(markdown)
    if data is not None:
        (RESULTS / f"{name}-latest.json").write_text(json.dumps(data, indent=2) + "\n")
    return latest


HISTORY = RESULTS / "history.md"


def append_history(name: str, markdown: str) -> None:
    """Append one run's headline figures to ``history.md`` under a dated heading."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    if not HISTORY.exists():
        HISTORY.write_text(
            "# Benchmark history\n\nEach run of a benchmark appends its headline figures here, "
            "newest last; the full report of the latest run is `<name>-latest.md`.\n"
        )
    with HISTORY.open("a") as out:
        out.write(f"\n## {name}: {provenance()}\n\n{markdown.strip()}\n")


def stamp_provenance(name: str, now: dt.datetime, load: tuple[float, float, float] | None) -> None:
    """Make sure ``<name>-latest.md`` states date, commit and machine.

    core.py and page_weight.py write their own files; this adds the provenance line under the
    title when it is missing.
    """
    latest = RESULTS / f"{name}-latest.md"
    if not latest.exists():
        return
    text = latest.read_text()
    if PROVENANCE not in text and "Commit: `" not in text:
        title, _, rest = text.partition("\n")
        text = f"{title}\n\n{PROVENANCE}\n{provenance(now, load)}\n{rest}"
        latest.write_text(text)


# --- headline figures for the summary ------------------------------------------------------


CORE_TARGET = 1.5  # bench/core.py's TARGET: time ratio on the generated file


def _core_summary(text: str) -> list[tuple[str, str, str]]:
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 7 and cells[4].startswith("**"):
            ratio = float(cells[4].strip("*x"))
            verdict = "met" if ratio <= CORE_TARGET else "MISSED"
            rows.append(
                (
                    f"core: {cells[0]}",
                    f"time {cells[4]} ({verdict}) / memory {cells[6]} of CSafeLoader alone "
                    f"({cells[3]} against {cells[2]})",
                    f"time at most {CORE_TARGET}x",
                )
            )
    return rows


def _page_weight_summary(text: str) -> list[tuple[str, str, str]]:
    match = re.search(r"\| \*\*total\*\* \| \*\*([\d,]+)\*\* \| \*\*([\d,]+)\*\* \|", text)
    if not match:
        return []
    return [
        (
            "page weight: /analyze/ first visit",
            f"**{match.group(2)} bytes** gzipped ({match.group(1)} raw)",
            "at most 512,000 bytes",
        )
    ]


def _peer_summary(data: dict) -> list[tuple[str, str, str]]:
    adv = data["tools"]["advisor"]
    cli = data["tools"]["advisor-cli"]
    rows = [
        (
            "peer: `manage.py analyze` (whole corpus)",
            f"{adv['median_s'] * 1000:.0f} ms, peak RSS {adv['maxrss_kib'] / 1024:.0f} MiB",
            "",
        ),
        (
            "peer: `python -m advisor.cli`",
            f"{cli['median_s'] * 1000:.0f} ms, peak RSS {cli['maxrss_kib'] / 1024:.0f} MiB",
            "",
        ),
    ]
    ck = data["tools"].get("checkov")
    if ck:
        rows.append(
            (
                f"peer: checkov {data['checkov_version']} (same files)",
                f"{ck['median_s'] * 1000:.0f} ms, peak RSS {ck['maxrss_kib'] / 1024:.0f} MiB",
                "",
            )
        )
        rows.append(
            (
                "peer: advisor / checkov",
                f"time **{data['ratio_time']:.2f}x**, peak RSS **{data['ratio_rss']:.2f}x**",
                "(no target: comparison)",
            )
        )
    else:
        rows.append(("peer: checkov", f"not measured: {data['checkov_error']}", ""))
    return rows


def _web_summary(data: dict) -> list[tuple[str, str, str]]:
    a, t = data["analyze"], data["trivial"]
    return [
        (
            "web: `POST /api/v1/analyze` (3 containers)",
            f"{a['rps']:.0f} req/s, p50 {a['p50_ms']:.1f} ms, p99 {a['p99_ms']:.1f} ms",
            "",
        ),
        (
            f"web: `{data['trivial_path']}`",
            f"{t['rps']:.0f} req/s, p50 {t['p50_ms']:.1f} ms, p99 {t['p99_ms']:.1f} ms",
            "",
        ),
        (
            "web: analyse throughput / trivial view",
            f"**{data['throughput_ratio']:.2f}x** "
            f"({'met' if data['throughput_met'] else 'MISSED'})",
            "at least 0.5x",
        ),
        (
            "web: analyse p99 / p50",
            f"**{data['tail_ratio']:.2f}x** ({'met' if data['tail_met'] else 'MISSED'})",
            "at most 5x",
        ),
    ]


def _cli_summary(text: str) -> list[tuple[str, str, str]]:
    rows = []
    for m in re.finditer(
        r"^\| (\w+) \| ([^|]+) \|.*\*\*([\d.]+x)\*\* \| ([^|]+) \|[^|]+\| ([^|]+) \|$", text, re.M
    ):
        rows.append(
            (
                f"cli {m[1]} ({m[2].strip()})",
                f"{m[3]} the floor, {m[4].strip()} RSS",
                f"target {m[5].strip()}",
            )
        )
    return rows


def summary_rows(name: str) -> list[tuple[str, str, str]]:
    md = RESULTS / f"{name}-latest.md"
    js = RESULTS / f"{name}-latest.json"
    try:
        if name == "core":
            return _core_summary(md.read_text())
        if name == "cli":
            return _cli_summary(md.read_text())
        if name == "page-weight":
            return _page_weight_summary(md.read_text())
        if name == "peer":
            return _peer_summary(json.loads(js.read_text()))
        if name == "web":
            return _web_summary(json.loads(js.read_text()))
    except (OSError, KeyError, ValueError, TypeError):
        pass
    return []


def combined(outcomes: list[tuple[str, int, float | None]], now: dt.datetime) -> str:
    lines = [
        "# Benchmarks: latest results",
        "",
        provenance(now),
        "",
        "Written by `.venv/bin/python bench/run_all.py`; what each benchmark measures, its floor "
        "or peer and its target are in [bench/README.md](../README.md). Each section below is that "
        "benchmark's `*-latest.md`, with its own date and commit.",
        "",
        "| benchmark | result | target |",
        "| --- | --- | --- |",
    ]
    for name, rc, _ in outcomes:
        rows = summary_rows(name) if rc == 0 else []
        if rc != 0:
            rows = [(name, f"**failed to run** (exit code {rc}); see below", "")]
        lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    lines += ["", "| benchmark | wall time of the run |", "| --- | ---: |"]
    lines += [
        f"| {name} | {f'{seconds:.0f} s' if seconds is not None else 'not run this time'} |"
        for name, _, seconds in outcomes
    ]
    for name, rc, _ in outcomes:
        md = RESULTS / f"{name}-latest.md"
        lines += ["", "---", ""]
        if rc != 0:
            lines.append(f"**{name} failed (exit code {rc}); its last successful report follows.**")
            lines.append("")
        if md.exists():
            text = md.read_text().replace(f"{PROVENANCE}\n", "")
            # One level deeper under this page's title.
            lines.append(re.sub(r"^# ", "## ", text.strip(), flags=re.MULTILINE))
        else:
            lines.append(f"## {name}: no report")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated subset: core,cli,page-weight,peer,web")
    parser.add_argument("--quick", action="store_true", help="smaller settings (smoke test)")
    args = parser.parse_args()
    wanted = args.only.split(",") if args.only else [b[0] for b in BENCHMARKS]
    unknown = set(wanted) - {b[0] for b in BENCHMARKS}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    outcomes: list[tuple[str, int, float | None]] = []
    for name, script, quick in BENCHMARKS:
        if name not in wanted:
            outcomes.append((name, 0, None))  # its last report goes into latest.md as it is
            continue
        print(f"==> {name}: {script}", file=sys.stderr, flush=True)
        now = dt.datetime.now(dt.UTC)
        load = load_average()
        started = time.perf_counter()
        cmd = [sys.executable, script, *(quick if args.quick else [])]
        rc = subprocess.run(cmd, cwd=ROOT, check=False).returncode
        seconds = time.perf_counter() - started
        if rc == 0:
            stamp_provenance(name, now, load)
            rows = summary_rows(name)
            if rows and not args.quick:
                append_history(name, "\n".join(f"- {a}: {b} ({c})" for a, b, c in rows))
        else:
            print(f"==> {name} FAILED with exit code {rc}", file=sys.stderr)
        outcomes.append((name, rc, seconds))
    (RESULTS / "latest.md").write_text(combined(outcomes, dt.datetime.now(dt.UTC)))
    print(f"==> wrote {RESULTS / 'latest.md'}", file=sys.stderr)
    return 1 if any(rc != 0 for _, rc, _ in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
