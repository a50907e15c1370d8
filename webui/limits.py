"""Request limits (README "Security and limits"): rate limits and oversized bodies.

* **Rate limits** count requests per client in fixed windows in Django's cache: analyses (the
  web form, ``/fix/`` and ``POST /api/v1/analyze`` share ``ADVISOR_RATE_ANALYZE``) per client
  address; changes to saved reviews (``ADVISOR_RATE_WRITE``, :class:`RateLimitMiddleware`) per
  account, or per address for API tokens; log-in attempts per address and normalised user name
  (``ADVISOR_RATE_LOGIN``) and per address (``ADVISOR_RATE_LOGIN_ADDRESS``); password changes
  per account (``ADVISOR_RATE_PASSWORD``). Settings are read on every request, so
  ``override_settings`` works and ``off`` disables a limit. Over a limit the answer is 429 with
  ``Retry-After``.

  A count is ``cache.add(key, 0)`` then ``cache.incr(key)``, the window's number in the key. With
  Redis (``REDIS_URL``) both are single atomic commands in the server (SET NX EX, INCR), sent
  together in one MULTI/EXEC transaction (one round trip, :mod:`webui.counters`), so every
  gunicorn worker of every replica increments one counter and no two requests read the same
  count; the key outlives its window, so it never expires while it is being counted. The
  default in-memory cache is per process: each worker then counts on its own.

  If the cache cannot be reached (Redis down), analyses and changes go through uncounted (the
  site stays up; the error is logged) and log-ins and password changes are refused with 503
  (a password must never be guessable at full speed).
* **Oversized bodies**: :class:`RequestSizeMiddleware` answers 413 to a body over
  ``DATA_UPLOAD_MAX_MEMORY_SIZE`` judged by its Content-Length before anything reads it, and to a
  form with more fields or files than allowed, instead of Django's 400. A view decorated with
  :func:`too_large_response` gives its own 413 answer (the analyser's result fragment, say);
  the API gets ``{"detail": ...}``; anything else a short page.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
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

from webui import counters, metrics

log = logging.getLogger(__name__)

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


@functools.lru_cache(maxsize=64)  # settings are read per request; parsed once per value
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
    status: int = 429

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


UNAVAILABLE = -1  # what :func:`hit` returns when the cache cannot count


def hit(scope: str, identity: str, rate: Rate) -> int:
    """Count one request of ``identity``: 0 if within ``rate``, else the seconds to wait;
    :data:`UNAVAILABLE` if the cache could not be reached."""
    now = clock()
    window = int(now // rate.seconds)
    digest = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    key = f"advisor:rate:{scope}:{rate.seconds}:{window}:{digest}"
    # Twice the window: the key outlives its window even with replicas' clocks a little apart.
    timeout = 2 * rate.seconds
    try:
        count = counters.count(key, timeout)
    except Exception:  # the cache server is down or timed out: say so, decide in the caller
        log.exception("rate limit %s: the cache could not count this request", scope)
        return UNAVAILABLE
    if count <= rate.count:
        return 0
    metrics.rate_limited(scope)
    return max(1, math.ceil((window + 1) * rate.seconds - now))


def _wait(seconds: int) -> str:
    return "1 second" if seconds == 1 else f"{seconds} seconds"


def _limited(wait: int, message: str) -> Limited | None:
    if wait == 0 or wait == UNAVAILABLE:  # fail open: the site stays up without its cache
        return None
    return Limited(wait, f"{message} Try again in {_wait(wait)}.")


def check_analysis(request: HttpRequest) -> Limited | None:
    """Count an analysis from this client; a :class:`Limited` once over ADVISOR_RATE_ANALYZE."""
    rate = parse_rate(settings.ADVISOR_RATE_ANALYZE)
    if rate is None:
        return None
    wait = hit("analyze", client_ip(request), rate)
    return _limited(wait, f"Too many analyses from your address (at most {rate}).")


def check_write(request: HttpRequest) -> Limited | None:
    """Count a change to saved reviews (ADVISOR_RATE_WRITE): per account for a logged-in
    browser (colleagues behind one office address do not share a budget), per client address
    for API tokens and anonymous requests (the token is checked later, in the API)."""
    rate = parse_rate(settings.ADVISOR_RATE_WRITE)
    if rate is None:
        return None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        identity, who = f"user:{user.pk}", "your account"
    else:
        identity, who = client_ip(request), "your address"
    wait = hit("write", identity, rate)
    return _limited(wait, f"Too many changes from {who} (at most {rate}).")


def normalise_username(name: object) -> str:
    """The form of a user name that look-alikes share: NFKC (full-width letters, ligatures and
    compatibility characters become plain ones, as Django normalises user names), case folded
    (``ß`` and ``SS``, ``K`` and the Kelvin sign), and NFKC again, surrounding spaces dropped."""
    text = unicodedata.normalize("NFKC", str(name)).casefold()
    return unicodedata.normalize("NFKC", text).strip()


UNAVAILABLE_MESSAGE = "Log-in is unavailable for a moment (the rate limiter cannot be reached)."


def check_login(request: HttpRequest) -> Limited | None:
    """Count a log-in attempt: per address and normalised user name (ADVISOR_RATE_LOGIN), and
    per address whatever the name (ADVISOR_RATE_LOGIN_ADDRESS, against password spraying)."""
    address = client_ip(request)
    username = normalise_username(request.POST.get("username", ""))
    checks = (
        (
            "login",
            f"{address}\n{username}",
            settings.ADVISOR_RATE_LOGIN,
            "Too many log-in attempts for this user name from your address",
        ),
        (
            "login-address",
            address,
            settings.ADVISOR_RATE_LOGIN_ADDRESS,
            "Too many log-in attempts from your address",
        ),
    )
    for scope, identity, setting, message in checks:
        rate = parse_rate(setting)
        if rate is None:
            continue
        wait = hit(scope, identity, rate)
        if wait == UNAVAILABLE:
            return Limited(5, UNAVAILABLE_MESSAGE, status=503)
        if wait:
            return Limited(wait, f"{message} (at most {rate}). Try again in {_wait(wait)}.")
    return None


def check_password_change(request: HttpRequest) -> Limited | None:
    """Count a password change attempt for this account (ADVISOR_RATE_PASSWORD): the old
    password must not be guessable from a stolen session at full speed."""
    rate = parse_rate(settings.ADVISOR_RATE_PASSWORD)
    if rate is None:
        return None
    wait = hit("password", f"user:{request.user.pk}", rate)
    if wait == UNAVAILABLE:
        return Limited(5, UNAVAILABLE_MESSAGE.replace("Log-in", "Changing a password"), 503)
    return _limited(wait, f"Too many password change attempts for your account (at most {rate}).")


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
                    "Too many log-in attempts" if limited.status == 429 else "Try again shortly",
                    limited.message,
                    status=limited.status,
                    back=request.path,
                    back_label="Back to the log-in form",
                )
                return limited.apply(response)
        return view(request, *args, **kwargs)

    return wrapped


# --- changes to saved reviews, password changes ------------------------------------------------

# Web views whose unsafe requests change saved reviews (URL names); under /api/v1/reviews every
# POST, PATCH, PUT and DELETE does.
WRITE_VIEWS = frozenset(
    {
        "review-save",
        "review-edit",
        "review-status",
        "review-delete",
        "review-comment",
        "review-comment-delete",
        "review-reanalyse",
        "review-import",
    }
)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def refused(request: HttpRequest, limited: Limited, title: str) -> HttpResponse:
    """A 429 (or 503) where the user is looking: JSON for the API, a message on top of the page
    for htmx (whatever the request meant to replace stays, the user's text with it), or a page."""
    match = request.resolver_match
    if match is not None and "api" in match.namespaces:
        response: HttpResponse = JsonResponse({"detail": limited.message}, status=limited.status)
    elif getattr(request, "htmx", False):
        alert = engines["django"].from_string(ALERT).render({"message": limited.message}, request)
        response = HttpResponse(alert, status=limited.status)
        response["HX-Retarget"] = "#main"
        response["HX-Reswap"] = "afterbegin"
    else:
        response = page(request, title, limited.message, status=limited.status)
    return limited.apply(response)


def write_request(request: HttpRequest) -> bool:
    """Whether ``request`` changes saved reviews (its URL is resolved already)."""
    match = request.resolver_match
    if request.method not in UNSAFE or match is None:
        return False
    if "api" in match.namespaces:
        return request.path_info.startswith("/api/v1/reviews")
    return match.url_name in WRITE_VIEWS


class RateLimitMiddleware:
    """ADVISOR_RATE_WRITE on every change to saved reviews (HTML and API share it) and
    ADVISOR_RATE_PASSWORD on password changes. It acts in ``process_view``, after the CSRF check:
    a forged cross-site request is refused before it can spend anyone's budget."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: View, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        if write_request(request):
            limited = check_write(request)
            if limited is not None:
                return refused(request, limited, "Too many changes")
        elif (
            request.method == "POST"
            and match is not None
            and match.url_name == "password_change"
            and request.user.is_authenticated
        ):
            limited = check_password_change(request)
            if limited is not None:
                return refused(request, limited, "Too many password change attempts")
        return None


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
