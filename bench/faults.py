"""Fault injection: PostgreSQL restarted in the middle of a load run on the production server.

    .venv/bin/python bench/faults.py [--clients 8] [--warmup 5] [--down 3] [--after 10]
                                     [--max-requests 3000] [--max-seconds 90] [--pace 0]
                                     [--mode fast|immediate]

Writes ``bench/results/faults-latest.md`` (and ``faults-latest.json``); the
exit code is 1 when a requirement below is not met. ``tests/faults/test_pg_restart.py`` runs
the same scenario, lighter, in the test suite.

The requirement: the app recovers without being restarted, and no saved review is lost or
half-written. The scenario, every step of it bounded in time:

1. A PRIVATE PostgreSQL cluster (Debian's ``/usr/lib/postgresql/*/bin``: initdb, pg_ctl) in a
   temporary directory, on a free port of 127.0.0.1, ``-A trust``, ``fsync=off`` (throwaway);
   as the ``postgres`` system user when run as root (initdb refuses root). The machine's shared
   PostgreSQL on port 5432 is never touched.
2. collectstatic into a temporary STATIC_ROOT, then ``deploy/entrypoint.sh`` (migrate, then
   gunicorn with 2 workers) with production settings: ``DJANGO_DEBUG=false``, a throwaway
   secret key, ``DJANGO_ALLOWED_HOSTS=127.0.0.1``, ``SECURE_SSL_REDIRECT=false`` (plain HTTP on
   loopback), ``DATABASE_URL`` at the private cluster; a user and an API token are created
   through the same entry script (``manage.py shell``).
3. ``--clients`` threads, each alternating ``POST /api/v1/reviews`` (a two-container Deployment,
   token auth) and ``GET /healthz`` on 127.0.0.1, bounded by ``--max-requests`` each and
   ``--max-seconds`` in all, each request by a client timeout. Every response status is
   recorded, with the slug of every 201.
4. After ``--warmup`` seconds, PostgreSQL is stopped (``pg_ctl stop -m fast``: connections are
   cut, in-flight transactions rolled back), kept down ``--down`` seconds, and started again,
   while the load goes on; the load then runs ``--after`` more seconds.
5. Checks: no request hung or failed at the socket level; 5xx only while the database was down
   (from the stop to ``RECOVERY_BOUND`` seconds after it accepts connections again), never any
   other error; the app recovered by itself within ``RECOVERY_BOUND`` seconds, served by the
   same gunicorn master and workers (PIDs unchanged), the last requests of every client
   succeeding; then, in the database (psycopg): every slug that got a 201 exists with exactly
   one revision (number 1) equal to it, its ReviewRule rows agree with its ``rule_ids``, its
   tag is linked; no review without a revision, no revision, rule or tag link without a review.
   A review committed just as its connection was cut may exist without its client having seen
   the 201 (the commit raced the cut); those are counted and must not outnumber the failed
   POSTs.

gunicorn is stopped with SIGTERM (SIGKILL to its process group after a bounded wait), the
cluster with ``pg_ctl stop -m immediate`` (SIGKILL to the postmaster's process group if that
fails), and the temporary directory removed, whatever happens.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.client
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
WORKERS = 2
RECOVERY_BOUND = 10.0  # seconds after PostgreSQL accepts connections again
TAG = "faults"
DATABASE = "advisor"
USERNAME = "fault-injector"

# Two containers: the app and a classic sidecar log shipper without resources, which raises a
# rule (so every review has ReviewRule rows to check). NAME is made unique per request.
MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: NAME
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: app
          image: nginx:1.27
          ports: [{containerPort: 80}]
          resources:
            requests: {cpu: 100m, memory: 64Mi}
        - name: log-shipper
          image: fluent/fluent-bit:3.1
          volumeMounts: [{name: logs, mountPath: /var/log/nginx}]
      volumes:
        - name: logs
          emptyDir: {}
"""

Log = Callable[[str], None]


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries (or no ``postgres`` user to run them as root)."""


class ScenarioError(RuntimeError):
    """A step of the scenario could not run (not a failed check: those are in the result)."""


def _quiet(_: str) -> None:
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path} unreadable)"


# --- a private PostgreSQL cluster ----------------------------------------------------------


def postgres_bin() -> Path:
    """The newest Debian PostgreSQL server binaries (``POSTGRES_BIN`` overrides)."""
    override = os.environ.get("POSTGRES_BIN")
    candidates = [Path(override)] if override else []
    candidates += sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.name)] or [0],
        reverse=True,
    )
    for bindir in candidates:
        if all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return bindir
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl, postgres) under /usr/lib/postgresql/*/bin"
        " (apt-get install postgresql, or set POSTGRES_BIN)"
    )


class Cluster:
    """A throwaway PostgreSQL cluster in ``directory`` (which it owns), on 127.0.0.1:``port``."""

    def __init__(self, bindir: Path, directory: Path) -> None:
        self.bindir = bindir
        self.directory = directory
        self.data = directory / "data"
        self.logfile = directory / "postgres.log"
        self.port = 0
        self.owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            try:
                self.owner = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable(
                    "running as root and there is no 'postgres' user"
                ) from None
        directory.mkdir(mode=0o700)
        if self.owner is not None:
            os.chown(directory, self.owner.pw_uid, self.owner.pw_gid)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _command(self, tool: str, *args: str) -> list[str]:
        command = [str(self.bindir / tool), *args]
        if self.owner is None:
            return command
        if shutil.which("runuser"):
            return ["runuser", "-u", "postgres", "--", *command]
        import shlex

        return ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]

    def _run(self, tool: str, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
        out = self.directory / f"{tool}.out"
        with out.open("ab") as sink:
            try:
                # Output to a file, not a pipe: the postmaster pg_ctl starts must not hold ours.
                result = subprocess.run(
                    self._command(tool, *args),
                    cwd=self.directory,
                    stdin=subprocess.DEVNULL,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    timeout=timeout,
                    start_new_session=True,
                    env={  # no PG* variable of the caller's may point the tools elsewhere
                        **{k: v for k, v in os.environ.items() if not k.startswith("PG")},
                        "LC_ALL": "C",
                    },
                )
            except subprocess.TimeoutExpired:
                raise ScenarioError(f"{tool} {args[0]} took more than {timeout:.0f} s") from None
        if result.returncode != 0:
            raise ScenarioError(
                f"{tool} {' '.join(args[:1])} exited with {result.returncode}:\n{_tail(out)}\n"
                f"{_tail(self.logfile)}"
            )
        return result

    def initdb(self) -> None:
        args = ["-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
        self._run("initdb", *args, "--no-locale", "--no-sync", timeout=120)

    def _options(self) -> str:
        return (
            f"-c port={self.port} -c listen_addresses=127.0.0.1"
            f" -c unix_socket_directories={self.directory}"
            " -c fsync=off -c full_page_writes=off -c max_connections=50"
        )

    def _pg_ctl(self, action: str, *args: str) -> None:
        wait = ["-w", "-t", "30"]  # pg_ctl's own bound, within the subprocess's
        self._run("pg_ctl", action, "-D", str(self.data), *args, *wait, timeout=45)

    def start(self, attempts: int = 3) -> None:
        """Start on a free port (a new one if another process took it in between)."""
        for attempt in range(attempts):
            self.port = free_port()
            try:
                self._pg_ctl("start", "-l", str(self.logfile), "-o", self._options())
                return
            except ScenarioError:
                self.kill()
                if attempt == attempts - 1:
                    raise

    def start_again(self) -> None:
        """Start after :meth:`stop`, on the same port (the app's DATABASE_URL names it)."""
        self._pg_ctl("start", "-l", str(self.logfile), "-o", self._options())

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("stop", "-m", mode)

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def kill(self) -> None:
        """SIGKILL the postmaster's process group (pg_ctl makes it a session leader)."""
        pid = self.postmaster_pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        """Stop the server whatever state it is in (immediate, then SIGKILL)."""
        if self.postmaster_pid() is None:
            return
        try:
            self.stop("immediate")
        except ScenarioError:
            self.kill()


# --- the app, as production runs it --------------------------------------------------------


def production_env(url: str, static_root: Path, port: int) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)  # `python` and `gunicorn` of this virtualenv
    return {
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "faults-only-" + secrets.token_urlsafe(40),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": str(static_root),
        "PORT": str(port),
        "WEB_CONCURRENCY": str(WORKERS),
        # One address stands in for many clients creating reviews: no write rate limit. Workers
        # are not recycled after N requests, so "PIDs unchanged" means nothing crashed.
        "ADVISOR_RATE_WRITE": "off",
        "GUNICORN_MAX_REQUESTS": "0",
    }


def collectstatic(env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise ScenarioError(f"collectstatic failed:\n{result.stdout}{result.stderr}")


def issue_token(env: dict[str, str]) -> str:
    """A user and an API token in the app's database, through the entry script."""
    code = (
        "from django.contrib.auth import get_user_model\n"
        "from webui.models import ApiToken\n"
        f"user = get_user_model().objects.create_user({USERNAME!r})\n"
        "print('TOKEN', ApiToken.issue(user, 'faults')[1])\n"
    )
    result = subprocess.run(
        [str(ENTRYPOINT), "python", "manage.py", "shell", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    tokens = [ln.split()[1] for ln in result.stdout.splitlines() if ln.startswith("TOKEN ")]
    if result.returncode != 0 or not tokens:
        raise ScenarioError(f"could not issue a token:\n{result.stdout}{result.stderr}")
    return tokens[-1]


def children(pid: int) -> set[int]:
    """PIDs whose parent is ``pid`` (gunicorn's workers)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


class App:
    """``deploy/entrypoint.sh`` in its own process group; :meth:`close` always stops it."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = int(env["PORT"])
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(ENTRYPOINT)],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 90.0) -> tuple[int, frozenset[int]]:
        """Wait for /healthz 200 and every worker booted; (master PID, worker PIDs)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ScenarioError(
                    f"the entry script exited with {self.process.returncode}:\n{_tail(self.log)}"
                )
            status, _, _ = request(self.port, "GET", "/healthz", timeout=2)
            workers = children(self.process.pid)
            if status == 200 and len(workers) == WORKERS:
                return self.process.pid, frozenset(workers)
            time.sleep(0.2)
        raise ScenarioError(f"the app was not ready within {timeout:.0f} s:\n{_tail(self.log)}")

    def pids(self) -> tuple[int | None, frozenset[int]]:
        alive = self.process.poll() is None
        return (self.process.pid if alive else None), frozenset(children(self.process.pid))

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM (graceful: in-flight requests finish), then SIGKILL to the group."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self.close()
        return self.process.returncode

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)  # and any worker left behind
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


# --- the load ------------------------------------------------------------------------------


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int | None, bytes, str]:
    """(status, body, client error): status None when the request failed at the socket level."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read(), ""
    except TimeoutError:
        return None, b"", "timeout"
    except (OSError, http.client.HTTPException) as exc:
        return None, b"", f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()


@dataclass(frozen=True)
class Sample:
    client: int
    kind: str  # "create" (POST /api/v1/reviews) or "health" (GET /healthz)
    start: float  # seconds since the load began
    end: float
    status: int | None
    error: str = ""  # a socket-level failure (timeout, reset...), status None
    slug: str = ""

    @property
    def ok(self) -> bool:
        return self.status == (201 if self.kind == "create" else 200)


@dataclass(frozen=True)
class Config:
    clients: int = 8
    warmup: float = 5.0
    down: float = 3.0
    after: float = 10.0
    max_requests: int = 3000
    max_seconds: float = 90.0
    pace: float = 0.0  # pause between a client's requests
    client_timeout: float = 10.0
    mode: str = "fast"  # pg_ctl stop mode


@dataclass
class Load:
    port: int
    token: str
    config: Config
    t0: float = field(default_factory=time.monotonic)
    stop: threading.Event = field(default_factory=threading.Event)
    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> float:
        return time.monotonic() - self.t0

    def client(self, number: int) -> None:
        cfg = self.config
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        for i in range(cfg.max_requests):
            if self.stop.is_set() or self.now() > cfg.max_seconds:
                return
            start = self.now()
            if i % 2 == 0:
                payload = {
                    "title": f"fault run client {number} request {i}",
                    "kind": "manifest",
                    "manifest": MANIFEST.replace("NAME", f"web-{number}-{i}"),
                    "kubernetes_version": "1.31",
                    "tags": [TAG],
                }
                body = json.dumps(payload).encode()
                status, data, error = request(
                    self.port, "POST", "/api/v1/reviews", body, headers, cfg.client_timeout
                )
                slug = ""
                if status == 201:
                    with contextlib.suppress(ValueError, AttributeError):
                        slug = str(json.loads(data)["slug"])
                sample = Sample(number, "create", start, self.now(), status, error, slug)
            else:
                status, _, error = request(self.port, "GET", "/healthz", timeout=cfg.client_timeout)
                sample = Sample(number, "health", start, self.now(), status, error)
            with self.lock:
                self.samples.append(sample)
            if cfg.pace:
                self.stop.wait(cfg.pace)


# --- what happened -------------------------------------------------------------------------


@dataclass
class Integrity:
    reviews: int = 0
    acknowledged: int = 0  # slugs that got a 201
    unacknowledged: int = 0  # in the database, no 201 seen (the commit raced the cut)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Result:
    config: Config
    samples: list[Sample]
    stop_begin: float  # pg_ctl stop called (seconds since the load began)
    stopped: float  # PostgreSQL down
    start_begin: float  # pg_ctl start called
    up: float  # PostgreSQL accepting connections again
    load_end: float
    pids_before: tuple[int | None, frozenset[int]]
    pids_after: tuple[int | None, frozenset[int]]
    postmasters: tuple[int | None, int | None]
    exit_code: int | None  # gunicorn's, on SIGTERM after the run
    integrity: Integrity
    setup_seconds: float
    app_log_tail: str = ""

    @property
    def failures(self) -> list[Sample]:
        return [s for s in self.samples if not s.ok]

    @property
    def unclean(self) -> list[Sample]:
        """Failures that are not a clean 5xx: a socket error, a timeout, a 4xx..."""
        return [s for s in self.failures if s.status is None or not 500 <= s.status < 600]

    def in_outage(self, s: Sample) -> bool:
        """Whether the request overlapped the outage (stop to RECOVERY_BOUND after up)."""
        return s.end >= self.stop_begin and s.start <= self.up + RECOVERY_BOUND

    @property
    def outside_outage(self) -> list[Sample]:
        return [s for s in self.failures if not self.in_outage(s)]

    @property
    def during_outage(self) -> list[Sample]:
        """Requests that overlapped [stop called, PostgreSQL accepting again]."""
        return [s for s in self.samples if s.end >= self.stop_begin and s.start <= self.up]

    @property
    def recovery_seconds(self) -> float:
        """From PostgreSQL accepting connections again to the end of the last failed request."""
        late = [s.end - self.up for s in self.failures if s.end > self.up]
        return max(late, default=0.0)

    @property
    def after_recovery(self) -> list[Sample]:
        return [s for s in self.samples if s.start > self.up + self.recovery_seconds]

    def first_success_after_up(self, kind: str) -> float | None:
        times = [
            s.end - self.up for s in self.samples if s.kind == kind and s.ok and s.start >= self.up
        ]
        return min(times, default=None)

    def last_requests_failed(self, count: int = 5) -> dict[int, list[Sample]]:
        """Per client, its failures among its last ``count`` requests."""
        failed = {}
        for client in sorted({s.client for s in self.samples}):
            mine = sorted((s for s in self.samples if s.client == client), key=lambda s: s.start)
            bad = [s for s in mine[-count:] if not s.ok]
            if bad:
                failed[client] = bad
        return failed

    @property
    def same_processes(self) -> bool:
        master, workers = self.pids_before
        return master is not None and self.pids_after == (master, workers)

    def problems(self, min_after: int = 4) -> list[str]:
        """Every requirement not met, in words (empty: the app passed)."""
        out = []
        if not self.same_processes:
            out.append(f"gunicorn processes changed: {self.pids_before} -> {self.pids_after}")
        if self.unclean:
            out.append(f"{len(self.unclean)} request(s) failed uncleanly: {_brief(self.unclean)}")
        if self.outside_outage:
            out.append(
                f"{len(self.outside_outage)} failure(s) outside the outage window: "
                f"{_brief(self.outside_outage)}"
            )
        if self.recovery_seconds > RECOVERY_BOUND:
            out.append(f"recovery took {self.recovery_seconds:.1f} s (bound {RECOVERY_BOUND} s)")
        if not self.during_outage:
            out.append("no request was made while PostgreSQL was down: the run proves nothing")
        later = Counter(s.kind for s in self.after_recovery if s.ok)
        if later["create"] < min_after or later["health"] < min_after:
            out.append(
                f"too few successes after recovery ({dict(later)}, want {min_after} of each):"
                " the load ended too early"
            )
        if last := self.last_requests_failed():
            out.append(f"clients whose last requests failed: {last}")
        if self.exit_code != 0:
            out.append(f"gunicorn did not stop cleanly on SIGTERM (exit {self.exit_code})")
        out += [f"integrity: {p}" for p in self.integrity.problems]
        return out

    def figures(self) -> dict[str, Any]:
        statuses = Counter(str(s.status or s.error.split(":")[0]) for s in self.failures)
        kinds = Counter(s.kind for s in self.samples)
        return {
            "requests": len(self.samples),
            "creates": kinds["create"],
            "healthz": kinds["health"],
            "succeeded": len(self.samples) - len(self.failures),
            "requests_during_outage": len(self.during_outage),
            "failures": len(self.failures),
            "failures_by_status": dict(statuses),
            "failures_outside_outage": len(self.outside_outage),
            "unclean_failures": len(self.unclean),
            "pg_stop_seconds": round(self.stopped - self.stop_begin, 3),
            "pg_start_seconds": round(self.up - self.start_begin, 3),
            "outage_seconds": round(self.up - self.stop_begin, 3),
            "recovery_seconds": round(self.recovery_seconds, 3),
            "first_201_after_up": _round(self.first_success_after_up("create")),
            "first_200_after_up": _round(self.first_success_after_up("health")),
            "load_seconds": round(self.load_end, 3),
            "reviews_acknowledged": self.integrity.acknowledged,
            "reviews_in_database": self.integrity.reviews,
            "reviews_unacknowledged": self.integrity.unacknowledged,
            "integrity_ok": self.integrity.ok,
            "same_processes": self.same_processes,
            "gunicorn_master": self.pids_before[0],
            "gunicorn_workers": sorted(self.pids_before[1]),
            "postmaster_before_after": list(self.postmasters),
            "setup_seconds": round(self.setup_seconds, 1),
        }

    def summary(self) -> str:
        f = self.figures()
        return (
            f"{f['requests']} requests ({f['creates']} POST /api/v1/reviews, {f['healthz']}"
            f" /healthz) from {self.config.clients} clients in {f['load_seconds']:.1f} s;"
            f" PostgreSQL down {f['outage_seconds']:.2f} s ({self.config.mode} stop"
            f" {f['pg_stop_seconds']:.2f} s, start {f['pg_start_seconds']:.2f} s);"
            f" {f['requests_during_outage']} requests during the outage,"
            f" {f['failures']} failed {f['failures_by_status']}"
            f" ({f['failures_outside_outage']} outside it, {f['unclean_failures']} unclean);"
            f" recovered {f['recovery_seconds']:.2f} s after PostgreSQL was back"
            f" (first 201 after {f['first_201_after_up']} s);"
            f" reviews: {f['reviews_acknowledged']} acknowledged, {f['reviews_in_database']} in"
            f" the database ({f['reviews_unacknowledged']} committed without a 201 seen);"
            f" integrity {'OK' if self.integrity.ok else 'FAILED'};"
            f" gunicorn PIDs {'unchanged' if self.same_processes else 'CHANGED'}"
        )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _brief(samples: Sequence[Sample], limit: int = 5) -> str:
    shown = [f"{s.kind}@{s.start:.2f}-{s.end:.2f}s:{s.status or s.error}" for s in samples[:limit]]
    return ", ".join(shown) + (f" (+{len(samples) - limit})" if len(samples) > limit else "")


def check_integrity(url: str, acknowledged: list[str], failed_creates: int) -> Integrity:
    """Every acknowledged review whole; nothing half-written anywhere in the database."""
    import psycopg

    result = Integrity(acknowledged=len(acknowledged))
    problems = result.problems
    if len(set(acknowledged)) != len(acknowledged):
        problems.append("the same slug was returned by two 201s")
    with psycopg.connect(url, connect_timeout=10) as conn:
        rows = conn.execute(
            """
            SELECT r.slug, r.rule_ids, r.manifest, r.kubernetes_version, r.analyzer_version,
                   COALESCE((SELECT array_agg(v.number ORDER BY v.number)
                             FROM webui_revision v WHERE v.review_id = r.id), '{}'),
                   COALESCE((SELECT array_agg(rr.rule_id ORDER BY rr.rule_id)
                             FROM webui_reviewrule rr WHERE rr.review_id = r.id), '{}'),
                   COALESCE((SELECT array_agg(t.name ORDER BY t.name)
                             FROM webui_review_tags rt JOIN webui_tag t ON t.id = rt.tag_id
                             WHERE rt.review_id = r.id), '{}'),
                   v1.rule_ids, v1.manifest, v1.kubernetes_version, v1.analyzer_version
            FROM webui_review r
            LEFT JOIN webui_revision v1 ON v1.review_id = r.id AND v1.number = 1
            """
        ).fetchall()
        # The foreign keys should make these impossible; the check does not rely on them.
        orphans = {}
        for table in ("webui_revision", "webui_reviewrule", "webui_review_tags"):
            row = conn.execute(
                f"SELECT count(*) FROM {table} x "
                "LEFT JOIN webui_review r ON r.id = x.review_id WHERE r.id IS NULL"
            ).fetchone()
            orphans[table] = row[0] if row else 0
    result.reviews = len(rows)
    stored = {row[0]: row for row in rows}
    missing = [slug for slug in acknowledged if slug not in stored]
    if missing:
        problems.append(
            f"{len(missing)} review(s) acknowledged with 201 are missing: {missing[:5]}"
        )
    for slug, rule_ids, manifest, version, analyzer, numbers, rules, tags, *first in rows:
        if list(numbers) != [1]:
            problems.append(f"review {slug} has revisions {list(numbers)}, not exactly [1]")
            continue
        if not rule_ids:
            problems.append(f"review {slug} raised no rule: its ReviewRule rows cannot be checked")
        if sorted(set(rule_ids)) != list(rules):
            problems.append(f"review {slug}: rule_ids {rule_ids} but ReviewRule rows {rules}")
        if list(first) != [rule_ids, manifest, version, analyzer]:
            problems.append(f"review {slug}: revision 1 differs from the review")
        if list(tags) != [TAG]:
            problems.append(f"review {slug}: tags {list(tags)}, not [{TAG!r}]")
    for table, count in orphans.items():
        if count:
            problems.append(f"{count} row(s) of {table} belong to no review")
    result.unacknowledged = len(set(stored) - set(acknowledged))
    if result.unacknowledged > failed_creates:
        problems.append(
            f"{result.unacknowledged} review(s) without a 201, more than the"
            f" {failed_creates} failed POSTs"
        )
    return result


# --- the scenario --------------------------------------------------------------------------


def _shared_tempdir() -> str:
    """A temporary directory the postgres user can traverse into (TMPDIR may be private)."""
    base = tempfile.gettempdir()
    if os.geteuid() == 0 and not os.stat(base).st_mode & stat.S_IXOTH:
        base = "/tmp"
    top = tempfile.mkdtemp(prefix="advisor-faults-", dir=base)
    os.chmod(top, 0o711)  # postgres may enter its own subdirectory, not list ours
    return top


def _join(threads: Sequence[threading.Thread], seconds: float) -> None:
    """Join every thread within one shared deadline (a request in flight ends by its timeout)."""
    deadline = time.monotonic() + seconds
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))


def run(config: Config, log: Log = _quiet) -> Result:
    """Run the scenario once; raise PostgresUnavailable or ScenarioError if it cannot run."""
    bindir = postgres_bin()
    began = time.monotonic()
    top = Path(_shared_tempdir())
    cluster: Cluster | None = None
    app: App | None = None
    load: Load | None = None
    threads: list[threading.Thread] = []
    try:
        cluster = Cluster(bindir, top / "pg")
        log(f"initdb ({bindir.parent.name}) in {cluster.directory}")
        cluster.initdb()
        cluster.start()
        log(f"private PostgreSQL on 127.0.0.1:{cluster.port}")
        import psycopg

        with psycopg.connect(cluster.admin_url(), autocommit=True, connect_timeout=10) as admin:
            admin.execute(f'CREATE DATABASE "{DATABASE}"')

        env = production_env(cluster.url, top / "static", free_port())
        log("collectstatic")
        collectstatic(env)
        log(f"deploy/entrypoint.sh (migrate, gunicorn) on 127.0.0.1:{env['PORT']}")
        app = App(env, top / "app.log")
        pids_before = app.wait_ready()
        token = issue_token(env)
        setup_seconds = time.monotonic() - began

        load = Load(app.port, token, config)
        threads = [
            threading.Thread(target=load.client, args=(n,), daemon=True, name=f"client-{n}")
            for n in range(config.clients)
        ]
        for thread in threads:
            thread.start()
        log(f"load: {config.clients} clients; restart after {config.warmup:.1f} s")
        load.stop.wait(config.warmup)
        postmaster_before = cluster.postmaster_pid()
        stop_begin = load.now()
        cluster.stop(config.mode)
        stopped = load.now()
        log(f"PostgreSQL stopped ({config.mode}) in {stopped - stop_begin:.2f} s")
        load.stop.wait(config.down)
        start_begin = load.now()
        cluster.start_again()
        up = load.now()
        log(f"PostgreSQL back after {up - stop_begin:.2f} s; load goes on {config.after:.1f} s")
        postmaster_after = cluster.postmaster_pid()
        load.stop.wait(config.after)
        load.stop.set()
        _join(threads, config.client_timeout + 5)
        if any(t.is_alive() for t in threads):
            raise ScenarioError("a load client did not finish within its client timeout")
        load_end = load.now()
        pids_after = app.pids()
        exit_code = app.stop()
        samples = sorted(load.samples, key=lambda s: s.start)
        acknowledged = [s.slug for s in samples if s.kind == "create" and s.status == 201]
        failed_creates = sum(1 for s in samples if s.kind == "create" and not s.ok)
        integrity = check_integrity(cluster.url, acknowledged, failed_creates)
        return Result(
            config=config,
            samples=samples,
            stop_begin=stop_begin,
            stopped=stopped,
            start_begin=start_begin,
            up=up,
            load_end=load_end,
            pids_before=pids_before,
            pids_after=pids_after,
            postmasters=(postmaster_before, postmaster_after),
            exit_code=exit_code,
            integrity=integrity,
            setup_seconds=setup_seconds,
            app_log_tail=_tail(app.log, 60),
        )
    finally:
        if load is not None:
            load.stop.set()
        _join(threads, config.client_timeout + 5)
        if app is not None:
            app.stop(timeout=10)
        if cluster is not None:
            cluster.close()
        shutil.rmtree(top, ignore_errors=True)
        if top.exists():
            log(f"warning: could not remove {top}")


# --- the command ---------------------------------------------------------------------------


def report(result: Result, load: tuple[float, float, float] | None = None) -> str:
    from bench.run_all import provenance

    f = result.figures()
    cfg = result.config
    problems = result.problems()
    by_status = ", ".join(f"{k}: {v}" for k, v in sorted(f["failures_by_status"].items())) or "none"
    rows = [
        (
            "requests",
            f"{f['requests']:,} ({f['creates']:,} POST /api/v1/reviews,"
            f" {f['healthz']:,} GET /healthz)",
        ),
        ("requests during the outage", f"{f['requests_during_outage']:,}"),
        ("failed requests", f"{f['failures']:,} ({by_status})"),
        ("failed outside the outage window", f"{f['failures_outside_outage']}"),
        ("socket errors, timeouts, other statuses", f"{f['unclean_failures']}"),
        ("PostgreSQL down (stop called to accepting again)", f"{f['outage_seconds']:.2f} s"),
        (
            "seconds to recover (PostgreSQL back to last failure)",
            f"**{f['recovery_seconds']:.2f} s** (bound {RECOVERY_BOUND:.0f} s)",
        ),
        (
            "first 201 / first 200 after PostgreSQL was back",
            f"{f['first_201_after_up']} s / {f['first_200_after_up']} s",
        ),
        ("reviews saved (201)", f"{f['reviews_acknowledged']:,}"),
        (
            "reviews in the database",
            f"{f['reviews_in_database']:,} ({f['reviews_unacknowledged']} committed as their"
            " connection was cut, no 201 seen)",
        ),
        ("integrity check", "**passed**" if result.integrity.ok else "**FAILED**"),
        (
            "gunicorn master and workers",
            ("unchanged" if result.same_processes else "**CHANGED**")
            + f" (PIDs {f['gunicorn_master']}, {f['gunicorn_workers']})",
        ),
    ]
    lines = [
        "# Faults: PostgreSQL restarted during a load run",
        "",
        provenance(load=load),
        "",
        f"A private PostgreSQL cluster (fsync off) on 127.0.0.1; `deploy/entrypoint.sh` (migrate,"
        f" gunicorn, {WORKERS} sync workers, production settings). {cfg.clients} clients, each"
        f" alternating `POST /api/v1/reviews` (a two-container Deployment, token auth) and"
        f" `GET /healthz`, pause {cfg.pace:g} s, client timeout {cfg.client_timeout:.0f} s."
        f" After {cfg.warmup:g} s, `pg_ctl stop -m {cfg.mode}`, {cfg.down:g} s down,"
        f" `pg_ctl start`, then {cfg.after:g} s more load.",
        "",
        "| figure | value |",
        "| --- | --- |",
        *(f"| {name} | {value} |" for name, value in rows),
        "",
        "Verdict: "
        + (
            "**met**: the app recovered by itself, nothing lost or half-written."
            if not problems
            else "**NOT met**:"
        ),
        *(f"* {p}" for p in problems),
        "",
        f"Command: `.venv/bin/python bench/faults.py {command_line(cfg)}`. The test suite runs a"
        " lighter version (`tests/faults/test_pg_restart.py`).",
        "",
    ]
    return "\n".join(lines)


def command_line(cfg: Config) -> str:
    return (
        f"--clients {cfg.clients} --warmup {cfg.warmup:g} --down {cfg.down:g}"
        f" --after {cfg.after:g} --max-requests {cfg.max_requests}"
        f" --max-seconds {cfg.max_seconds:g} --pace {cfg.pace:g} --mode {cfg.mode}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    defaults = Config()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=defaults.clients)
    parser.add_argument("--warmup", type=float, default=defaults.warmup)
    parser.add_argument("--down", type=float, default=defaults.down)
    parser.add_argument("--after", type=float, default=defaults.after)
    parser.add_argument("--max-requests", type=int, default=defaults.max_requests)
    parser.add_argument("--max-seconds", type=float, default=defaults.max_seconds)
    parser.add_argument("--pace", type=float, default=defaults.pace)
    parser.add_argument("--mode", choices=("fast", "immediate"), default=defaults.mode)
    args = parser.parse_args(argv)
    config = Config(
        clients=args.clients,
        warmup=args.warmup,
        down=args.down,
        after=args.after,
        max_requests=args.max_requests,
        max_seconds=args.max_seconds,
        pace=args.pace,
        mode=args.mode,
    )
    sys.path.insert(0, str(ROOT))

    def log(message: str) -> None:
        print(f"faults: {message}", file=sys.stderr, flush=True)

    from bench.run_all import load_average, write_result

    load = load_average()
    try:
        result = run(config, log)
    except (PostgresUnavailable, ScenarioError) as exc:
        log(f"error: {exc}")
        return 1
    figures = result.figures()
    figures["problems"] = result.problems()
    figures["config"] = dataclasses.asdict(config)
    latest = write_result("faults", report(result, load), figures)
    print(result.summary())
    for problem in figures["problems"]:
        print(f"  NOT MET: {problem}")
    log(f"wrote {latest}")
    return 1 if figures["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
