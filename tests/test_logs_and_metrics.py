"""Logs and metrics (README "Logs and metrics"): every 500 reaches the log with its traceback in
text and JSON, one JSON line per request with the analysis's size, and ``/metrics`` in Prometheus
text format, off unless enabled. Shared across processes: tests/test_webtier.py."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys

import pytest
from django.core.cache import cache
from django.test import Client

from tests.conftest import CORPUS, ROOT
from webui import limits, metrics
from webui.logformat import JsonFormatter

pytestmark = pytest.mark.django_db

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "advisor.settings",
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "test-only-Vq3mZ8rT1xLp0sWc7yNe4bHk2uJd9fGa6QoRi5tPzXwEvBnMl",
    "DJANGO_ALLOWED_HOSTS": "testserver",
    "SECURE_SSL_REDIRECT": "false",
}
# A production process whose one extra view has a bug: what does its log say?
EXPLODE = """
import sys, types
import django
django.setup()
from django.http import HttpResponse
from django.test import Client
from django.test.utils import override_settings
from django.urls import include, path

def explode(request):
    return {}["a-key-that-is-not-there"]

urls = types.ModuleType("explode_urls")
urls.urlpatterns = [path("explode/", explode), path("", include("advisor.urls"))]
urls.handler500 = lambda request: HttpResponse("server error", status=500)
sys.modules["explode_urls"] = urls
with override_settings(ROOT_URLCONF="explode_urls"):
    response = Client(raise_request_exception=False).get("/explode/?q=1")
print("status", response.status_code)
"""
LEGACY_JOB = (
    CORPUS / "kubernetes__website__content__en__examples__application__job__job-sidecar-legacy.yaml"
).read_text()


def run_production(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**PRODUCTION, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- logs ----------------------------------------------------------------------------------------


def test_a_500_reaches_the_text_log_with_its_traceback() -> None:
    result = run_production(EXPLODE)
    assert "status 500" in result.stdout, result.stderr
    log = result.stderr
    assert "ERROR django.request: Internal Server Error: /explode/" in log
    assert "Traceback (most recent call last)" in log
    assert "in explode" in log and "KeyError: 'a-key-that-is-not-there'" in log


def test_a_500_reaches_the_json_log_as_one_line_with_its_traceback() -> None:
    result = run_production(EXPLODE, LOG_FORMAT="json")
    assert "status 500" in result.stdout, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    (error,) = [r for r in records if r["logger"] == "django.request"]
    assert error["level"] == "ERROR"
    assert error["message"] == "Internal Server Error: /explode/"
    assert "in explode" in error["traceback"]
    assert error["traceback"].rstrip().endswith("KeyError: 'a-key-that-is-not-there'")
    (request,) = [r for r in records if r["logger"] == "advisor.request"]
    assert (request["method"], request["path"], request["status"]) == ("GET", "/explode/", 500)
    assert request["duration_ms"] >= 0 and request["level"] == "ERROR"


def test_a_misspelt_log_format_stops_the_process() -> None:
    result = run_production("import django; django.setup()", LOG_FORMAT="yaml")
    assert result.returncode != 0
    assert "LOG_FORMAT must be text or json, not 'yaml'" in result.stderr


def test_each_request_is_one_json_line_with_the_analysis_size(settings, caplog) -> None:
    settings.LOG_FORMAT = "json"
    client = Client()
    with caplog.at_level(logging.INFO, logger="advisor.request"):
        analysed = client.post(
            "/api/v1/analyze", LEGACY_JOB, content_type="application/yaml"
        ).status_code
        page = client.get("/rules/").status_code
    assert (analysed, page) == (200, 200)
    lines = [
        json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "advisor.request"
    ]
    assert [(x["method"], x["path"], x["status"]) for x in lines] == [
        ("POST", "/api/v1/analyze", 200),
        ("GET", "/rules/", 200),
    ]
    analysis, rules_page = lines
    assert analysis["input_bytes"] == len(LEGACY_JOB.encode())
    assert analysis["workloads"] == 1 and analysis["findings"] >= 1
    assert "input_bytes" not in rules_page  # nothing analysed there
    for line in lines:
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
        assert line["time"].endswith("+00:00")


def test_text_format_leaves_request_lines_to_gunicorn(settings, caplog) -> None:
    settings.LOG_FORMAT = "text"
    with caplog.at_level(logging.INFO, logger="advisor.request"):
        assert Client().get("/rules/").status_code == 200
    assert [r for r in caplog.records if r.name == "advisor.request"] == []


# --- /metrics ------------------------------------------------------------------------------------


@pytest.fixture
def clean_cache():
    cache.clear()
    yield
    cache.clear()


def scrape(client: Client) -> dict[str, float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"] == metrics.CONTENT_TYPE
    samples = {}
    for line in response.content.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def test_metrics_are_off_unless_enabled(settings) -> None:
    settings.ADVISOR_METRICS = False
    assert Client().get("/metrics").status_code == 404


def test_with_a_token_metrics_answer_only_a_scrape_that_sends_it(settings, clean_cache) -> None:
    settings.ADVISOR_METRICS = True
    settings.ADVISOR_METRICS_TOKEN = "s3cret-scrape-token"
    client = Client()
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert "advisor_http_requests_total" not in refused.content.decode()
    for wrong in ("Bearer s3cret", "Basic s3cret-scrape-token", "s3cret-scrape-token"):
        assert client.get("/metrics", HTTP_AUTHORIZATION=wrong).status_code == 401
    scraped = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")
    assert scraped.status_code == 200
    assert "advisor_http_requests_total" in scraped.content.decode()


def test_check_deploy_warns_when_metrics_are_open_to_anyone(settings) -> None:
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.ADVISOR_METRICS = True
    settings.ADVISOR_METRICS_TOKEN = ""
    with pytest.raises(SystemCheckError, match=r"advisor\.W001"):
        call_command("check", deploy=True, fail_level="WARNING", tags=["security"])
    settings.ADVISOR_METRICS_TOKEN = "s3cret-scrape-token"
    from webui.checks import metrics_token

    assert metrics_token() == []


@pytest.mark.ratelimit
def test_metrics_count_requests_latency_analyses_findings_and_refusals(
    settings, clean_cache, monkeypatch
) -> None:
    check_counting(settings, monkeypatch)


@pytest.mark.ratelimit
def test_with_redis_metrics_count_the_same_in_one_round_trip_per_request_and_analysis(
    settings, redis_cache, redis_trips, monkeypatch
) -> None:
    settings.ADVISOR_METRICS = True
    settings.ADVISOR_RATE_ANALYZE = "1000/minute"
    client = Client()
    client.post("/api/v1/analyze", LEGACY_JOB, content_type="application/yaml")  # the catalogue
    sent = redis_trips.start()
    response = client.post("/api/v1/analyze", LEGACY_JOB, content_type="application/yaml")
    assert response.status_code == 200
    # four round trips: the rate limit's count, the team catalogue's version, the analysis's
    # series (analyses and findings by rule), the request's (status, duration bucket and sum)
    rate, version, analysis, request = sent
    assert (rate, version, request) == ("pipeline: SET INCRBY", "GET", "pipeline:" + 3 * " INCRBY")
    assert analysis.startswith("pipeline: INCRBY INCRBY")
    monkeypatch.undo()
    redis_cache.delete(*redis_cache.scan_iter(match="*advisor:metrics:*"))
    check_counting(settings, monkeypatch)


def check_counting(settings, monkeypatch) -> None:
    """Three analyses over a limit of two, a 404 and two scrapes, as /metrics counts them."""
    settings.ADVISOR_METRICS = True
    settings.ADVISOR_RATE_ANALYZE = "2/minute"
    monkeypatch.setattr(limits, "clock", lambda: 1_000_020.0)
    client = Client()
    assert scrape(client)["advisor_analyses_total"] == 0
    answers = [
        client.post("/api/v1/analyze", LEGACY_JOB, content_type="application/yaml").status_code
        for _ in range(3)
    ]
    assert answers == [200, 200, 429]
    assert client.get("/no-such-page/").status_code == 404
    samples = scrape(client)
    assert samples["advisor_analyses_total"] == 2
    assert samples['advisor_findings_total{rule="classic-sidecar-blocks-job"}'] == 2
    assert samples['advisor_findings_total{rule="hpa-resource-metric-on-multi-container-pod"}'] == 0
    assert samples['advisor_rate_limited_total{limit="analyze"}'] == 1
    assert samples['advisor_rate_limited_total{limit="login"}'] == 0
    # the first scrape counts too: it was answered before this one
    assert samples['advisor_http_requests_total{status="200"}'] == 3
    assert samples['advisor_http_requests_total{status="429"}'] == 1
    assert samples['advisor_http_requests_total{status="404"}'] == 1
    buckets = {
        re.search(r'le="([^"]+)"', k)[1]: v  # type: ignore[index]
        for k, v in samples.items()
        if k.startswith("advisor_http_request_duration_seconds_bucket")
    }
    assert list(buckets)[-1] == "+Inf" and buckets["+Inf"] == 5
    assert list(buckets.values()) == sorted(buckets.values())  # cumulative
    assert samples["advisor_http_request_duration_seconds_count"] == 5
    assert samples["advisor_http_request_duration_seconds_sum"] > 0


def test_metrics_never_fail_a_request_when_the_cache_is_down(
    settings, clean_cache, monkeypatch
) -> None:
    settings.ADVISOR_METRICS = True

    def down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(metrics.cache, "incr", down)
    monkeypatch.setattr(metrics.cache, "add", down)
    response = Client().post("/api/v1/analyze", LEGACY_JOB, content_type="application/yaml")
    assert response.status_code == 200
