"""Settings, all from the environment (see README "Configuration").

Development defaults need no set-up: DEBUG on, SQLite in the repo root. Production sets
``DJANGO_DEBUG=false`` and must then provide ``DJANGO_SECRET_KEY`` and ``DJANGO_ALLOWED_HOSTS``.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool) -> bool:
    """Read a boolean environment variable; anything but true/false is an error."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: int) -> int:
    """Read an integer environment variable."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def envlist(name: str, default: str) -> list[str]:
    """Read a comma-separated environment variable."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is false")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "webui",
]

MIDDLEWARE = [
    # Outermost: times every request for its log line (LOG_FORMAT=json) and /metrics.
    "webui.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Compress answers (a 300-workload analysis is 10 MB of HTML, under 0.3 MB gzipped).
    # Django's gzip pads each answer with random bytes against BREACH, and CSRF tokens are
    # masked afresh per response, so pages that carry tokens may be compressed too.
    "django.middleware.gzip.GZipMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Cache-Control: private, no-store for logged-in pages and the API; CSRF on a session's
    # POST /api/v1/analyze.
    "webui.middleware.PrivateAnswersMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # 413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE, judged by Content-Length before anything
    # reads it: no middleware above reads the body (CSRF reads the form in process_view, after
    # every middleware's request phase), and being last its 413 page knows the user and htmx.
    "webui.limits.RequestSizeMiddleware",
    # 429 past ADVISOR_RATE_WRITE / ADVISOR_RATE_PASSWORD, in process_view: after the CSRF check.
    "webui.limits.RateLimitMiddleware",
    # 422 for JSON bodies nested too deep or holding NUL / lone surrogates; 413 for answers over
    # ADVISOR_MAX_OUTPUT_BYTES (README "Limits"). After the size check: it reads JSON bodies.
    "webui.budget.BodyBudgetMiddleware",
]

ROOT_URLCONF = "advisor.urls"
WSGI_APPLICATION = "advisor.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_from_env() -> dict[str, object]:
    """The default database: ``DATABASE_URL`` if set, else SQLite at ``SQLITE_PATH``.

    Connections are kept ``CONN_MAX_AGE`` seconds (60 on PostgreSQL, 0 on SQLite by default) and
    health-checked before reuse, so a restarted database server needs no app restart.
    """
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "CONN_MAX_AGE": envint("CONN_MAX_AGE", 0),
            "CONN_HEALTH_CHECKS": True,
        }
    try:
        config = dj_database_url.parse(url, conn_health_checks=True)
    except ValueError as exc:  # an unknown scheme or a malformed URL
        raise ImproperlyConfigured(f"DATABASE_URL is not a usable database URL: {exc}") from None
    sqlite = config["ENGINE"] == "django.db.backends.sqlite3"
    config["CONN_MAX_AGE"] = envint("CONN_MAX_AGE", 0 if sqlite else 60)
    return dict(config)


DATABASES = {"default": database_from_env()}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "reviews"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Production: gzip/brotli copies and content-hashed names (collectstatic).
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}

WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# No inline script anywhere: chart data travels in <script type="application/json">.
# Plotly sets style attributes on the SVG it draws, hence 'unsafe-inline' for styles only.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"


# Production security (README "Deploy"). Cookies are never readable from script and not sent on
# cross-site subrequests; with DJANGO_DEBUG=false they travel over HTTPS only, plain-HTTP requests
# are redirected (SECURE_SSL_REDIRECT=false to serve plain HTTP, e.g. docker compose on localhost)
# and browsers are told to use HTTPS for a year (HSTS, sent on HTTPS responses only). Preloading
# is on by default because `check --deploy` asks for it; it takes effect only once the domain is
# submitted to the browsers' preload list (SECURE_HSTS_PRELOAD=false to say you never will).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")


def proxy_ssl_header(value: str) -> tuple[str, str] | None:
    """``X-Forwarded-Proto`` or ``X-Forwarded-Proto=https`` -> Django's (META key, value).

    Set SECURE_PROXY_SSL_HEADER only behind a TLS-terminating proxy or ingress that always sets
    (or strips) that header: Django then trusts it to say the request came in over HTTPS.
    """
    name, _, expected = value.partition("=")
    name = name.strip()
    if not name:
        return None
    if not name.replace("-", "").replace("_", "").isalnum():
        raise ImproperlyConfigured(f"SECURE_PROXY_SSL_HEADER must name a header, not {value!r}")
    key = name.upper().replace("-", "_")
    return (key if key.startswith("HTTP_") else f"HTTP_{key}", expected.strip() or "https")


SECURE_PROXY_SSL_HEADER = proxy_ssl_header(os.environ.get("SECURE_PROXY_SSL_HEADER", ""))
# Kubernetes probes reach the pod over plain HTTP, without the proxy's header: never redirect them.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if not DEBUG:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", True)

# Analysis input limits (bytes of manifest text, YAML nesting depth).
ADVISOR_MAX_INPUT_BYTES = envint("ADVISOR_MAX_INPUT_BYTES", 2 * 1024 * 1024)
ADVISOR_MAX_DEPTH = envint("ADVISOR_MAX_DEPTH", 100)
# Above this many workloads a result opens on a summary; details render when opened.
ADVISOR_INLINE_WORKLOADS = envint("ADVISOR_INLINE_WORKLOADS", 12)
# The rest of the analysis budget (advisor/core/budget.py; README "Limits").
ADVISOR_MAX_NODES = envint("ADVISOR_MAX_NODES", 200_000)
ADVISOR_MAX_DOCUMENTS = envint("ADVISOR_MAX_DOCUMENTS", 2_000)
ADVISOR_MAX_CONTAINERS = envint("ADVISOR_MAX_CONTAINERS", 200)
ADVISOR_MAX_WORKLOADS = envint("ADVISOR_MAX_WORKLOADS", 500)
ADVISOR_MAX_DIGITS = envint("ADVISOR_MAX_DIGITS", 100)
ADVISOR_MAX_OUTPUT_BYTES = envint("ADVISOR_MAX_OUTPUT_BYTES", 16 * 1024 * 1024)
# Request bodies (README "Security and limits"): one larger than this, or with more form fields or
# files, is answered 413 before any view reads it (webui.limits.RequestSizeMiddleware). The
# default leaves room for the form fields around a manifest of ADVISOR_MAX_INPUT_BYTES.
DATA_UPLOAD_MAX_MEMORY_SIZE = envint(
    "ADVISOR_MAX_REQUEST_BYTES", ADVISOR_MAX_INPUT_BYTES + 512 * 1024
)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
DATA_UPLOAD_MAX_NUMBER_FIELDS = envint("ADVISOR_MAX_FORM_FIELDS", 500)
DATA_UPLOAD_MAX_NUMBER_FILES = envint("ADVISOR_MAX_FORM_FILES", 5)


def envrate(name: str, default: str) -> str:
    """Read a rate limit such as ``60/minute``, ``5/10s`` or ``off`` (``0`` too).

    The grammar is :data:`webui.limits.RATE`'s; it is repeated here so that a typo stops the
    process at start-up rather than at the first request.
    """
    value = os.environ.get(name, default).strip()
    pattern = r"(\d+)\s*/\s*(\d*)\s*(s|sec|second|m|min|minute|h|hour|d|day)s?"
    off = value.lower() in ("", "0", "off", "none", "false", "no")
    if not off and not re.fullmatch(pattern, value, re.IGNORECASE):
        raise ImproperlyConfigured(
            f"{name} must be COUNT/PERIOD (60/minute, 1000/hour, 5/10s) or off, not {value!r}"
        )
    return value


# Rate limits per client address, counted in the cache below (webui.limits, README "Security and
# limits"): analyses (the form, /fix/ and POST /api/v1/analyze share one budget), changes to saved
# reviews (saves, edits, imports, comments, status, deletions; HTML and API share one budget),
# log-in attempts per address and user name and per address whatever the name, and password
# changes per account.
ADVISOR_RATE_ANALYZE = envrate("ADVISOR_RATE_ANALYZE", "60/minute")
ADVISOR_RATE_WRITE = envrate("ADVISOR_RATE_WRITE", "30/minute")
ADVISOR_RATE_LOGIN = envrate("ADVISOR_RATE_LOGIN", "10/minute")
ADVISOR_RATE_LOGIN_ADDRESS = envrate("ADVISOR_RATE_LOGIN_ADDRESS", "30/minute")
ADVISOR_RATE_PASSWORD = envrate("ADVISOR_RATE_PASSWORD", "5/minute")
# Behind N reverse proxies that append to X-Forwarded-For (an ingress: 1), the client address is
# the N-th entry from the right; 0 uses REMOTE_ADDR (every client behind a proxy shares one count).
ADVISOR_TRUSTED_PROXIES = envint("ADVISOR_TRUSTED_PROXIES", 0)
if ADVISOR_TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("ADVISOR_TRUSTED_PROXIES must be 0 or a number of proxies")

# GET /metrics (Prometheus text format, webui.metrics): 404 unless on. With a token set, a
# scrape must send "Authorization: Bearer <token>" (Prometheus: authorization.credentials);
# `manage.py check --deploy` warns when metrics are on without one (webui.checks).
ADVISOR_METRICS = envbool("ADVISOR_METRICS", False)
ADVISOR_METRICS_TOKEN = os.environ.get("ADVISOR_METRICS_TOKEN", "").strip()

CACHE_BACKENDS = {
    "locmem": "django.core.cache.backends.locmem.LocMemCache",
    "database": "django.core.cache.backends.db.DatabaseCache",
    "redis": "django.core.cache.backends.redis.RedisCache",
    "memcached": "django.core.cache.backends.memcached.PyMemcacheCache",
}
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
# A Redis that stops answering must not hold a worker: connecting and each command give up after
# this many seconds (the rate limits then let analyses through and refuse log-ins, webui.limits).
REDIS_TIMEOUT_SECONDS = 1.0


def cache_from_env() -> dict[str, dict[str, object]]:
    """The default cache: Redis at ``REDIS_URL`` (production), else ``DJANGO_CACHE_BACKEND``,
    else per process in memory.

    Rate limits and the metrics count in this cache, so they hold across gunicorn workers and
    replicas only with a shared backend: ``REDIS_URL`` (``redis://host:6379/0``) selects Django's
    built-in Redis backend, whose ``add`` (SET NX EX) and ``incr`` (INCR) are atomic in the
    server. ``DJANGO_CACHE_BACKEND`` may also name ``database`` (table ``DJANGO_CACHE_LOCATION``,
    default ``advisor_cache``, made by ``manage.py createcachetable``), ``memcached``
    (``DJANGO_CACHE_LOCATION`` is its address) or a backend's dotted path.
    ``DJANGO_CACHE_KEY_PREFIX`` keeps several deployments apart on one server.
    """
    redis_url = os.environ.get("REDIS_URL", "").strip()
    name = os.environ.get("DJANGO_CACHE_BACKEND", "").strip()
    prefix = os.environ.get("DJANGO_CACHE_KEY_PREFIX", "").strip()
    if redis_url:
        if name and name.lower() != "redis":
            raise ImproperlyConfigured(
                f"REDIS_URL is set, so the cache is Redis; unset DJANGO_CACHE_BACKEND ({name!r})"
            )
        if not redis_url.startswith(REDIS_SCHEMES):
            raise ImproperlyConfigured(
                "REDIS_URL must start with redis://, rediss:// or unix://, e.g. "
                "redis://redis:6379/0"
            )
        return {
            "default": {
                "BACKEND": CACHE_BACKENDS["redis"],
                "LOCATION": redis_url,
                "KEY_PREFIX": prefix,
                "OPTIONS": {
                    "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                    "socket_timeout": REDIS_TIMEOUT_SECONDS,
                    "health_check_interval": 30,
                },
            }
        }
    backend = CACHE_BACKENDS.get((name or "locmem").lower(), name)
    if "." not in backend:
        raise ImproperlyConfigured(
            f"DJANGO_CACHE_BACKEND must be one of {', '.join(CACHE_BACKENDS)} or a dotted path, "
            f"not {name!r}"
        )
    location = os.environ.get("DJANGO_CACHE_LOCATION", "").strip()
    if not location and backend == CACHE_BACKENDS["database"]:
        location = "advisor_cache"
    return {"default": {"BACKEND": backend, "LOCATION": location, "KEY_PREFIX": prefix}}


CACHES = cache_from_env()


# Logs (README "Logs and metrics"): everything to standard error, as text or, with
# LOG_FORMAT=json, one JSON object per line (webui.logformat). Django's default sends errors to
# the console only when DEBUG is on (and otherwise mails them to ADMINS, which is empty): here
# every 500 reaches the log with its traceback, in production as in development.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "").strip().lower() or "text"
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}")
LOG_LEVEL = os.environ.get("LOG_LEVEL", "").strip().upper() or "INFO"
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(
        f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {LOG_LEVEL!r}"
    )
# In JSON, Python's warnings are log records too, so that every line of the log parses.
logging.captureWarnings(LOG_FORMAT == "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "webui.logformat.JsonFormatter"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": LOG_FORMAT,
        },
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        # Drops Django's own handlers (console only when debugging, mail to ADMINS): its records,
        # 500s with their tracebacks among them, go to the root's handler like everyone's.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
    },
}
# Review workflow. An author approves their own review only when this is on (a team of one).
ADVISOR_ALLOW_SELF_APPROVAL = envbool("ADVISOR_ALLOW_SELF_APPROVAL", False)
# Review events (requests, verdicts, comments...) go by mail only when mail is configured here
# (Django 6.1's MAILERS; EMAIL_BACKEND names another backend, e.g. the console one).
ADVISOR_MAIL_EVENTS = bool(os.environ.get("EMAIL_BACKEND") or os.environ.get("EMAIL_HOST"))
if ADVISOR_MAIL_EVENTS:
    _mail_options: dict[str, object] = {}
    if os.environ.get("EMAIL_HOST"):
        _mail_options = {
            "host": os.environ["EMAIL_HOST"],
            "port": envint("EMAIL_PORT", 25),
            "username": os.environ.get("EMAIL_HOST_USER", ""),
            "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": envbool("EMAIL_USE_TLS", False),
        }
    MAILERS = {
        "default": {
            "BACKEND": os.environ.get(
                "EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"
            ),
            "OPTIONS": _mail_options,
        }
    }
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "advisor@localhost")
