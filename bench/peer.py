"""Benchmark ``manage.py analyze`` against checkov on the corpus, whole process each.

    .venv/bin/python bench/peer.py [--repeat 5] [--no-install]

The peer is checkov (``checkov --framework kubernetes``), the common static checker for
Kubernetes manifests. It is not installed into the project's .venv (it pins many packages): the
first run creates ``bench/.peer-venv/`` and installs ``checkov==CHECKOV_VERSION`` there
(``--no-install`` skips that). If the install fails the advisor's figures are still written and
the report says why checkov is missing.

Both tools read the same temporary copy of the corpus (every file of tests/fixtures/corpus except
INDEX.tsv and LICENSES.md, with ``.yaml`` appended where the name has no .yaml/.yml
extension, since checkov skips other names) and write JSON to a file:

* advisor: ``.venv/bin/python manage.py analyze --format json FILE...`` (what users run), and
  ``.venv/bin/python -m advisor.cli --format json FILE...`` (the same code without Django's
  start-up);
* checkov: ``checkov --framework kubernetes -d DIR --quiet --compact -o json --skip-download``,
  with ``CKV_SKIP_PACKAGE_UPDATE_CHECK=true`` and ``BC_SKIP_MAPPING=TRUE`` so that it makes no
  network call (no version check, no guideline download; it would fail offline and retry).

After one untimed warm-up run of each (which also checks that each output parses), the tools run
in turn, ``--repeat`` rounds, the order rotating each round. Time is ``time.perf_counter``
around the whole process (start-up included), the median is reported. Peak memory is the
process tree's ``ru_maxrss`` from ``os.wait4`` (the largest single process of the tree: checkov
forks worker processes), and, from one more untimed run, the peak of the tree's summed PSS
sampled every 10 ms from /proc (shared pages counted once).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run_all import load_average, provenance, write_result  # noqa: E402

CORPUS = ROOT / "tests" / "fixtures" / "corpus"  # real manifests; INDEX.tsv, LICENSES.md
PEER_VENV = ROOT / "bench" / ".peer-venv"
CHECKOV_VERSION = "3.3.30"  # the newest on PyPI when this benchmark was written
CHECKOV_ENV = {"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "TRUE"}
QUIET = ["--quiet", "--compact", "-o", "json", "--skip-download"]
OK_EXIT = {0, 1}  # both exit 1 when they report a failing check / an error finding


def checkov_bin() -> Path:
    return PEER_VENV / "bin" / "checkov"


def installed_version() -> str | None:
    if not checkov_bin().exists():
        return None
    try:
        out = subprocess.run(
            [str(checkov_bin()), "--version"],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **CHECKOV_ENV},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def ensure_checkov(install: bool) -> str | None:
    """Make sure checkov CHECKOV_VERSION runs from bench/.peer-venv; return an error or None."""
    if installed_version() == CHECKOV_VERSION:
        return None
    if not install:
        return f"checkov {CHECKOV_VERSION} is not installed in {PEER_VENV} (--no-install)"
    print(f"peer: installing checkov=={CHECKOV_VERSION} into {PEER_VENV}", file=sys.stderr)
    base = getattr(sys, "_base_executable", sys.executable)
    pin = f"checkov=={CHECKOV_VERSION}"
    steps = [
        [base, "-m", "venv", str(PEER_VENV)],
        [str(PEER_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", pin],
    ]
    for cmd in steps:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"`{' '.join(cmd[:4])} ...` failed: {exc}"
        if out.returncode != 0:
            tail = " ".join((out.stderr or out.stdout).strip().splitlines()[-3:])
            return f"`{' '.join(cmd[:4])} ...` exited {out.returncode}: {tail[:400]}"
    version = installed_version()
    if version != CHECKOV_VERSION:
        return f"checkov installed but `checkov --version` says {version!r}"
    return None


def copy_corpus(dest: Path) -> list[Path]:
    files = []
    for src in sorted(CORPUS.iterdir()):
        if not src.is_file() or src.suffix in (".tsv", ".md"):
            continue
        name = src.name if src.suffix in (".yaml", ".yml") else src.name + ".yaml"
        shutil.copyfile(src, dest / name)
        files.append(dest / name)
    return files


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may contain spaces, so split after the last ')'.
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            kids.append(int(entry))
    return kids


def _tree_pss_kib(pid: int) -> int:
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            continue
        todo.extend(_children(p))
    return total


def run_once(cmd: list[str], out_path: Path, env: dict, sample: bool = False) -> dict:
    """Run one whole process; wall time, exit code, ru_maxrss (KiB), optionally sampled PSS."""
    peak = [0]
    with open(out_path, "wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=env, cwd=ROOT)
        sampler = None
        if sample:
            stop = threading.Event()

            def poll() -> None:
                while not stop.is_set():
                    peak[0] = max(peak[0], _tree_pss_kib(proc.pid))
                    stop.wait(0.01)

            sampler = threading.Thread(target=poll, daemon=True)
            sampler.start()
        try:
            stderr = proc.stderr.read() if proc.stderr else b""
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # interrupted: leave no process behind
            proc.kill()
            proc.wait()
            raise
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if sampler:
            stop.set()
            sampler.join()
    return {
        "seconds": seconds,
        "rc": proc.returncode,
        "maxrss_kib": usage.ru_maxrss,
        "pss_kib": peak[0],
        "stderr": stderr.decode(errors="replace")[-2000:],
    }


def describe_output(tool: str, path: Path) -> str:
    data = json.loads(path.read_text())
    if tool.startswith("advisor"):
        s = data["summary"]
        return (
            f"{s['workloads']} workloads analysed ({s['error']} errors, {s['warning']} warnings, "
            f"{s['info']} infos), {len(data['skipped'])} other documents skipped, "
            f"{len(data['errors'])} unreadable"
        )
    reports = data if isinstance(data, list) else [data]
    s = reports[0]["summary"]
    return (
        f"{s['resource_count']} resources checked ({s['passed']} passed, {s['failed']} failed), "
        f"{s['parsing_errors']} parsing errors"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per tool (default 5)")
    parser.add_argument("--no-install", action="store_true", help="never create the peer venv")
    args = parser.parse_args()
    load = load_average()
    # SIGTERM (e.g. a CI timeout) unwinds through the finally blocks: temp files, child process.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))

    checkov_error = ensure_checkov(install=not args.no_install)
    if checkov_error:
        print(f"peer: checkov unavailable: {checkov_error}", file=sys.stderr)

    tmp = Path(tempfile.mkdtemp(prefix="advisor-peer-bench-"))
    try:
        corpus_dir = tmp / "corpus"
        corpus_dir.mkdir()
        files = copy_corpus(corpus_dir)
        nbytes = sum(f.stat().st_size for f in files)
        rel = [str(f) for f in files]
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        tools: dict[str, tuple[list[str], dict]] = {
            "advisor": (
                [sys.executable, "manage.py", "analyze", "--format", "json", *rel],
                env,
            ),
            "advisor-cli": (
                [sys.executable, "-m", "advisor.cli", "--format", "json", *rel],
                env,
            ),
        }
        if not checkov_error:
            tools["checkov"] = (
                [str(checkov_bin()), "--framework", "kubernetes", "-d", str(corpus_dir), *QUIET],
                {**env, **CHECKOV_ENV},
            )
        outputs = {}
        for name, (cmd, tool_env) in tools.items():
            out = tmp / f"{name}.json"
            first = run_once(cmd, out, tool_env)
            if first["rc"] not in OK_EXIT:
                raise SystemExit(f"peer: {name} exited {first['rc']}: {first['stderr']}")
            outputs[name] = describe_output(name, out)
            print(f"peer: {name}: {outputs[name]}", file=sys.stderr)
        runs: dict[str, list[dict]] = {name: [] for name in tools}
        names = list(tools)
        for i in range(args.repeat):
            order = names[i % len(names) :] + names[: i % len(names)]
            for name in order:
                cmd, tool_env = tools[name]
                r = run_once(cmd, tmp / f"{name}.json", tool_env)
                if r["rc"] not in OK_EXIT:
                    raise SystemExit(f"peer: {name} exited {r['rc']}: {r['stderr']}")
                runs[name].append(r)
        pss = {}
        for name, (cmd, tool_env) in tools.items():
            pss[name] = run_once(cmd, tmp / f"{name}.json", tool_env, sample=True)["pss_kib"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    figures: dict[str, dict] = {}
    for name, rs in runs.items():
        times = [r["seconds"] for r in rs]
        figures[name] = {
            "median_s": statistics.median(times),
            "min_s": min(times),
            "max_s": max(times),
            "maxrss_kib": max(r["maxrss_kib"] for r in rs),
            "pss_kib": pss[name],
            "output": outputs[name],
        }
    data: dict = {
        "load_before": load,
        "repeat": args.repeat,
        "files": len(files),
        "bytes": nbytes,
        "checkov_version": CHECKOV_VERSION,
        "checkov_error": checkov_error,
        "tools": figures,
    }
    if "checkov" in figures:
        data["ratio_time"] = figures["advisor"]["median_s"] / figures["checkov"]["median_s"]
        data["ratio_time_cli"] = figures["advisor-cli"]["median_s"] / figures["checkov"]["median_s"]
        data["ratio_rss"] = figures["advisor"]["maxrss_kib"] / figures["checkov"]["maxrss_kib"]
        data["ratio_pss"] = figures["advisor"]["pss_kib"] / max(figures["checkov"]["pss_kib"], 1)
    text = report(data)
    write_result("peer", text, data)
    print(text)
    return 0


LABELS = {
    "advisor": "advisor: `manage.py analyze --format json`",
    "advisor-cli": "advisor: `python -m advisor.cli --format json`",
    "checkov": f"checkov {CHECKOV_VERSION}: `--framework kubernetes -d`",
}


def report(data: dict) -> str:
    lines = [
        "# Peer benchmark: the advisor against checkov on the corpus",
        "",
        provenance(load=data["load_before"]),
        "",
        f"Input: {data['files']} files, {data['bytes']:,} bytes (every corpus file but INDEX.tsv, "
        "copied once with `.yaml` added where missing; both tools read that copy). Whole "
        f"process, start-up included; median of {data['repeat']} runs, tools alternating.",
        "",
        "| tool | median | min / max | peak RSS (largest process) | peak PSS (whole tree) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, f in data["tools"].items():
        lines.append(
            f"| {LABELS[name]} | **{f['median_s'] * 1000:.0f} ms** | "
            f"{f['min_s'] * 1000:.0f} / {f['max_s'] * 1000:.0f} ms | "
            f"{f['maxrss_kib'] / 1024:.1f} MiB | {f['pss_kib'] / 1024:.1f} MiB |"
        )
    lines.append("")
    if data["checkov_error"]:
        lines.append(f"**checkov was not measured**: {data['checkov_error']}")
    else:
        lines += [
            f"advisor / checkov: time **{data['ratio_time']:.2f}x** "
            f"(`python -m advisor.cli`: {data['ratio_time_cli']:.2f}x), peak RSS "
            f"**{data['ratio_rss']:.2f}x**, tree PSS {data['ratio_pss']:.2f}x.",
        ]
    lines += ["", "What each tool reported (same files):", ""]
    lines += [f"* {name}: {f['output']}" for name, f in data["tools"].items()]
    lines += [
        "",
        "The tools do different work: checkov runs its generic policy checks (security context, "
        "probes, resources, images) on every resource, the advisor classifies containers, "
        "computes effective resources, simulates start-up and shutdown and runs its rules on "
        "workloads. The comparison is of the cost of running each in CI on the same files.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
