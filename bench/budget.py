"""Time and peak memory per path for the largest inputs that fit the web's budget.

    .venv/bin/python bench/budget.py [--repeat 3]        # writes bench/results/budget-latest.md

Inputs, each just under one limit of the web's default budget (README "Limits"):

* ``bytes``: 480 Jobs (under ``ADVISOR_MAX_WORKLOADS``, 500) padded to 2,000,000 bytes (under
  ``ADVISOR_MAX_INPUT_BYTES``, 2 MiB), each with an app and a classic log-shipping sidecar;
* ``containers``: one Job with 200 containers (``ADVISOR_MAX_CONTAINERS``): 198 native sidecars,
  the app and a classic sidecar; its per-phase breakdown is the condensed one;
* ``nodes``: one Job whose annotations-like key holds 1,900 aliases of a 100-node list, 190,000
  nodes once expanded (``ADVISOR_MAX_NODES``, 200,000).

Paths: ``core`` (``analyze`` with the web's budget, then ``to_dict``), ``form`` (``POST
/analyze/``, full page), ``api`` (``POST /api/v1/analyze``, YAML body), ``fix`` (``POST /fix/``
for the classic sidecar of document 1), ``save`` (``POST /reviews/save/``, signed in, SQLite).
Each (input, path) runs ``--repeat`` times, each in a fresh process (one warm-up request first,
so imports and template loading are not counted): the best wall time of the request, and the
process's peak resident size (``ru_maxrss``) minus its size before the request.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "bench" / "results" / "budget-latest.md"
PATHS = ("core", "form", "api", "fix", "save")

JOB = """apiVersion: batch/v1
kind: Job
metadata:
  name: job-{i}
  annotations: {{note: "{pad}"}}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: app
        image: registry.example/app:1.0
        command: [sh, -c, "run-batch"]
        resources: {{requests: {{cpu: 500m, memory: 256Mi}}, limits: {{memory: 512Mi}}}}
      - name: logshipper
        image: fluent/fluent-bit:3.0
        command: [sh, -c, "tail -F /var/log/app.log"]
        resources: {{requests: {{cpu: 50m, memory: 64Mi}}}}
"""


def bytes_input(total: int = 2_000_000, count: int = 480) -> str:
    plain = [JOB.format(i=i, pad="") for i in range(count)]
    pad = (total - sum(len(p) for p in plain) - 4 * (count - 1)) // count
    return "---\n".join(JOB.format(i=i, pad="x" * pad) for i in range(count))


def containers_input(count: int = 200) -> str:
    sidecars = "".join(
        f"      - {{name: s{i}, image: envoyproxy/envoy:v1.30, restartPolicy: Always, "
        f"resources: {{requests: {{cpu: 10m, memory: 16Mi}}}}}}\n"
        for i in range(count - 2)
    )
    return JOB.format(i=0, pad="").replace(
        "      restartPolicy: Never\n",
        "      restartPolicy: Never\n      initContainers:\n" + sidecars,
    )


def nodes_input(aliases: int = 1_900) -> str:
    items = ", ".join(str(i) for i in range(99))
    refs = "  - *l\n" * (aliases - 1)
    return JOB.format(i=0, pad="").replace(
        "metadata:\n", f"x:\n  - &l [{items}]\n{refs}metadata:\n", 1
    )


INPUTS = {"bytes": bytes_input, "containers": containers_input, "nodes": nodes_input}

RUNNER = r"""
import json, os, resource, sys, time
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
from django.conf import settings
settings.ADVISOR_RATE_ANALYZE = "off"
path, text = sys.argv[1], sys.stdin.read()

def rss_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def run(text):
    if path == "core":
        from webui import services
        from advisor.core.report import to_dict
        report = services.analyse(text, kubernetes_version="1.37", api_defaults=True)
        assert not report.errors, report.errors[:2]
        json.dumps(to_dict(report))
        return 200
    client = Client()
    if path == "form":
        r = client.post("/analyze/", {"manifest": text, "kubernetes_version": "1.37"})
    elif path == "api":
        r = client.post("/api/v1/analyze", text, content_type="application/yaml")
    elif path == "fix":
        target = json.dumps({"rule": "classic-sidecar-blocks-job", "document": 1,
                             "container": "logshipper"})
        r = client.post("/fix/", {"manifest": text, "kubernetes_version": "1.37", "fix": target})
    else:
        from django.contrib.auth.models import User
        user, _ = User.objects.get_or_create(username="bench")
        client.force_login(user)
        r = client.post("/reviews/save/", {"title": "bench", "manifest": text,
                                           "kubernetes_version": "1.37"})
    assert r.status_code in (200, 302), (r.status_code, r.content[:500])
    return r.status_code

small = "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: b}\n"
Client().post("/analyze/", {"manifest": small, "kubernetes_version": "1.37"})  # warm-up
before = rss_kib()
start = time.perf_counter()
status = run(text)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_kib": peak, "growth_kib": peak - before,
                  "status": status}))
"""


def measure(path: str, text: str, env: dict[str, str], db_template: Path, tmp: Path) -> dict:
    db = tmp / f"db-{path}.sqlite3"
    shutil.copy(db_template, db)
    run_env = env | {"SQLITE_PATH": str(db)}
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, path],
        input=text,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=run_env,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{path}: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"DJANGO_SETTINGS_MODULE": "advisor.settings", "PYTHONPATH": str(ROOT)}
    rows = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        template = tmp / "template.sqlite3"
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env | {"SQLITE_PATH": str(template)},
            check=True,
            capture_output=True,
        )
        for input_name, make in INPUTS.items():
            text = make()
            for path in PATHS:
                runs = [measure(path, text, env, template, tmp) for _ in range(args.repeat)]
                best = min(runs, key=lambda r: r["seconds"])
                growth = max(r["growth_kib"] for r in runs)
                peak = max(r["peak_kib"] for r in runs)
                rows.append((input_name, len(text.encode()), path, best["seconds"], growth, peak))
                print(
                    f"{input_name:<10} {path:<5} {best['seconds']:.2f} s  +{growth // 1024} MiB "
                    f"(peak {peak // 1024} MiB)",
                    flush=True,
                )
    RESULT.write_text(report(rows, args.repeat))
    print(f"wrote {RESULT.relative_to(ROOT)}")
    return 0


def report(rows: list[tuple], repeat: int) -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    lines = [
        "# Budget benchmark: the largest inputs that fit the web's budget, per path",
        "",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, commit {commit}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}; "
        f"best of {repeat} fresh processes (`bench/budget.py`).",
        "",
        "| input | bytes | path | time (s) | memory growth (MiB) | process peak (MiB) |",
        "| --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for name, size, path, seconds, growth, peak in rows:
        mib = f"{growth / 1024:.0f} | {peak / 1024:.0f}"
        lines.append(f"| {name} | {size:,} | {path} | {seconds:.2f} | {mib} |")
    lines += [
        "",
        "Memory growth is the process's peak resident size minus its size just before the "
        "request; the shipped manifests give a worker 512 MiB.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
