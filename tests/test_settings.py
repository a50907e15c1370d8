"""Settings from the environment: the zero-set-up defaults, the database, production security.

Settings are read once per process, so every variant runs in a fresh Python with exactly the
environment under test (nothing inherited from the shell running pytest).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from tests.conftest import ROOT

PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "test-only-Vq3mZ8rT1xLp0sWc7yNe4bHk2uJd9fGa6QoRi5tPzXwEvBnMl",
    "DJANGO_ALLOWED_HOSTS": "advisor.example.com",
}
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/advisor"
SHOWN = [
    "DEBUG",
    "DATABASES",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "CSRF_TRUSTED_ORIGINS",
]
DUMP = (
    "import json; from django.conf import settings; "
    f"print(json.dumps({{k: getattr(settings, k) for k in {SHOWN!r}}}, default=str))"
)


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``python ARGS`` in the repository with only ``env`` (plus the settings module)."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "advisor.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_with(env: dict[str, str]) -> dict[str, Any]:
    """The settings a fresh process computes from ``env``."""
    result = run(["-c", DUMP], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_it_boots_with_the_development_defaults_and_no_environment_at_all() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    dev = settings_with({})
    assert dev["DEBUG"] is True
    assert dev["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert dev["DATABASES"]["default"]["NAME"] == str(ROOT / "db.sqlite3")


def test_it_passes_the_deploy_check_with_production_settings() -> None:
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout, result.stdout + result.stderr


def test_it_refuses_production_without_a_secret_key() -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert (
        "ImproperlyConfigured: DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false"
        in result.stderr
    )


def test_it_uses_sqlite_at_SQLITE_PATH_without_DATABASE_URL(tmp_path) -> None:
    db = settings_with({"SQLITE_PATH": str(tmp_path / "advisor.sqlite3")})["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(tmp_path / "advisor.sqlite3")
    assert db["CONN_MAX_AGE"] == 0
    assert db["CONN_HEALTH_CHECKS"] is True


def test_it_selects_postgresql_from_DATABASE_URL_with_persistent_checked_connections() -> None:
    db = settings_with({"DATABASE_URL": POSTGRES_URL})["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["HOST"], db["PORT"]) == (
        "advisor",
        "postgres",
        "127.0.0.1",
        5432,
    )
    assert db["CONN_MAX_AGE"] == 60
    assert db["CONN_HEALTH_CHECKS"] is True


def test_it_reads_CONN_MAX_AGE_from_the_environment() -> None:
    db = settings_with({"DATABASE_URL": POSTGRES_URL, "CONN_MAX_AGE": "0"})["DATABASES"]
    assert db["default"]["CONN_MAX_AGE"] == 0


def test_it_explains_an_unusable_DATABASE_URL() -> None:
    result = run(["manage.py", "check"], {"DATABASE_URL": "postgress://typo@db/advisor"})
    assert result.returncode != 0
    assert "DATABASE_URL is not a usable database URL" in result.stderr
    assert "postgress" in result.stderr


def test_it_makes_production_https_only_with_secure_cookies_and_hsts() -> None:
    prod = settings_with(PRODUCTION)
    assert prod["SECURE_SSL_REDIRECT"] is True
    assert prod["SESSION_COOKIE_SECURE"] is True
    assert prod["CSRF_COOKIE_SECURE"] is True
    assert prod["SESSION_COOKIE_HTTPONLY"] is True
    assert prod["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert prod["SECURE_HSTS_SECONDS"] == 31_536_000
    assert prod["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert prod["SECURE_HSTS_PRELOAD"] is True
    dev = settings_with({})
    assert dev["SECURE_SSL_REDIRECT"] is False and dev["SESSION_COOKIE_SECURE"] is False


def test_it_lets_the_environment_tune_production_security() -> None:
    prod = settings_with(
        {
            **PRODUCTION,
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_HSTS_SECONDS": "3600",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS": "false",
            "SECURE_HSTS_PRELOAD": "false",
            "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
            "CSRF_TRUSTED_ORIGINS": "https://advisor.example.com, https://*.example.org",
        }
    )
    assert prod["SECURE_SSL_REDIRECT"] is False
    assert prod["SECURE_HSTS_SECONDS"] == 3600
    assert prod["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert prod["SECURE_HSTS_PRELOAD"] is False
    assert prod["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert prod["CSRF_TRUSTED_ORIGINS"] == ["https://advisor.example.com", "https://*.example.org"]


def test_it_reads_a_proxy_header_with_its_own_value() -> None:
    prod = settings_with({**PRODUCTION, "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Ssl=on"})
    assert prod["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_SSL", "on"]
    assert settings_with(PRODUCTION)["SECURE_PROXY_SSL_HEADER"] is None


def test_it_explains_a_malformed_boolean_setting() -> None:
    result = run(["manage.py", "check"], {**PRODUCTION, "SECURE_SSL_REDIRECT": "maybe"})
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT must be true or false, not 'maybe'" in result.stderr


@pytest.mark.django_db
def test_it_redirects_plain_http_to_https_but_never_the_health_check(settings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    response = client.get("/analyze/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/analyze/"
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_it_trusts_the_tls_proxy_header_and_sends_hsts(settings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    response = Client().get("/analyze/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


@pytest.mark.django_db
def test_it_runs_the_suite_on_the_database_DATABASE_URL_names() -> None:
    # CI runs the suite twice, on SQLite and with DATABASE_URL on PostgreSQL: this proves which.
    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
    assert connection.vendor == expected
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_it_refuses_production_settings_without_allowed_hosts() -> None:
    """Production needs the host names it serves; without them every request would be 400."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOWED_HOSTS"}
    env |= {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "k" * 60}
    proc = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert proc.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS must be set" in proc.stderr


def cache_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.CACHES['default']))"
    )
    return run(["-c", code], env)


def test_REDIS_URL_selects_djangos_redis_cache_with_short_timeouts() -> None:
    result = cache_settings({**PRODUCTION, "REDIS_URL": "redis://cache:6379/1"})
    assert result.returncode == 0, result.stderr
    cache = json.loads(result.stdout)
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["LOCATION"] == "redis://cache:6379/1"
    # a Redis that stops answering costs a request at most a second per command, not a worker
    assert cache["OPTIONS"]["socket_connect_timeout"] <= 1
    assert cache["OPTIONS"]["socket_timeout"] <= 1
    prefixed = cache_settings({"REDIS_URL": "redis://x/0", "DJANGO_CACHE_KEY_PREFIX": "blue"})
    assert json.loads(prefixed.stdout)["KEY_PREFIX"] == "blue"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REDIS_URL": "cache:6379"}, "REDIS_URL must start with redis://"),
        (
            {"REDIS_URL": "redis://cache:6379/0", "DJANGO_CACHE_BACKEND": "database"},
            "unset DJANGO_CACHE_BACKEND",
        ),
        ({"ADVISOR_TRUSTED_PROXIES": "-1"}, "ADVISOR_TRUSTED_PROXIES must be 0 or"),
    ],
)
def test_it_explains_a_cache_or_proxy_setting_it_cannot_use(
    env: dict[str, str], message: str
) -> None:
    result = cache_settings(env)
    assert result.returncode != 0
    assert message in result.stderr
