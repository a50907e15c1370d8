"""Shared test helpers: paths to the fixtures (real corpus, Kubernetes vectors, manifests)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Real manifests from public repositories (INDEX.tsv: repository, path, commit; LICENSES.md).
CORPUS = FIXTURES / "corpus"
# Vectors transcribed from Kubernetes' own unit tests.
VECTORS = FIXTURES / "vectors"
CORPUS_META = {"INDEX.tsv", "LICENSES.md"}


def corpus_files() -> list[Path]:
    """Every manifest of the corpus (its index and licence notes excluded)."""
    return sorted(p for p in CORPUS.iterdir() if p.is_file() and p.name not in CORPUS_META)


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the corpus is missing at {CORPUS}")
    return CORPUS


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Hash test users' passwords cheaply: PBKDF2's deliberate slowness only slows tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _rate_limits_off_unless_marked(request, settings) -> None:
    """The suites run hundreds of analyses from one address: rate limits are off in every test
    but those marked ``@pytest.mark.ratelimit`` (tests/security/test_limits.py)."""
    if request.node.get_closest_marker("ratelimit") is None:
        settings.ADVISOR_RATE_ANALYZE = "off"
        settings.ADVISOR_RATE_LOGIN = "off"
        settings.ADVISOR_RATE_LOGIN_ADDRESS = "off"
        settings.ADVISOR_RATE_WRITE = "off"
        settings.ADVISOR_RATE_PASSWORD = "off"


@pytest.fixture(autouse=True)
def _fresh_team_catalogue() -> None:
    """Forget the process's cached team catalogue: a test's entries are rolled back with its
    transaction, which no signal announces (in production the rebuild happens in a later
    request, after the transaction that changed the entries has ended)."""
    from webui import services

    services._catalogue_memo = None


@pytest.fixture
def redis_cache(settings) -> Iterator[redis.Redis]:
    """Django's Redis backend on the machine's Redis (database 2, as tests/test_webtier.py),
    under a key prefix of its own whose keys are deleted afterwards; yields a plain client.

    Never ``cache.clear()`` under it: on Redis that is FLUSHDB, the whole database. Outside CI a
    Redis that does not answer skips the test; in CI (``.ci/run`` starts Redis) it fails it.
    """
    url = os.environ.get("ADVISOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/2")
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not answering at {url}: {exc}")
        pytest.skip(f"Redis is not answering at {url}: {exc}")
    prefix = f"advisor-test-{secrets.token_hex(6)}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
        }
    }
    try:
        yield client
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


class RedisTrips:
    """Records each round trip to Redis: a command's name, or ``pipeline: NAME NAME ...``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: list[str] = []
        self._monkeypatch = monkeypatch

    def start(self) -> list[str]:
        """Record from now on; returns the list the trips are appended to."""
        sent = self.sent
        single, pipelined = redis.Redis.execute_command, redis.client.Pipeline.execute

        def command(client, *args, **kwargs):
            sent.append(str(args[0]))
            return single(client, *args, **kwargs)

        def pipeline(pipe, *args, **kwargs):
            sent.append("pipeline: " + " ".join(str(c[0][0]) for c in pipe.command_stack))
            return pipelined(pipe, *args, **kwargs)

        self._monkeypatch.setattr(redis.Redis, "execute_command", command)
        self._monkeypatch.setattr(redis.client.Pipeline, "execute", pipeline)
        return sent


@pytest.fixture
def redis_trips(monkeypatch) -> RedisTrips:
    """Counts what a request sends to Redis (call ``.start()`` when counting should begin)."""
    return RedisTrips(monkeypatch)
