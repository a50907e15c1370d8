"""Prometheus metrics at ``/metrics`` (README "Logs and metrics"), off unless ``ADVISOR_METRICS``.

Counters live in Django's cache, so with ``REDIS_URL`` every gunicorn worker of every replica
adds to the same numbers and one scrape (through the Service, any pod) gives the whole
deployment. The alternative, prometheus_client's multiprocess mode, keeps counters in files per
worker: it needs a directory shared by the workers of a pod, a gunicorn hook to clean up after
dead workers, and Prometheus scraping every pod separately. Its per-request cost is lower (a
memory-mapped write against a pipelined Redis round trip per request, and one more per
analysis: :mod:`webui.counters`), but those round trips are only paid when metrics are on, and
the cache gives totals that do not depend on which pod was asked or how often workers were
recycled. Without a shared cache the numbers are those of the worker that
answered the scrape.

Every series is known in advance (status codes, histogram buckets, rule ids, rate-limit
scopes), so a scrape is one ``get_many`` (one MGET on Redis) with no key scanning. Counting never
fails a request: a cache error is logged and the increment dropped.
"""

from __future__ import annotations

import contextvars
import hmac
import logging
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from webui import counters

log = logging.getLogger(__name__)

PREFIX = "advisor:metrics:"
# Request duration buckets, in seconds (upper bounds; +Inf is implied).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STATUSES = tuple(sorted({int(s) for s in HTTPStatus}))
RATE_SCOPES = ("analyze", "write", "login", "login-address", "password")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# What the current request analysed (input bytes, workloads, findings), for its log line.
current_analysis: contextvars.ContextVar[dict[str, int] | None] = contextvars.ContextVar(
    "current_analysis", default=None
)


def enabled() -> bool:
    return bool(getattr(settings, "ADVISOR_METRICS", False))


def _add(deltas: dict[str, int]) -> None:
    """Add to several series at once (one round trip on Redis, :mod:`webui.counters`)."""
    try:
        counters.add({PREFIX + key: delta for key, delta in deltas.items()})
    except Exception:
        log.warning("metrics: the cache could not count %s", ", ".join(deltas), exc_info=True)


def _bucket(seconds: float) -> str:
    for bound in BUCKETS:
        if seconds <= bound:
            return repr(bound)
    return "+Inf"


def observe_request(status: int, seconds: float) -> None:
    """Count one answered request (its status and how long it took)."""
    if not enabled():
        return
    _add(
        {
            f"requests:{status}": 1,
            f"duration:bucket:{_bucket(seconds)}": 1,
            "duration:sum_us": max(0, round(seconds * 1_000_000)),
        }
    )


def observe_analysis(report: Any, input_bytes: int) -> None:
    """Count one analysis and its findings by rule; note its size for the request's log line."""
    findings = [f.rule for _, f in report.findings()]
    previous = current_analysis.get() or {}
    current_analysis.set(
        {
            "input_bytes": previous.get("input_bytes", 0) + input_bytes,
            "workloads": previous.get("workloads", 0) + len(report.workloads),
            "findings": previous.get("findings", 0) + len(findings),
        }
    )
    if not enabled():
        return
    counts = {"analyses": 1}
    for rule in findings:
        counts[f"findings:{rule}"] = counts.get(f"findings:{rule}", 0) + 1
    _add(counts)


def rate_limited(scope: str) -> None:
    """Count one request refused by a rate limit."""
    if enabled():
        _add({f"limited:{scope}": 1})


def _rule_ids() -> list[str]:
    from advisor.core.rules import REGISTRY

    return sorted(REGISTRY)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render() -> str:
    """The Prometheus text exposition of every series."""
    rules = _rule_ids()
    bucket_names = [repr(b) for b in BUCKETS] + ["+Inf"]
    keys = (
        [f"requests:{s}" for s in STATUSES]
        + [f"duration:bucket:{b}" for b in bucket_names]
        + ["duration:sum_us", "analyses"]
        + [f"findings:{r}" for r in rules]
        + [f"limited:{s}" for s in RATE_SCOPES]
    )
    found = cache.get_many([PREFIX + k for k in keys])

    def value(key: str) -> int:
        return int(found.get(PREFIX + key, 0))

    lines = [
        "# HELP advisor_http_requests_total HTTP requests answered, by status code.",
        "# TYPE advisor_http_requests_total counter",
    ]
    for status in STATUSES:
        if count := value(f"requests:{status}"):
            lines.append(f'advisor_http_requests_total{{status="{status}"}} {count}')
    lines += [
        "# HELP advisor_http_request_duration_seconds Time to answer a request.",
        "# TYPE advisor_http_request_duration_seconds histogram",
    ]
    cumulative = 0
    for name in bucket_names:
        cumulative += value(f"duration:bucket:{name}")
        lines.append(f'advisor_http_request_duration_seconds_bucket{{le="{name}"}} {cumulative}')
    lines += [
        f"advisor_http_request_duration_seconds_sum {value('duration:sum_us') / 1_000_000}",
        f"advisor_http_request_duration_seconds_count {cumulative}",
        "# HELP advisor_analyses_total Manifests analysed (form, fix, API, saves).",
        "# TYPE advisor_analyses_total counter",
        f"advisor_analyses_total {value('analyses')}",
        "# HELP advisor_findings_total Findings reported, by rule id.",
        "# TYPE advisor_findings_total counter",
    ]
    for rule in rules:
        lines.append(f'advisor_findings_total{{rule="{_label(rule)}"}} {value(f"findings:{rule}")}')
    lines += [
        "# HELP advisor_rate_limited_total Requests refused by a rate limit, by limit.",
        "# TYPE advisor_rate_limited_total counter",
    ]
    lines += [
        f'advisor_rate_limited_total{{limit="{s}"}} {value(f"limited:{s}")}' for s in RATE_SCOPES
    ]
    return "\n".join(lines) + "\n"


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """``GET /metrics``: 404 unless ADVISOR_METRICS is on; 401 without ADVISOR_METRICS_TOKEN."""
    if not enabled():
        raise Http404("metrics are off")
    if not authorized(request):
        response = HttpResponse("a bearer token is required\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(render(), content_type=CONTENT_TYPE)


def authorized(request: HttpRequest) -> bool:
    """True when no token is set, or the request carries it as a bearer token."""
    token = getattr(settings, "ADVISOR_METRICS_TOKEN", "")
    if not token:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # compare_digest: the time taken does not tell how much of a guess was right.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )
