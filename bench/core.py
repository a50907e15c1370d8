"""Benchmark the analysis core against libyaml's CSafeLoader alone, in the same run.

    .venv/bin/python bench/core.py [--repeat 5] [--megabytes 10]

For the corpus (tests/fixtures/corpus) and for a generated multi-document file it
measures, each in a fresh subprocess so that one measurement cannot warm or bloat another:

* the floor: ``list(yaml.load_all(text, Loader=yaml.CSafeLoader))`` on the same bytes;
* the advisor: ``analyze()`` of the same bytes (every stage: parsing with lines, schema
  validation, roles, sizing, both simulations, all rules), and separately rendering the JSON.

Time is the median of ``--repeat`` runs. Memory is the peak of Python allocations during one
run (tracemalloc, after a first run has filled the per-process caches: the schema validator and
the image catalogue are built once per process, as in the server); the growth of the resident
set during the first run is shown beside it. Results go to bench/results/ as Markdown, with
date, commit and machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CORPUS = ROOT / "tests" / "fixtures" / "corpus"  # real manifests; INDEX.tsv, LICENSES.md
OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "results"
TARGET = 1.5


def corpus_inputs() -> list[tuple[str, bytes]]:
    files = sorted(p for p in CORPUS.iterdir() if p.is_file() and p.suffix not in (".tsv", ".md"))
    return [(p.name, p.read_bytes()) for p in files]


def big_inputs(megabytes: float) -> list[tuple[str, bytes]]:
    from bench.generate import generate

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"generated-{megabytes:g}mb.yaml"
    if not path.exists():
        path.write_text(generate(int(megabytes * 1024 * 1024)))
    return [(path.name, path.read_bytes())]


def _rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def worker(kind: str, dataset: str, repeat: int, megabytes: float) -> dict:
    """Run one measurement in this process and return its figures."""
    import yaml

    from advisor.core.analyze import Options, analyze
    from advisor.core.report import to_json
    from advisor.core.roles import load_catalogue
    from advisor.core.schema import validate
    from advisor.core.yamlload import Limits

    inputs = corpus_inputs() if dataset == "corpus" else big_inputs(megabytes)
    texts = [(name, data.decode("utf-8-sig")) for name, data in inputs]
    started = time.perf_counter()
    load_catalogue()
    validate({"apiVersion": "apps/v1", "kind": "Deployment"}, kubernetes_version="1.37")
    warmup = time.perf_counter() - started
    options = Options(limits=Limits(max_bytes=64 * 1024 * 1024))

    def floor() -> object:
        return [list(yaml.load_all(text, Loader=yaml.CSafeLoader)) for _, text in texts]

    def advisor() -> object:
        return analyze(texts, options=options)

    fn = floor if kind == "floor" else advisor
    before = _rss_kib()
    result = fn()
    rss_kib = _rss_kib() - before
    del result
    tracemalloc.start()
    result = fn()
    peak_kib = tracemalloc.get_traced_memory()[1] // 1024
    tracemalloc.stop()
    json_seconds = None
    if kind == "advisor":
        t0 = time.perf_counter()
        to_json(result)  # type: ignore[arg-type]
        json_seconds = time.perf_counter() - t0
    del result
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return {
        "seconds": statistics.median(times),
        "peak_kib": peak_kib,
        "rss_kib": rss_kib,
        "warmup_seconds": warmup,
        "json_seconds": json_seconds,
        "bytes": sum(len(d) for _, d in inputs),
        "files": len(inputs),
    }


def measure(kind: str, dataset: str, repeat: int, megabytes: float) -> dict:
    cmd = [sys.executable, __file__, "--worker", kind, dataset, str(repeat), str(megabytes)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout)


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def table(rows: list[tuple[str, dict, dict]]) -> str:
    lines = [
        "| input | bytes | CSafeLoader alone | advisor analyze | time ratio | "
        "peak memory: loader / advisor | memory ratio | RSS growth: loader / advisor | "
        "JSON rendering |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, base, adv in rows:
        t_ratio = adv["seconds"] / base["seconds"]
        m_ratio = adv["peak_kib"] / max(base["peak_kib"], 1)
        lines.append(
            f"| {name} | {adv['bytes']:,} | {base['seconds'] * 1000:.1f} ms | "
            f"{adv['seconds'] * 1000:.1f} ms | **{t_ratio:.2f}x** | "
            f"{base['peak_kib'] / 1024:.1f} MiB / {adv['peak_kib'] / 1024:.1f} MiB | "
            f"**{m_ratio:.2f}x** | {base['rss_kib'] / 1024:.1f} MiB / "
            f"{adv['rss_kib'] / 1024:.1f} MiB | {adv['json_seconds'] * 1000:.1f} ms |"
        )
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        kind, dataset, repeat, mb = sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
        print(json.dumps(worker(kind, dataset, repeat, mb)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--megabytes", type=float, default=10.0)
    args = parser.parse_args()
    rows = []
    for dataset, label in (
        ("corpus", "shared corpus"),
        ("big", f"generated {args.megabytes:g} MB"),
    ):
        base = measure("floor", dataset, args.repeat, args.megabytes)
        adv = measure("advisor", dataset, args.repeat, args.megabytes)
        rows.append((f"{label} ({adv['files']} files)", base, adv))
        warmup = adv["warmup_seconds"]
    now = dt.datetime.now(dt.UTC)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    text = (
        f"# Core benchmark, {now:%Y-%m-%d %H:%M} UTC, commit {commit()}\n\n"
        f"Machine: {machine}. Median of {args.repeat} runs; target: at most {TARGET}x.\n\n"
        f"{table(rows)}\n\n"
        "One-time warm-up per process (image catalogue, schema validator): "
        f"{warmup * 1000:.0f} ms.\n"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "core-latest.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
