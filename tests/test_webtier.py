"""The web tier with more than one process: rate limits and metrics shared through Redis by two
gunicorn servers, and gunicorn's configuration (deploy/gunicorn.conf.py) with its memory guard.

The servers run ``deploy/entrypoint.sh`` for real, in production settings, on a SQLite file
migrated in a temporary folder and the machine's Redis (database 2, under a key prefix of their
own that is deleted afterwards). Outside CI a Redis that does not answer skips the Redis tests;
in CI (``.ci/run`` starts Redis) it fails them.
"""

from __future__ import annotations

import json
import os
import re
import runpy
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import ROOT
from tests.test_deploy import DEPLOY, Response, Server, free_port, get, production_env

REDIS_TEST_URL = os.environ.get("ADVISOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/2")
GUNICORN_CONF = DEPLOY / "gunicorn.conf.py"
MANIFEST = (
    b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
    b"  - name: app\n    image: nginx:1.27\n"
)


def post_analysis(base: str) -> Response:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"{base}/api/v1/analyze",
        data=MANIFEST,
        headers={"Content-Type": "application/yaml"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Response(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, dict(error.headers), error.read())


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file with every migration applied, shared by the servers of this module."""
    path = tmp_path_factory.mktemp("webtier") / "advisor.sqlite3"
    url = f"sqlite:///{path}"
    env = production_env(url, path.parent, 0)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    return url


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix no other run uses on the test Redis; its keys are deleted afterwards."""
    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = f"Redis is not answering at {REDIS_TEST_URL}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    prefix = f"advisor-test-{secrets.token_hex(6)}"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def serve(env: dict[str, str], log: Path) -> Server:
    """A started, healthy server (stopped again if it never becomes healthy)."""
    server = Server(env, log)
    try:
        server.wait_healthy()
    except BaseException:
        server.__exit__(None, None, None)
        raise
    return server


# --- rate limits across processes --------------------------------------------------------------


@pytest.mark.slow
def test_two_gunicorn_servers_share_one_rate_limit_through_redis(
    sqlite_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    """Six analyses a day in total, whichever of 2 servers x 2 workers answers: the seventh is
    refused by the server that did not count the sixth, and by the other one too."""
    limit = 6
    extra = {
        "MIGRATE_ON_START": "false",
        "REDIS_URL": REDIS_TEST_URL,
        "DJANGO_CACHE_KEY_PREFIX": redis_prefix,
        "ADVISOR_RATE_ANALYZE": f"{limit}/day",
        "ADVISOR_METRICS": "on",
    }
    envs = [production_env(sqlite_url, tmp_path, free_port(), **extra) for _ in range(2)]
    for env in envs:
        assert env["WEB_CONCURRENCY"] == "2"
    day = int(time.time() // 86400)
    with (
        serve(envs[0], tmp_path / "a.log") as a,
        serve(envs[1], tmp_path / "b.log") as b,
    ):
        allowed = [post_analysis(server.base) for server in (a, b) * (limit // 2)]
        assert [r.status for r in allowed] == [200] * limit
        refused_b = post_analysis(b.base)  # b answered the sixth: a counted for it as well
        refused_a = post_analysis(a.base)
        if int(time.time() // 86400) != day:
            pytest.skip("the run crossed midnight UTC, where the daily window starts again")
        for refused in (refused_b, refused_a):
            assert refused.status == 429, refused.body
            assert b"Too many analyses" in refused.body
            assert 0 < int(refused.headers["Retry-After"]) <= 86400
        # each server really ran two workers: four distinct processes answered
        workers = {
            pid
            for server in (a, b)
            for pid in re.findall(r"Booting worker with pid: (\d+)", server.output())
        }
        assert len(workers) == 4
        # /metrics counts in Redis too: either server reports what all four workers did
        for server in (a, b):
            text = get(f"{server.base}/metrics").body.decode()
            assert "advisor_analyses_total 6\n" in text
            assert 'advisor_rate_limited_total{limit="analyze"} 2\n' in text
            assert 'advisor_http_requests_total{status="429"} 2\n' in text
        for server in (a, b):
            assert server.stop() == 0


# --- gunicorn's configuration ------------------------------------------------------------------


def load_config(**env: str) -> dict[str, object]:
    """The settings deploy/gunicorn.conf.py computes from ``env`` (as gunicorn execs it)."""
    saved = dict(os.environ)
    try:
        for name in ("PORT", "WEB_CONCURRENCY", "LOG_FORMAT", "ADVISOR_WORKER_MAX_RSS_MB"):
            os.environ.pop(name, None)
        os.environ.update(env)
        return runpy.run_path(str(GUNICORN_CONF))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_gunicorn_settings_are_deliberate() -> None:
    config = load_config()
    assert config["wsgi_app"] == "advisor.wsgi:application"
    assert config["bind"] == ["0.0.0.0:8000"] and config["workers"] == 2
    assert config["worker_class"] == "sync"
    assert config["timeout"] == 30
    assert config["max_requests"] == 1000 and config["max_requests_jitter"] == 100
    assert config["control_socket_disable"] is True
    assert config["accesslog"] == "-"
    assert config["MAX_RSS_BYTES"] == 180 * 1024 * 1024
    tuned = load_config(PORT="9000", WEB_CONCURRENCY="4", LOG_FORMAT="json")
    assert tuned["bind"] == ["0.0.0.0:9000"] and tuned["workers"] == 4
    assert tuned["accesslog"] is None  # the app logs each request as JSON itself


def test_the_memory_guard_leaves_room_under_the_pods_memory_limit() -> None:
    """Two workers at the threshold plus the master stay under the Deployment's 512Mi."""
    import yaml

    deployment = yaml.safe_load((DEPLOY / "kubernetes" / "deployment.yaml").read_text())
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    limit = container["resources"]["limits"]["memory"]
    assert limit.endswith("Mi")
    workers, threshold = int(env["WEB_CONCURRENCY"]), int(env["ADVISOR_WORKER_MAX_RSS_MB"])
    master = 40  # MiB, generously (about 25 measured)
    assert workers * threshold + master <= int(limit.removesuffix("Mi")) - 64


def test_gunicorn_accepts_the_configuration_file(tmp_path: Path) -> None:
    venv_bin = Path(sys.executable).parent
    result = subprocess.run(
        [str(venv_bin / "gunicorn"), "--config", str(GUNICORN_CONF), "--check-config"],
        cwd=ROOT,
        env=production_env("sqlite:///:memory:", tmp_path, free_port()),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_the_memory_guard_replaces_a_worker_over_the_threshold(
    sqlite_url: str, tmp_path: Path
) -> None:
    """With a 1 MiB threshold every worker is over it after its first request: it answers that
    request, is replaced by a new one, and the server keeps answering."""
    env = production_env(
        sqlite_url,
        tmp_path,
        free_port(),
        MIGRATE_ON_START="false",
        WEB_CONCURRENCY="1",
        ADVISOR_WORKER_MAX_RSS_MB="1",
    )
    # Every answer (the health checks too) retires the worker, so the server is waited for with
    # patience rather than with Server.wait_healthy's short polls: a new worker takes seconds to
    # boot on a busy machine, and requests wait in the listen queue meanwhile.
    with Server(env, tmp_path / "server.log") as server:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if get(f"{server.base}/healthz", timeout=30).status == 200:
                    break
            except OSError:
                time.sleep(0.5)  # not listening yet
        first = post_analysis(server.base)
        assert first.status == 200
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            booted = re.findall(r"Booting worker with pid: (\d+)", server.output())
            if len(booted) >= 2:
                break
            time.sleep(0.2)
        output = server.output()
        guard = re.search(r"memory guard: worker (\d+) uses (\d+) MiB", output)
        assert guard is not None, output
        assert int(guard[2]) > 1
        assert guard[1] == booted[0] and booted[-1] != booted[0], output
        assert post_analysis(server.base).status == 200
        assert server.stop() == 0


@pytest.mark.slow
def test_a_worker_under_the_threshold_is_kept_and_json_logs_are_json(
    sqlite_url: str, tmp_path: Path
) -> None:
    env = production_env(
        sqlite_url,
        tmp_path,
        free_port(),
        MIGRATE_ON_START="false",
        WEB_CONCURRENCY="1",
        LOG_FORMAT="json",
    )
    with serve(env, tmp_path / "server.log") as server:
        assert [post_analysis(server.base).status for _ in range(5)] == [200] * 5
        assert server.stop() == 0
    # every line but the entry script's own is one JSON object: gunicorn's, Django's, the app's
    lines = server.output().splitlines()
    records = [json.loads(line) for line in lines if not line.startswith("entrypoint: ")]
    messages = [r["message"] for r in records]
    assert "memory guard" not in " ".join(messages)
    assert len([m for m in messages if m.startswith("Booting worker with pid")]) == 1
    requests = [r for r in records if r["logger"] == "advisor.request"]
    analyses = [r for r in requests if r["path"] == "/api/v1/analyze"]
    assert len(analyses) == 5
    assert {(r["status"], r["input_bytes"], r["workloads"]) for r in analyses} == {
        (200, len(MANIFEST), 1)
    }
