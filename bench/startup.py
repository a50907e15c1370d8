"""How fast ``pod-advisor`` starts: whole processes against ``python -c pass``, plus import times.

    .venv/bin/python bench/startup.py [--repeat 15]          # bench/results/startup-latest.md

Measures, whole process each (``time.perf_counter`` around ``subprocess.run``), order rotating
from round to round, median (min / max) of ``--repeat`` rounds after one untimed warm-up:

* floor: ``python -c pass`` (the interpreter's own start-up, nothing imported);
* ``pod-advisor --version`` (the console script of ``.venv``; parses arguments, imports the CLI);
* ``pod-advisor analyze FILE --format json`` on one corpus manifest (a Job with a sidecar);
* ``manage.py analyze FILE --format json``, the Django alias, for comparison.

It also runs ``python -X importtime`` for ``--version`` and for ``analyze`` once each and lists
the slowest top-level imports (cumulative microseconds, as CPython reports them). Writes only
``bench/results/startup-latest.md`` (and ``.json``): one latest file, no dated copies.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run_all import RESULTS, load_average, provenance  # noqa: E402

FILE = "tests/fixtures/corpus/kubernetes__website__content__en__examples__application__job__job-sidecar-legacy.yaml"  # noqa: E501


def commands() -> dict[str, list[str]]:
    py = sys.executable
    script = str(Path(py).parent / "pod-advisor")
    return {
        "floor: python -c pass": [py, "-c", "pass"],
        "pod-advisor --version": [script, "--version"],
        "pod-advisor analyze FILE": [script, "analyze", "--format", "json", FILE],
        "manage.py analyze FILE": [py, "manage.py", "analyze", "--format", "json", FILE],
    }


def time_once(cmd: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{cmd}: exit {done.returncode}: {done.stderr.decode()[-500:]}")
    return elapsed


def import_times(argv: list[str]) -> tuple[int, list[tuple[int, str]]]:
    """Total and slowest top-level cumulative import times (microseconds) of one run."""
    cmd = [sys.executable, "-X", "importtime", "-c", f"from advisor import cli; cli.main({argv!r})"]
    stderr = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False).stderr
    top: list[tuple[int, str]] = []
    for line in stderr.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) != 3:
            continue
        try:
            cumulative = int(parts[1])
        except ValueError:
            continue  # the header line
        name = parts[2]
        if name.startswith(" ") and not name.startswith("  "):  # depth 0: one space
            top.append((cumulative, name.strip()))
    top.sort(reverse=True)
    return sum(t for t, _ in top), top[:10]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    load = load_average()
    cmds = commands()
    names = list(cmds)
    times: dict[str, list[float]] = {n: [] for n in names}
    for n in names:
        time_once(cmds[n])  # warm-up: file cache, .pyc
    for i in range(args.repeat):
        for n in names[i % len(names) :] + names[: i % len(names)]:
            times[n].append(time_once(cmds[n]))
    medians = {n: statistics.median(v) for n, v in times.items()}
    floor = medians[names[0]]
    version_total, version_top = import_times(["--version"])
    analyze_total, analyze_top = import_times(["analyze", "--format", "json", FILE])
    data = {
        "repeat": args.repeat,
        "median_s": medians,
        "min_s": {n: min(v) for n, v in times.items()},
        "max_s": {n: max(v) for n, v in times.items()},
        "ratio_to_floor": {n: medians[n] / floor for n in names},
        "import_us": {"--version": version_total, "analyze": analyze_total},
        "slowest_imports_analyze": analyze_top,
        "slowest_imports_version": version_top,
    }
    lines = [
        "# startup: how fast `pod-advisor` starts",
        "",
        provenance(load=load),
        "",
        f"Whole process, median of {args.repeat} rounds (order rotating), one warm-up each. "
        f"FILE: `{Path(FILE).name}`.",
        "",
        "| command | median | min / max | vs `python -c pass` |",
        "| --- | --- | --- | --- |",
    ]
    for n in names:
        lines.append(
            f"| {n} | **{medians[n] * 1000:.0f} ms** | {min(times[n]) * 1000:.0f} / "
            f"{max(times[n]) * 1000:.0f} ms | {medians[n] / floor:.2f}x |"
        )
    lines += [
        "",
        f"`python -X importtime`: top-level imports of `pod-advisor --version` take "
        f"**{version_total / 1000:.0f} ms**, of `pod-advisor analyze FILE` "
        f"**{analyze_total / 1000:.0f} ms** (cumulative, one run each).",
        "",
        "Slowest top-level imports of `analyze` (cumulative):",
        "",
        *(f"* `{name}`: {us / 1000:.1f} ms" for us, name in analyze_top),
        "",
        "Slowest top-level imports of `--version`:",
        "",
        *(f"* `{name}`: {us / 1000:.1f} ms" for us, name in version_top),
        "",
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "startup-latest.md").write_text("\n".join(lines))
    (RESULTS / "startup-latest.json").write_text(json.dumps(data, indent=2) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
