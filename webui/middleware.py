"""Request-wide middleware: one log line and the metrics for every request (README "Logs and
metrics"), and the cache and cross-site rules for private answers (README "Security and limits").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

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


# --- private answers -----------------------------------------------------------------------------

PRIVATE = "private, no-store"
# API operations that are CSRF-exempt for anonymous and token clients, but must not be callable
# cross-site with a logged-in browser session (a forged form would act as the user).
SESSION_CSRF_VIEWS = frozenset({"api:analyze"})


def _csrf_refusal(request: HttpRequest) -> HttpResponse | None:
    """Django's own CSRF check (Origin, Referer on HTTPS, the token), as on any form."""
    from django.middleware.csrf import CsrfViewMiddleware

    def view(request: HttpRequest) -> HttpResponse:  # never called; not marked csrf_exempt
        raise AssertionError

    checker = CsrfViewMiddleware(view)
    refused = checker.process_view(request, view, (), {})
    if refused is None:
        return None
    message = (
        "CSRF check failed: a request with a logged-in session must send the CSRF token "
        "(X-CSRFToken); scripts should use an API token (Authorization: Bearer) instead."
    )
    return JsonResponse({"detail": message}, status=403)


class PrivateAnswersMiddleware:
    """``Cache-Control: private, no-store`` on every page answered to a logged-in user and on
    every API answer, so no shared cache (or the browser's back button on a shared machine) keeps
    them; and the CSRF check on ``POST /api/v1/analyze`` when it comes with a logged-in session
    rather than an API token. Comes after AuthenticationMiddleware (it reads ``request.user``)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = request.resolver_match
        api = match is not None and "api" in match.namespaces
        user = getattr(request, "user", None)
        if api or (user is not None and user.is_authenticated):
            response["Cache-Control"] = PRIVATE
        return response

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        if (
            match is not None
            and match.view_name in SESSION_CSRF_VIEWS
            and "HTTP_AUTHORIZATION" not in request.META
            and request.user.is_authenticated
        ):
            return _csrf_refusal(request)
        return None
