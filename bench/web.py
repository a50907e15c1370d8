"""Benchmark the production server: the analyse API against a trivial view, same server, same run.

    .venv/bin/python bench/web.py [--duration 10] [--warmup 2] [--connections 8] [--load auto]

Starts gunicorn as production does (``gunicorn advisor.wsgi:application``, 2 sync workers,
``DJANGO_DEBUG=false``, a throwaway secret key, ``DJANGO_ALLOWED_HOSTS=127.0.0.1``,
``SECURE_SSL_REDIRECT=false`` since it is plain HTTP on loopback, a temporary SQLite database
migrated first, static files collected into a temporary STATIC_ROOT) on 127.0.0.1 and a free
port. All the load comes from one address standing in for many clients, so the analysis rate
limit (``ADVISOR_RATE_ANALYZE``, 60/minute per address) gets a budget the run cannot reach; it
still counts every request. Then it loads, one after the other:

(a) ``POST /api/v1/analyze`` with a three-container Deployment (an init container, a native
    sidecar, the app; ``Content-Type: application/yaml``);
(b) ``GET /healthz`` (a ``SELECT 1`` on the database), the trivial view; ``/static/favicon.svg``
    through whitenoise if the app has no /healthz.

Each load is ``--warmup`` seconds (discarded) then ``--duration`` seconds with ``--connections``
concurrent connections, with wrk (``apt-get install wrk``; one thread, latency percentiles from
its Lua ``done`` hook) or, if wrk is not installed (or ``--load python``), a Python load
generator (threads, ``http.client``), bounded in time and in request count either way. Reported:
requests per second, p50/p90/p99 latency, errors (any non-2xx answer or socket error makes the
run invalid: exit code 1, targets not judged). Targets: analyse throughput at least 0.5x the
trivial view's; analyse p99 at most 5x its p50. Then, to explain those figures, each endpoint
again with a single connection for ``--serial-duration`` seconds: the latency of one request on
an otherwise idle server (its service time).

The load generator runs on the same machine as the server and takes CPU from it; gunicorn's sync
workers close the connection after each response, so every request includes a TCP connect, as
production behind a proxy without keep-alive to the app. gunicorn is stopped with SIGTERM (then
SIGKILL after 15 s) and the temporary directory removed, whatever happens.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
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

WORKERS = 2
MAX_REQUESTS = 500_000  # hard cap per load for the Python generator
RATE_LIMIT = "1000000000/minute"
THROUGHPUT_TARGET = 0.5
TAIL_TARGET = 5.0

# A real-world shape: a migration init container, a Cloud SQL proxy as a native sidecar with a
# startup probe, and the app with probes, resources and a preStop hook.
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: orders
  namespace: shop
  labels: {app: orders}
spec:
  replicas: 3
  selector:
    matchLabels: {app: orders}
  template:
    metadata:
      labels: {app: orders}
    spec:
      terminationGracePeriodSeconds: 45
      initContainers:
      - name: migrate
        image: registry.example.com/shop/orders-migrate:1.14.2
        command: ["/app/migrate", "--to", "latest"]
        env:
        - {name: DB_HOST, value: "127.0.0.1"}
        resources:
          requests: {cpu: 200m, memory: 128Mi}
          limits: {memory: 256Mi}
      - name: cloud-sql-proxy
        image: gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.11.0
        restartPolicy: Always
        args: ["--port=5432", "--health-check", "--http-address=0.0.0.0",
               "shop:europe-west1:orders"]
        ports:
        - {containerPort: 5432, name: postgres}
        - {containerPort: 9090, name: proxy-health}
        startupProbe:
          httpGet: {path: /startup, port: 9090}
          periodSeconds: 1
          failureThreshold: 30
        resources:
          requests: {cpu: 100m, memory: 64Mi}
          limits: {memory: 128Mi}
        securityContext: {runAsNonRoot: true, readOnlyRootFilesystem: true}
      containers:
      - name: orders
        image: registry.example.com/shop/orders:1.14.2
        ports:
        - {containerPort: 8080, name: http}
        env:
        - {name: DB_HOST, value: "127.0.0.1"}
        - {name: DB_PORT, value: "5432"}
        readinessProbe:
          httpGet: {path: /ready, port: http}
          periodSeconds: 5
        livenessProbe:
          httpGet: {path: /live, port: http}
          periodSeconds: 10
        lifecycle:
          preStop:
            sleep: {seconds: 5}
        resources:
          requests: {cpu: 500m, memory: 512Mi}
          limits: {memory: 512Mi}
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, method: str, path: str, body: bytes | None = None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


class Server:
    """gunicorn in production settings on a temporary database and STATIC_ROOT."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        self.env.update(
            DJANGO_SETTINGS_MODULE="advisor.settings",
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="false",
            SQLITE_PATH=str(tmp / "db.sqlite3"),
            STATIC_ROOT=str(tmp / "static"),
            # All the load comes from one address, standing in for many clients: the analysis
            # rate limit (60/minute per address by default) stays on, counting every request as
            # in production, with a budget this run cannot reach.
            ADVISOR_RATE_ANALYZE=RATE_LIMIT,
        )

    def manage(self, *args: str) -> None:
        cmd = [sys.executable, "manage.py", *args]
        out = subprocess.run(cmd, cwd=ROOT, env=self.env, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{out.stderr[-2000:]}")

    def start(self) -> None:
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "advisor.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(WORKERS),
            "--no-control-socket",
            "--access-logfile",
            str(self.tmp / "access.log"),
            "--error-logfile",
            str(self.tmp / "error.log"),
        ]
        # Its own session: a stray worker can be killed by process group, and only ours.
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited {self.proc.returncode}: {self.error_log()}")
            try:
                request(self.port, "GET", "/static/favicon.svg")
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within 30 s: {self.error_log()}")

    def error_log(self) -> str:
        try:
            return (self.tmp / "error.log").read_text()[-2000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


# --- load generators -------------------------------------------------------------------------

LUA = """\
wrk.method = {method}
wrk.body = {body}
wrk.headers["Content-Type"] = {ctype}
done = function(summary, latency, requests)
  io.write(string.format(
    "BENCH-JSON {{\\"requests\\": %d, \\"duration_us\\": %d, \\"p50_us\\": %d, "
    .. "\\"p90_us\\": %d, \\"p99_us\\": %d, \\"max_us\\": %d, \\"mean_us\\": %.1f, "
    .. "\\"connect\\": %d, \\"read\\": %d, \\"write\\": %d, \\"status\\": %d, "
    .. "\\"timeout\\": %d}}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
end
"""


def lua_string(text: str) -> str:
    level = "=" * 4
    assert f"]{level}]" not in text
    return f"[{level}[{text}]{level}]"


def wrk_load(port, method, path, body, ctype, seconds, connections, tmp) -> dict:
    script = tmp / "load.lua"
    script.write_text(
        LUA.format(
            method=lua_string(method),
            body=lua_string(body.decode()) if body else "nil",
            ctype=lua_string(ctype) if ctype else "nil",
        )
    )
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s"]
    cmd += ["-s", str(script), f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCH-JSON ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout}\n{out.stderr}")
    r = json.loads(line.removeprefix("BENCH-JSON "))
    errors = r["connect"] + r["read"] + r["write"] + r["timeout"]
    return {
        "requests": r["requests"],
        "seconds": r["duration_us"] / 1e6,
        "rps": r["requests"] / (r["duration_us"] / 1e6),
        "p50_ms": r["p50_us"] / 1000,
        "p90_ms": r["p90_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000,
        "max_ms": r["max_us"] / 1000,
        "mean_ms": r["mean_us"] / 1000,
        "non_2xx": r["status"],
        "socket_errors": errors,
    }


def python_load(port, method, path, body, ctype, seconds, connections, tmp) -> dict:
    """Threads with one http.client connection each; stops at the deadline or MAX_REQUESTS."""
    headers = {"Content-Type": ctype} if ctype else {}
    latencies: list[list[float]] = [[] for _ in range(connections)]
    failures = [0] * connections
    non_2xx = [0] * connections
    budget = MAX_REQUESTS // connections
    started = time.perf_counter()
    deadline = started + seconds

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        while time.perf_counter() < deadline and len(latencies[i]) < budget:
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                failures[i] += 1
                conn.close()
                continue
            latencies[i].append(time.perf_counter() - t0)
            if not 200 <= resp.status < 400:
                non_2xx[i] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 10)
    elapsed = time.perf_counter() - started
    all_lat = sorted(x for lat in latencies for x in lat)
    if not all_lat:
        raise RuntimeError("no request completed")
    q = statistics.quantiles(all_lat, n=100, method="inclusive")
    return {
        "requests": len(all_lat),
        "seconds": elapsed,
        "rps": len(all_lat) / elapsed,
        "p50_ms": q[49] * 1000,
        "p90_ms": q[89] * 1000,
        "p99_ms": q[98] * 1000,
        "max_ms": all_lat[-1] * 1000,
        "mean_ms": statistics.fmean(all_lat) * 1000,
        "non_2xx": sum(non_2xx),
        "socket_errors": sum(failures),
    }


# --- the benchmark ---------------------------------------------------------------------------


def check_responses(port: int) -> str:
    """The analyse endpoint answers the real document; return the trivial view's path."""
    status, _, body = request(
        port, "POST", "/api/v1/analyze", DEPLOYMENT.encode(), {"Content-Type": "application/yaml"}
    )
    if status != 200:
        raise RuntimeError(f"POST /api/v1/analyze answered {status}: {body[:500]!r}")
    report = json.loads(body)
    (workload,) = report["workloads"]
    lifecycles = sorted(c["lifecycle"] for c in workload["containers"])
    if lifecycles != ["init", "native-sidecar", "regular"]:
        raise RuntimeError(f"unexpected containers in the analysis: {lifecycles}")
    status, _, body = request(port, "GET", "/healthz")
    if status == 200 and body == b"ok":
        return "/healthz"
    status, _, _ = request(port, "GET", "/static/favicon.svg")
    if status != 200:
        raise RuntimeError("neither /healthz nor /static/favicon.svg answers 200")
    return "/static/favicon.svg"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per load")
    parser.add_argument("--warmup", type=int, default=2, help="seconds discarded before each")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--serial-duration", type=int, default=3, help="0 to skip")
    parser.add_argument("--load", choices=("auto", "wrk", "python"), default="auto")
    args = parser.parse_args()
    if not 0 < args.duration <= 120 or not 0 <= args.warmup <= 30:
        parser.error("--duration must be 1 to 120 seconds and --warmup 0 to 30")
    if not 0 <= args.serial_duration <= 60 or not 1 <= args.connections <= 64:
        parser.error("--serial-duration must be 0 to 60 seconds and --connections 1 to 64")
    load_before = load_average()
    # SIGTERM (e.g. a CI timeout) unwinds through the finally below, which stops gunicorn.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    use_wrk = args.load == "wrk" or (args.load == "auto" and shutil.which("wrk"))
    if args.load == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed (apt-get install wrk)")
    if not use_wrk:
        print("web: wrk not found (apt-get install wrk); using the Python load generator")
    load = wrk_load if use_wrk else python_load
    tool = "wrk 1 thread" if use_wrk else "Python threads + http.client"

    tmp = Path(tempfile.mkdtemp(prefix="advisor-web-bench-"))
    server = Server(tmp)
    try:
        server.start()
        trivial_path = check_responses(server.port)
        loads = {
            "analyze": ("POST", "/api/v1/analyze", DEPLOYMENT.encode(), "application/yaml"),
            "trivial": ("GET", trivial_path, None, None),
        }
        results = {}
        for name, (method, path, body, ctype) in loads.items():
            print(f"web: {method} {path}: {args.warmup:g} s warm-up, {args.duration:g} s load")
            if args.warmup:
                load(server.port, method, path, body, ctype, args.warmup, args.connections, tmp)
            results[name] = load(
                server.port, method, path, body, ctype, args.duration, args.connections, tmp
            )
        serial = {}
        for name, (method, path, body, ctype) in loads.items():
            if args.serial_duration:
                print(f"web: {method} {path}: {args.serial_duration} s, one connection")
                serial[name] = load(
                    server.port, method, path, body, ctype, args.serial_duration, 1, tmp
                )
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    a, t = results["analyze"], results["trivial"]
    data = {
        "load_before": load_before,
        "tool": tool,
        "workers": WORKERS,
        "connections": args.connections,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "body_bytes": len(DEPLOYMENT.encode()),
        "trivial_path": trivial_path,
        "analyze": a,
        "trivial": t,
        "serial": serial,
        "serial_duration_s": args.serial_duration,
        "throughput_ratio": a["rps"] / t["rps"],
        "tail_ratio": a["p99_ms"] / a["p50_ms"],
    }
    failed = sum(
        r["non_2xx"] + r["socket_errors"] for r in [a, t, *serial.values()]
    )  # an error answer is not a measurement of the work: the run is invalid
    data["failed_requests"] = failed
    data["throughput_met"] = not failed and data["throughput_ratio"] >= THROUGHPUT_TARGET
    data["tail_met"] = not failed and data["tail_ratio"] <= TAIL_TARGET
    text = report(data)
    write_result("web", text, data)
    print(text)
    if failed:
        print(f"web: INVALID run: {failed} requests failed or were not 2xx", file=sys.stderr)
        return 1
    return 0


def report(d: dict) -> str:
    trivial = d["trivial_path"]
    lines = [
        "# Web benchmark: gunicorn, the analyse API against a trivial view",
        "",
        provenance(load=d["load_before"]),
        "",
        f"gunicorn `advisor.wsgi:application`, {d['workers']} sync workers, production settings "
        "(`DJANGO_DEBUG=false`, whitenoise, SQLite), on 127.0.0.1; the analysis rate limit "
        f"raised to `ADVISOR_RATE_ANALYZE={RATE_LIMIT}` (still counted: one address stands in "
        "for many clients). Load: "
        f"{d['tool']}, {d['connections']} connections, {d['warmup_s']:g} s warm-up then "
        f"{d['duration_s']:g} s per endpoint, one endpoint after the other, on the same 2-core "
        "machine as the server.",
        "",
        "| endpoint | requests | req/s | p50 | p90 | p99 | max | non-2xx | socket errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    labels = {
        "analyze": f"`POST /api/v1/analyze` (3-container Deployment, {d['body_bytes']:,} bytes)",
        "trivial": f"`GET {trivial}`" + (" (SELECT 1)" if trivial == "/healthz" else ""),
    }
    rows = [(f"{labels[n]}, {d['connections']} connections", d[n]) for n in labels]
    rows += [(f"{labels[n]}, 1 connection", r) for n, r in d["serial"].items()]
    for label, r in rows:
        lines.append(
            f"| {label} | {r['requests']:,} | **{r['rps']:.0f}** | {r['p50_ms']:.1f} ms | "
            f"{r['p90_ms']:.1f} ms | {r['p99_ms']:.1f} ms | {r['max_ms']:.1f} ms | "
            f"{r['non_2xx']} | {r['socket_errors']} |"
        )
    tp = "met" if d["throughput_met"] else "**MISSED**"
    tl = "met" if d["tail_met"] else "**MISSED**"
    if d["failed_requests"]:
        tp = tl = "not judged"
        lines += [
            "",
            f"**Invalid run: {d['failed_requests']:,} requests failed or were not 2xx**; the "
            "figures above measure error answers, not the work.",
        ]
    lines += [
        "",
        f"* Analyse throughput / trivial view: **{d['throughput_ratio']:.2f}x** "
        f"(target at least {THROUGHPUT_TARGET}x: {tp}).",
        f"* Analyse p99 / p50: **{d['tail_ratio']:.2f}x** (target at most {TAIL_TARGET:g}x: {tl}).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
