"""Request limits (README "Security and limits"): rate limits and oversized bodies.

* **Rate limits** count requests per client in fixed windows in Django's cache: analyses (the
  web form, ``/fix/`` and ``POST /api/v1/analyze`` share ``ADVISOR_RATE_ANALYZE``) per client
  address, and log-in attempts (``ADVISOR_RATE_LOGIN``) per address and user name. Settings are
  read on every request, so ``override_settings`` works and ``off`` disables a limit. Over the
  limit the answer is 429 with ``Retry-After``. The default cache is per process: with several
  gunicorn workers each counts on its own unless ``DJANGO_CACHE_BACKEND`` names a shared cache.
* **Oversized bodies**: :class:`RequestSizeMiddleware` answers 413 to a body over
  ``DATA_UPLOAD_MAX_MEMORY_SIZE`` judged by its Content-Length before anything reads it, and to a
  form with more fields or files than allowed, instead of Django's 400. A view decorated with
  :func:`too_large_response` gives its own 413 answer (the analyser's result fragment, say);
  the API gets ``{"detail": ...}``; anything else a short page.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.core.exceptions import (
    ImproperlyConfigured,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.template import engines
from django.urls import Resolver404, resolve

View = Callable[..., HttpResponse]

# COUNT/PERIOD: "60/minute", "1000/hour", "5/10s" (5 every 10 seconds); "off" or "0" disables.
RATE = re.compile(r"(\d+)\s*/\s*(\d*)\s*(s|sec|second|m|min|minute|h|hour|d|day)s?", re.IGNORECASE)
OFF = frozenset({"", "0", "off", "none", "false", "no"})
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
UNIT_NAMES = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}
SIZE_ERRORS = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)
FORM_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})

# The time source of the windows; tests replace it to move to the next window.
clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class Rate:
    """At most ``count`` requests every ``seconds``."""

    count: int
    seconds: int

    def __str__(self) -> str:
        name = UNIT_NAMES.get(self.seconds)
        return f"{self.count} a {name}" if name else f"{self.count} every {self.seconds} seconds"


def parse_rate(value: str) -> Rate | None:
    """``"60/minute"`` -> Rate(60, 60); ``"off"``, ``"0"`` or ``"0/minute"`` -> None."""
    text = str(value).strip()
    if text.lower() in OFF:
        return None
    match = RATE.fullmatch(text)
    if match is None:
        raise ImproperlyConfigured(f"not a rate limit: {value!r} (use 60/minute, 5/10s or off)")
    count, multiple, unit = int(match[1]), int(match[2] or 1), match[3][0].lower()
    if count == 0 or multiple == 0:
        return None
    return Rate(count, multiple * UNIT_SECONDS[unit])


@dataclass(frozen=True)
class Limited:
    """A refused request: how long to wait and what to tell the client."""

    retry_after: int
    message: str

    def apply(self, response: HttpResponse) -> HttpResponse:
        response["Retry-After"] = str(self.retry_after)
        return response


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind ``ADVISOR_TRUSTED_PROXIES`` proxies the
    X-Forwarded-For entry the outermost trusted proxy added (entries further left are whatever
    the client sent, so they are never trusted)."""
    hops = settings.ADVISOR_TRUSTED_PROXIES
    if hops > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        entries = [e.strip() for e in forwarded.split(",") if e.strip()]
        if len(entries) >= hops:
            return entries[-hops]
    return str(request.META.get("REMOTE_ADDR", ""))


def hit(scope: str, identity: str, rate: Rate) -> int:
    """Count one request of ``identity``; 0 if within ``rate``, else the seconds to wait."""
    now = clock()
    window = int(now // rate.seconds)
    digest = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    key = f"advisor:rate:{scope}:{rate.seconds}:{window}:{digest}"
    cache.add(key, 0, timeout=rate.seconds + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired (or evicted) between add and incr
        cache.set(key, 1, timeout=rate.seconds + 1)
        count = 1
    if count <= rate.count:
        return 0
    return max(1, math.ceil((window + 1) * rate.seconds - now))


def _wait(seconds: int) -> str:
    return "1 second" if seconds == 1 else f"{seconds} seconds"


def check_analysis(request: HttpRequest) -> Limited | None:
    """Count an analysis from this client; a :class:`Limited` once over ADVISOR_RATE_ANALYZE."""
    rate = parse_rate(settings.ADVISOR_RATE_ANALYZE)
    if rate is None:
        return None
    wait = hit("analyze", client_ip(request), rate)
    if not wait:
        return None
    return Limited(
        wait,
        f"Too many analyses from your address (at most {rate}). Try again in {_wait(wait)}.",
    )


def check_login(request: HttpRequest) -> Limited | None:
    """Count a log-in attempt for this address and user name (ADVISOR_RATE_LOGIN)."""
    rate = parse_rate(settings.ADVISOR_RATE_LOGIN)
    if rate is None:
        return None
    username = str(request.POST.get("username", "")).strip().casefold()
    wait = hit("login", f"{client_ip(request)}\n{username}", rate)
    if not wait:
        return None
    return Limited(
        wait,
        f"Too many log-in attempts for this user name from your address (at most {rate}). "
        f"Try again in {_wait(wait)}.",
    )


# --- pages -----------------------------------------------------------------------------------

PAGE = """{% extends "base.html" %}
{% block title %}{{ title }} · Pod Pattern Advisor{% endblock %}
{% block content %}<h1>{{ title }}</h1>
<div class="alert error" role="alert">{{ message }}</div>
{% if back %}<p><a href="{{ back }}">{{ back_label }}</a></p>{% endif %}
{% endblock %}"""

ALERT = '<div class="alert error" role="alert">{{ message }}</div>'


def page(
    request: HttpRequest,
    title: str,
    message: str,
    *,
    status: int,
    back: str = "",
    back_label: str = "Back",
) -> HttpResponse:
    """A short page in the site's layout (the message is escaped like any template value)."""
    template = engines["django"].from_string(PAGE)
    context = {"title": title, "message": message, "back": back, "back_label": back_label}
    return HttpResponse(template.render(context, request), status=status)


# --- log-in ----------------------------------------------------------------------------------


def limit_login(view: View) -> View:
    """Wrap a log-in view: POSTs over ADVISOR_RATE_LOGIN get 429 before credentials are checked."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            limited = check_login(request)
            if limited is not None:
                response = page(
                    request,
                    "Too many log-in attempts",
                    limited.message,
                    status=429,
                    back=request.path,
                    back_label="Back to the log-in form",
                )
                return limited.apply(response)
        return view(request, *args, **kwargs)

    return wrapped


login_view = limit_login(auth_views.LoginView.as_view())


# The admin site's own log-in form, under the same limit (else it would be the way around it).
admin_login_view = limit_login(admin.site.login)


# --- oversized bodies ------------------------------------------------------------------------


def too_large_response(handler: Callable[[HttpRequest], HttpResponse]) -> Callable[[View], View]:
    """Mark a view with the 413 answer :class:`RequestSizeMiddleware` gives for it.

    ``handler(request)`` must not read the body; it typically renders the view's own page or
    htmx fragment with the message, so an error shows where the user is looking.
    """

    def mark(view: View) -> View:
        view.too_large_response = handler  # type: ignore[attr-defined]
        return view

    return mark


def manifest_limit() -> str:
    """The largest manifest the web form and the API accept (ADVISOR_MAX_INPUT_BYTES), as
    people read sizes: "2 MiB", "512 KiB"."""
    limit = settings.ADVISOR_MAX_INPUT_BYTES
    if limit >= 1024 * 1024 and limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024):,} MiB"
    if limit >= 1024:
        return f"{limit / 1024:,.0f} KiB"
    return f"{limit:,} bytes"


def too_large_message() -> str:
    return (
        f"The request is too large (a manifest may be at most {manifest_limit()}, here and in "
        f"the API; a form at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields), so it was "
        "not read. Split the file into smaller ones and analyse them one by one."
    )


def too_large(request: HttpRequest) -> HttpResponse:
    """The 413 answer for ``request``: JSON for the API, the view's own, or a short page."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        match = None
    message = too_large_message()
    if match is not None and "api" in match.namespaces:
        return JsonResponse({"detail": message}, status=413)
    handler = getattr(match.func, "too_large_response", None) if match is not None else None
    if handler is not None:
        response = handler(request)
        response.status_code = 413
        return response
    if getattr(request, "htmx", False):
        # Whatever the request meant to replace stays; the message goes on top of the page.
        alert = engines["django"].from_string(ALERT).render({"message": message}, request)
        response = HttpResponse(alert, status=413)
        response["HX-Retarget"] = "#main"
        response["HX-Reswap"] = "afterbegin"
        return response
    return page(request, "Too large", message, status=413)


def oversized(request: HttpRequest) -> bool:
    """Whether the body is over the limits: by Content-Length, before anything is read; then,
    for a form, by parsing it (the body is kept, so a view may still read ``request.body``)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if limit is not None and length > limit:
        return True
    if request.method == "POST" and request.content_type in FORM_TYPES:
        try:
            if limit is not None:
                request.body  # noqa: B018  # bounded above; parsing from it keeps it readable
            request.POST  # noqa: B018  # too many fields or files raise here
        except SIZE_ERRORS:
            return True
        except UnreadablePostError:
            pass  # the client went away; the CSRF check will refuse the empty form
        except MultiPartParserError:
            pass  # malformed, not too large: the view answers (the API with 415, as JSON)
    return False


class RequestSizeMiddleware:
    """413 instead of Django's 400 for bodies over the size, field or file limits."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if oversized(request):
            return too_large(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A view that still meets one of the size errors (a limit lowered at run time)."""
        if isinstance(exception, SIZE_ERRORS):
            return too_large(request)
        return None
