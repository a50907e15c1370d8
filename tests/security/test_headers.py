"""Security headers on every page (anonymous and logged in, errors included), no inline script in
any template or rendered page, and production cookie flags."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from tests.conftest import CORPUS, ROOT
from webui import limits, services
from webui.models import Comment, Review

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
HTMX = {"HTTP_HX_REQUEST": "true"}
LEGACY_JOB = (
    CORPUS / "kubernetes__website__content__en__examples__application__job__job-sidecar-legacy.yaml"
).read_text()
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "advisor.settings",
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "test-only-Vq3mZ8rT1xLp0sWc7yNe4bHk2uJd9fGa6QoRi5tPzXwEvBnMl",
    "DJANGO_ALLOWED_HOSTS": "advisor.example.com",
}


@pytest.fixture
def review() -> Review:
    author = User.objects.create_user("author", password=PASSWORD, is_staff=True)
    prepared = services.prepare(kind="manifest", manifest=LEGACY_JOB, kubernetes_version="1.37")
    review = services.create_review(author=author, title="Job", prepared=prepared)
    Comment.objects.create(review=review, author=author, body="see https://example.com")
    return review


def pages(client: Client, review: Review) -> Iterator[tuple[str, HttpResponse]]:
    """Every page and fragment of the site, and its error answers."""
    slug = review.slug
    analyse = {"manifest": LEGACY_JOB, "kubernetes_version": "1.37", "api_defaults": "on"}
    fix = {
        **analyse,
        "fix": '{"rule": "classic-sidecar-blocks-job", "document": 1, "container": "logshipper"}',
    }
    answers = {"need": "batch-job-helper", "kubernetes_version": "1.31"}
    gets = [
        reverse("home"),
        reverse("analyze"),
        reverse("questionnaire"),
        reverse("rules"),
        reverse("patterns"),
        reverse("pattern", args=["native-sidecar"]),
        reverse("login"),
        reverse("reviews"),
        reverse("review-stats"),
        reverse("review-import"),
        reverse("rule-reviews", args=["classic-sidecar-blocks-job"]),
        reverse("review", args=[slug]),
        reverse("review-edit", args=[slug]),
        reverse("review-history", args=[slug]),
        reverse("review-reanalyse", args=[slug]),
        reverse("review-export-md", args=[slug]),
        reverse("review-export-json", args=[slug]),
        reverse("password_change"),
        reverse("admin:index"),
        reverse("admin:login"),
        "/api/v1/docs",
        "/api/v1/openapi.json",
        "/healthz",
        "/no-such-page/",
        reverse("review", args=["no-such-review"]),
    ]
    for url in gets:
        yield f"GET {url}", client.get(url)
    yield "GET questionnaire (htmx)", client.get(reverse("questionnaire"), answers, **HTMX)
    yield "GET reviews (htmx)", client.get(reverse("reviews"), {"q": "job"}, **HTMX)
    yield "POST analyze", client.post(reverse("analyze"), analyse)
    yield "POST analyze (htmx)", client.post(reverse("analyze"), analyse, **HTMX)
    yield "POST analyze (empty)", client.post(reverse("analyze"), {"manifest": ""})
    yield "POST fix", client.post(reverse("fix"), fix)
    yield "POST fix (htmx)", client.post(reverse("fix"), fix, **HTMX)
    yield "POST home (405)", client.post(reverse("home"))
    yield (
        "POST api analyze",
        client.post("/api/v1/analyze", LEGACY_JOB, content_type="application/yaml"),
    )


def clients(review: Review) -> Iterator[tuple[str, Client]]:
    yield "anonymous", Client()
    logged_in = Client()
    logged_in.force_login(review.author)
    yield "logged in", logged_in


def directives(csp: str) -> dict[str, list[str]]:
    result = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            result[words[0]] = words[1:]
    return result


def test_every_page_sends_the_security_headers(review: Review) -> None:
    seen = 0
    for who, client in clients(review):
        for what, response in pages(client, review):
            where = (who, what, response.status_code)
            csp = directives(response["Content-Security-Policy"])
            assert csp["script-src"] == ["'self'"], where
            assert "'unsafe-inline'" not in csp["script-src"], where
            assert "'unsafe-eval'" not in csp["script-src"], where
            assert csp["default-src"] == ["'self'"], where
            assert csp["object-src"] == ["'none'"], where
            assert csp["base-uri"] == ["'none'"], where
            assert csp["frame-ancestors"] == ["'none'"], where
            assert csp["form-action"] == ["'self'"], where
            assert response["X-Frame-Options"] == "DENY", where
            assert response["X-Content-Type-Options"] == "nosniff", where
            assert response["Referrer-Policy"] == "same-origin", where
            assert response["Cross-Origin-Opener-Policy"] == "same-origin", where
            seen += 1
    assert seen > 60


@pytest.mark.ratelimit
def test_the_413_and_429_answers_send_them_too(settings, monkeypatch, review: Review) -> None:
    monkeypatch.setattr(limits, "clock", lambda: 1_000_020.0)  # one window throughout
    cache.clear()
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.ADVISOR_RATE_ANALYZE = "off"
    settings.ADVISOR_RATE_LOGIN = "1/minute"
    client = Client()
    responses = [
        client.post(reverse("analyze"), {"manifest": "#" * 5000}),
        client.post(reverse("review-comment", args=[review.slug]), {"body": "#" * 5000}),
        client.post("/api/v1/analyze", "#" * 5000, content_type="application/yaml"),
    ]
    assert [r.status_code for r in responses] == [413, 413, 413]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    settings.ADVISOR_RATE_ANALYZE = "1/minute"
    analyse = {"manifest": "a: 1", "kubernetes_version": "1.37"}
    client.post(reverse("analyze"), analyse)
    client.post(reverse("login"), {"username": "x", "password": "y"})
    responses = [
        client.post(reverse("analyze"), analyse),
        client.post(reverse("analyze"), analyse, **HTMX),
        client.post("/api/v1/analyze", "a: 1", content_type="application/yaml"),
        client.post(reverse("login"), {"username": "x", "password": "y"}),
    ]
    assert [r.status_code for r in responses] == [429, 429, 429, 429]
    cache.clear()
    for response in responses:
        assert "script-src 'self'" in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"


# --- no inline script ------------------------------------------------------------------------

SCRIPT = re.compile(r"<script\b(?P<attrs>[^>]*)>", re.IGNORECASE)
HANDLER = re.compile(r"""<[a-z][^>]*\s on[a-z]+\s*=""", re.IGNORECASE | re.VERBOSE)


def inline_scripts(text: str) -> list[str]:
    """``<script>`` tags without ``src`` that are not JSON data blocks."""
    found = []
    for match in SCRIPT.finditer(text):
        attrs = match["attrs"]
        if re.search(r"\bsrc\s*=", attrs):
            continue
        if re.search(r"""\btype\s*=\s*["']application/json["']""", attrs):
            continue
        found.append(match[0])
    return found


def templates() -> list[Path]:
    files = sorted((ROOT / "templates").rglob("*.html"))
    assert len(files) > 20
    return files


@pytest.mark.parametrize("path", templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_has_inline_script_or_handlers(path: Path) -> None:
    text = path.read_text()
    assert inline_scripts(text) == []
    assert not HANDLER.search(text), HANDLER.search(text)
    assert "javascript:" not in text.lower()


def test_no_rendered_page_has_inline_script(review: Review) -> None:
    for who, client in clients(review):
        for what, response in pages(client, review):
            if not response["Content-Type"].startswith("text/html"):
                continue
            body = response.content.decode()
            if what.startswith("GET /admin/"):
                continue  # Django's own admin pages (same CSP header, checked above)
            assert inline_scripts(body) == [], (who, what)
            assert not HANDLER.search(body), (who, what, HANDLER.search(body))


def test_chart_data_travels_as_json_script(review: Review) -> None:
    data = {"manifest": LEGACY_JOB, "kubernetes_version": "1.37"}
    body = Client().post(reverse("analyze"), data).content.decode()
    blocks = re.findall(r'<script id="[^"]+" type="application/json">(.*?)</script>', body, re.S)
    assert blocks and all(isinstance(json.loads(b), dict) for b in blocks)


# --- production cookies ----------------------------------------------------------------------

COOKIE_SETTINGS = [
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SAMESITE",
    "X_FRAME_OPTIONS",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "DEBUG",
]


def settings_in(env: dict[str, str]) -> dict[str, object]:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{k: getattr(settings, k, None) for k in {COOKIE_SETTINGS!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_settings_make_cookies_secure() -> None:
    prod = settings_in(PRODUCTION)
    assert prod == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SAMESITE": "Lax",
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "DEBUG": False,
    }
    # development keeps the cookies usable over plain http://127.0.0.1 (still HttpOnly, Lax)
    dev = settings_in({"DJANGO_SETTINGS_MODULE": "advisor.settings"})
    assert dev["SESSION_COOKIE_SECURE"] is False and dev["SESSION_COOKIE_HTTPONLY"] is True
    assert dev["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_a_production_login_sets_secure_httponly_lax_cookies(settings) -> None:
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    User.objects.create_user("ada", password=PASSWORD)
    client = Client()
    client.get(reverse("login"))  # the CSRF cookie comes with the form
    response = client.post(reverse("login"), {"username": "ada", "password": PASSWORD})
    assert response.status_code == 302
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"] is True and session["httponly"] is True
    assert session["samesite"] == "Lax"
    header = session.output(header="").strip()
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header
    csrf = response.cookies[settings.CSRF_COOKIE_NAME]  # rotated at log-in
    assert csrf["secure"] is True and csrf["samesite"] == "Lax"


def test_it_offers_no_self_service_password_reset(client) -> None:
    """A reset would need a mail server; administrators reset passwords in the admin instead."""
    assert client.get("/accounts/password_reset/").status_code == 404
