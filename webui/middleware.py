"""Request-wide middleware: one log line and the metrics for every request (README "Logs and
metrics"), and the cache and cross-site rules for private answers (README "Security and limits").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from webui import metrics

log = logging.getLogger("advisor.request")

Handler = Callable[[HttpRequest], HttpResponse]


class RequestLogMiddleware:
    """The outermost middleware: times every request, counts it in /metrics and, with
    ``LOG_FORMAT=json``, logs one line with method, path, status, duration and, when the request
    analysed a manifest, its size, workloads and findings. (In text format gunicorn's access log
    already has a line per request.) Exceptions never get here: Django has turned them into a
    500 answer, logged with its traceback by ``django.request``."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = metrics.current_analysis.set(None)
        start = time.perf_counter()
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - start
            metrics.observe_request(response.status_code, seconds)
            if settings.LOG_FORMAT == "json":
                self.log(request, response, seconds)
            return response
        finally:
            metrics.current_analysis.reset(token)

    @staticmethod
    def log(request: HttpRequest, response: HttpResponse, seconds: float) -> None:
        fields: dict[str, Any] = {
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 2),
        }
        if (analysis := metrics.current_analysis.get()) is not None:
            fields |= analysis
        level = logging.ERROR if response.status_code >= 500 else logging.INFO
        log.log(
            level,
            "%s %s %s %.1f ms",
            request.method,
            request.path,
            response.status_code,
            seconds * 1000,
            extra={"fields": fields},
        )
