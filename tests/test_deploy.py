"""Deployment: the entry script serving for real on PostgreSQL, the compose file, the image
recipe and the Kubernetes manifests (checked by the advisor itself).

There is no Docker engine where the tests run, so the image is not built: the entry script runs
outside a container with the environment the container would have, and ``docker-compose.yml``
is validated against the Compose Specification's JSON schema (vendored in ``deploy/schema/``).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import psycopg
import pytest
import yaml
from django.db import OperationalError, connections
from django.test import Client

from advisor.core.analyze import analyze
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
ENTRYPOINT = DEPLOY / "entrypoint.sh"
COMPOSE = ROOT / "docker-compose.yml"
POSTGRES_ADMIN_URL = os.environ.get(
    "POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SECRET_KEY = "deploy-test-only-" + "k3Jd8sLq0wPz7xVn2bTm5cRf9gHy4uEa1oIi6"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0


# --- helpers ---------------------------------------------------------------------------------


def load_yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 5.0) -> Response:
    """GET ``url``; an HTTP error status is a response too, not an exception."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Response(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, dict(error.headers), error.read())


def admin_connection() -> psycopg.Connection:
    """An autocommit connection to the PostgreSQL server's maintenance database.

    Outside CI a missing server skips the PostgreSQL tests; in CI it fails them (CI must not
    silently test less than it claims).
    """
    try:
        return psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def database_url(name: str) -> str:
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (its URL), dropped afterwards whatever happened."""
    name = f"advisor_deploytest_{secrets.token_hex(4)}"
    with admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield database_url(name)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def has_table(url: str, table: str) -> bool:
    with psycopg.connect(url, connect_timeout=5) as conn:
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
        return bool(row and row[0])


def production_env(url: str, static_root: Path, port: int, **extra: str) -> dict[str, str]:
    """The environment the container gets from docker-compose.yml, pointed at this machine."""
    venv_bin = str(Path(sys.executable).parent)  # `python` and `gunicorn` of this virtualenv
    return {
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": str(static_root),
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        **extra,
    }


@pytest.fixture(scope="module")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """collectstatic's output with the production storage, as the image's build step makes it."""
    root = tmp_path_factory.mktemp("staticfiles")
    env = production_env("sqlite:///:memory:", root, 0)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    return root


class Server:
    """``deploy/entrypoint.sh`` running in its own process group, stopped on exit."""

    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        self.base = f"http://127.0.0.1:{env['PORT']}"
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(ENTRYPOINT), *args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                pytest.fail(f"the entry script exited with {code}:\n{self.output()}")
            try:
                if get(f"{self.base}/healthz", timeout=2).status == 200:
                    return
            except OSError:
                pass  # not listening yet
            time.sleep(0.2)
        pytest.fail(f"/healthz did not answer 200 within {timeout:.0f} s:\n{self.output()}")

    def stop(self) -> int | None:
        """SIGTERM (gunicorn's graceful shutdown), a bounded wait, then SIGKILL to the group."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=STOP_TIMEOUT)
                return None
        return self.process.returncode

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        with contextlib.suppress(ProcessLookupError):  # workers left by a master that died
            os.killpg(self.process.pid, signal.SIGKILL)


# --- the entry script, for real, on PostgreSQL -----------------------------------------------


@pytest.mark.slow
def test_it_migrates_then_serves_the_app_and_its_static_files_in_production(
    fresh_database: str, static_root: Path, tmp_path: Path
) -> None:
    env = production_env(fresh_database, static_root, free_port())
    with Server(env, tmp_path / "server.log") as server:
        server.wait_healthy()
        assert has_table(fresh_database, "django_migrations"), "the entry script did not migrate"

        health = get(f"{server.base}/healthz")
        assert (health.status, health.body) == (200, b"ok")
        page = get(f"{server.base}/analyze/")
        assert page.status == 200 and b"<textarea" in page.body

        manifest = json.loads((static_root / "staticfiles.json").read_text())
        hashed_css = manifest["paths"]["css/app.css"]
        css = get(f"{server.base}/static/{hashed_css}", headers={"Accept-Encoding": "gzip"})
        assert css.status == 200
        assert css.headers["Content-Type"].startswith("text/css")
        assert css.headers.get("Content-Encoding") == "gzip"
        assert "immutable" in css.headers["Cache-Control"]

        assert server.stop() == 0, f"gunicorn did not stop cleanly on SIGTERM:\n{server.output()}"
    assert "entrypoint: applying database migrations" in server.output()


@pytest.mark.slow
def test_it_survives_a_database_restart_and_reports_a_lost_database(
    fresh_database: str, static_root: Path, tmp_path: Path
) -> None:
    env = production_env(fresh_database, static_root, free_port())
    with Server(env, tmp_path / "server.log") as server:
        server.wait_healthy()
        for _ in range(6):  # both workers now hold a persistent connection
            assert get(f"{server.base}/healthz").status == 200
        name = fresh_database.rsplit("/", 1)[1]
        with admin_connection() as admin:
            # What a database restart does to the app: every connection is cut.
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            statuses = [get(f"{server.base}/healthz").status for _ in range(6)]
            assert statuses == [200] * 6, "a cut connection was reused instead of reopened"

            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            lost = get(f"{server.base}/healthz")
        assert (lost.status, lost.body) == (503, b"database unavailable")


@pytest.mark.slow
def test_it_skips_migrations_with_MIGRATE_ON_START_false_and_migrates_on_its_own(
    fresh_database: str, static_root: Path, tmp_path: Path
) -> None:
    env = production_env(fresh_database, static_root, free_port(), MIGRATE_ON_START="false")
    with Server(env, tmp_path / "server.log") as server:
        server.wait_healthy()
        assert not has_table(fresh_database, "django_migrations")
    assert "MIGRATE_ON_START=false, not migrating" in server.output()

    migrate = subprocess.run(
        [str(ENTRYPOINT), "migrate"], env=env, capture_output=True, text=True, timeout=120
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    assert has_table(fresh_database, "django_migrations")
    assert has_table(fresh_database, "django_session")


def test_it_refuses_a_misspelt_MIGRATE_ON_START(tmp_path: Path) -> None:
    env = production_env("sqlite:///:memory:", tmp_path, free_port(), MIGRATE_ON_START="nope")
    result = subprocess.run([str(ENTRYPOINT)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "MIGRATE_ON_START must be true or false, not 'nope'" in result.stderr


# --- /healthz in process ---------------------------------------------------------------------


@pytest.mark.django_db
def test_it_answers_ok_on_healthz_when_the_database_answers() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert "no-cache" in response["Cache-Control"]


def test_it_answers_503_on_healthz_when_the_database_is_down(monkeypatch) -> None:
    def refuse() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["default"], "cursor", refuse)
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.content == b"database unavailable"


# --- docker-compose.yml ----------------------------------------------------------------------


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def test_it_ships_a_compose_file_valid_under_the_compose_specification() -> None:
    schema = json.loads((DEPLOY / "schema" / "compose-spec.json").read_text())
    jsonschema.Draft201909Validator.check_schema(schema)
    validator = jsonschema.Draft201909Validator(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose())]
    assert errors == []
    broken = compose()
    broken["services"]["app"]["depends_on"]["db"]["condition"] = "whenever"
    assert not validator.is_valid(broken), "the schema check would not catch a mistake"


def test_it_starts_the_app_only_once_the_database_is_healthy() -> None:
    services = compose()["services"]
    assert services["db"]["image"] == "postgres:16"
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["app"]["depends_on"]["db"] == {"condition": "service_healthy"}
    volume = services["db"]["volumes"][0].split(":")[0]
    assert volume in compose()["volumes"], "the database is not on a named volume"


def test_it_refuses_to_start_compose_without_a_secret_key() -> None:
    env = compose()["services"]["app"]["environment"]
    assert env["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?")
    assert env["DJANGO_DEBUG"] == "false"
    assert env["SECURE_SSL_REDIRECT"] == "${SECURE_SSL_REDIRECT:-false}"
    assert env["DATABASE_URL"].startswith("postgres://") and "@db:5432/" in env["DATABASE_URL"]
    assert "DJANGO_ALLOWED_HOSTS" in env


def test_it_health_checks_the_compose_app_on_healthz() -> None:
    app = compose()["services"]["app"]
    assert app["build"]["dockerfile"] == "Dockerfile" and (ROOT / "Dockerfile").is_file()
    assert "http://127.0.0.1:8000/healthz" in " ".join(app["healthcheck"]["test"])
    assert app["ports"] == ["127.0.0.1:8000:8000"]


# --- Dockerfile ------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    lines = [ln for ln in (ROOT / "Dockerfile").read_text().splitlines() if not ln.startswith("#")]
    text = "\n".join(lines).replace("\\\n", " ")
    pairs = [line.strip().split(None, 1) for line in text.splitlines() if line.strip()]
    return [(p[0].upper(), p[1] if len(p) > 1 else "") for p in pairs]


def test_it_builds_a_slim_non_root_image_with_static_files_collected() -> None:
    steps = dockerfile_instructions()
    values = {name: [args for n, args in steps if n == name] for name, _ in steps}
    assert values["FROM"] == ["python:3.13-slim"]
    runs = " ".join(values["RUN"])
    assert "pip install" in runs and "pyproject.toml" in runs
    assert "collectstatic --noinput" in runs
    assert values["USER"] == ["10001:10001"]
    assert values["EXPOSE"] == ["8000"]
    assert json.loads(values["ENTRYPOINT"][0]) == ["/app/deploy/entrypoint.sh"]
    assert [n for n, _ in steps].index("USER") > [n for n, _ in steps].index("RUN")
    assert os.access(ENTRYPOINT, os.X_OK), "deploy/entrypoint.sh is not executable"


def test_the_image_serves_with_the_gunicorn_configuration_file() -> None:
    """The entry script (the image's, compose's and Kubernetes') hands gunicorn the config file,
    and the image gets it: nothing in .dockerignore leaves it out."""
    import fnmatch

    assert "exec gunicorn --config deploy/gunicorn.conf.py" in ENTRYPOINT.read_text()
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    ignored = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for path in ("deploy/gunicorn.conf.py", "deploy/entrypoint.sh"):
        parents = [path.rsplit("/", 1)[0], path]
        assert not any(fnmatch.fnmatch(p, pattern) for p in parents for pattern in ignored), path


def test_it_keeps_secrets_and_local_state_out_of_the_image() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for path in (".git", ".venv", "db.sqlite3", "staticfiles", "tests"):
        assert path in ignored


# --- Kubernetes ------------------------------------------------------------------------------


def kubernetes_files() -> list[Path]:
    return sorted(KUBERNETES.glob("*.yaml"))


def all_kubernetes_objects() -> list[dict[str, Any]]:
    return [doc for path in kubernetes_files() for doc in load_yaml_documents(path)]


def kubernetes_objects(component: str = "") -> dict[str, dict[str, Any]]:
    """The objects of the app (or of ``component``, e.g. ``cache``), by kind."""

    def wanted(doc: dict[str, Any]) -> bool:
        label = doc["metadata"]["labels"]["app.kubernetes.io/component"]
        return label == component if component else label != "cache"

    return {doc["kind"]: doc for doc in all_kubernetes_objects() if wanted(doc)}


def test_it_passes_its_own_advice_on_the_kubernetes_manifests() -> None:
    files = kubernetes_files()
    assert {p.name for p in files} >= {
        "deployment.yaml",
        "redis.yaml",
        "migrate-job.yaml",
        "service.yaml",
        "hpa.yaml",
        "pdb.yaml",
    }
    report = analyze([(p.name, p.read_text()) for p in files])
    assert report.errors == ()
    problems = [
        f"{w.workload.name}: {f.rule} {f.message}"
        for w, f in report.findings()
        if f.severity in ("error", "warning")
    ]
    assert problems == []
    workloads = {w.workload.name: w for w in report.workloads}
    assert {w.workload.kind for w in report.workloads} == {"Deployment", "Job"}
    assert set(workloads) == {
        "pod-pattern-advisor",
        "pod-pattern-advisor-migrate",
        "pod-pattern-advisor-redis",
    }
    assert workloads["pod-pattern-advisor"].hpas == ("pod-pattern-advisor",), "HPA not linked"


@pytest.mark.parametrize("path", kubernetes_files(), ids=lambda p: p.name)
def test_it_ships_kubernetes_manifests_valid_for_1_37(path: Path) -> None:
    for doc in load_yaml_documents(path):
        kubernetes_validate.validate(doc, "1.37", strict=True)


def test_it_probes_healthz_and_reads_secrets_from_a_secret() -> None:
    pod = kubernetes_objects()["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        check = container[probe]["httpGet"]
        assert (check["path"], check["port"]) == ("/healthz", "http")
        host = {h["name"]: h["value"] for h in check["httpHeaders"]}["Host"]
        env = {e["name"]: e for e in container["env"]}
        assert host in env["DJANGO_ALLOWED_HOSTS"]["value"].split(",")
    assert env["MIGRATE_ON_START"]["value"] == "false"
    assert env["DJANGO_DEBUG"]["value"] == "false"
    for name in ("DATABASE_URL", "DJANGO_SECRET_KEY"):
        assert "secretKeyRef" in env[name]["valueFrom"]
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    assert container["ports"] == [{"name": "http", "containerPort": 8000}]


def test_the_web_pods_count_rate_limits_in_the_shipped_redis_and_see_clients() -> None:
    """Every replica's REDIS_URL names the Redis Service, whose pods it selects and reaches."""
    web = kubernetes_objects()["Deployment"]["spec"]["template"]
    (container,) = web["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["ADVISOR_TRUSTED_PROXIES"] == "1"  # the ingress appends the client's address
    url = env["REDIS_URL"]
    assert url.startswith("redis://")
    host, port = url.removeprefix("redis://").split("/")[0].split(":")
    cache = kubernetes_objects("cache")
    assert set(cache) == {"Deployment", "Service", "NetworkPolicy"}
    service = cache["Service"]
    assert service["metadata"]["name"] == host
    assert [p["port"] for p in service["spec"]["ports"]] == [int(port)]
    redis_pod = cache["Deployment"]["spec"]["template"]
    assert service["spec"]["selector"].items() <= redis_pod["metadata"]["labels"].items()
    assert not service["spec"]["selector"].items() <= web["metadata"]["labels"].items()
    assert cache["Deployment"]["spec"]["replicas"] == 1  # one set of counters
    (redis,) = redis_pod["spec"]["containers"]
    assert redis["ports"][0]["containerPort"] == int(port)
    policy = cache["NetworkPolicy"]["spec"]
    assert policy["podSelector"]["matchLabels"] == service["spec"]["selector"]
    (rule,) = policy["ingress"]
    (source,) = rule["from"]
    assert source["podSelector"]["matchLabels"].items() <= web["metadata"]["labels"].items()


def test_compose_counts_rate_limits_in_its_redis() -> None:
    services = compose()["services"]
    assert services["redis"]["image"].startswith("redis:")
    assert "redis-cli" in services["redis"]["healthcheck"]["test"]
    assert "ports" not in services["redis"]  # reachable from the app only
    app = services["app"]
    assert app["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert app["environment"]["REDIS_URL"] == "redis://redis:6379/0"


def test_it_runs_read_only_as_the_image_user_with_a_writable_tmp() -> None:
    for kind in ("Deployment", "Job"):
        pod = kubernetes_objects()[kind]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001  # the Dockerfile's USER
        (container,) = pod["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]]


def test_it_migrates_in_a_job_that_is_not_retried_forever() -> None:
    job = kubernetes_objects()["Job"]
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert 0 < job["spec"]["backoffLimit"] <= 6
    assert pod["containers"][0]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert "race" in (KUBERNETES / "migrate-job.yaml").read_text()


def test_it_autoscales_the_deployment_on_cpu() -> None:
    objects = kubernetes_objects()
    hpa = objects["HorizontalPodAutoscaler"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] == objects["Deployment"]["metadata"]["name"]
    (metric,) = hpa["spec"]["metrics"]
    assert (metric["type"], metric["resource"]["name"]) == ("Resource", "cpu")
    assert hpa["spec"]["minReplicas"] >= 2
    assert objects["PodDisruptionBudget"]["spec"]["minAvailable"] == 1
