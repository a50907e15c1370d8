"""CSRF: every state-changing form and API method is refused without a token and accepted with one.

The URL patterns are enumerated from the resolver, and every one must be classified here: a new
endpoint that accepts POST cannot slip through without a CSRF test. The analyser's form
(``POST /analyze/``) stores nothing but is an ordinary Django form, so it requires the token like
every other form; ``POST /api/v1/analyze`` is the one deliberate exemption (README "JSON API":
anonymous and token clients have no token to send, and it stores nothing).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.conftest import CORPUS, ROOT
from webui import exchange, services
from webui.models import Comment, Review

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
MANIFEST = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n"
    "spec: {containers: [{name: app, image: nginx}]}\n"
)
LEGACY_JOB = (
    CORPUS / "kubernetes__website__content__en__examples__application__job__job-sidecar-legacy.yaml"
).read_text()
FIX = '{"rule": "classic-sidecar-blocks-job", "document": 1, "container": "logshipper"}'
API = "/api/v1"


@dataclass
class World:
    author: User
    review: Review
    comment: Comment


@pytest.fixture
def world() -> World:
    author = User.objects.create_user(
        "author", email="author@example.com", password=PASSWORD, is_staff=True, is_superuser=True
    )
    prepared = services.prepare(kind="manifest", manifest=MANIFEST, kubernetes_version="1.37")
    review = services.create_review(author=author, title="Web", prepared=prepared)
    comment = Comment.objects.create(review=review, author=author, body="mine")
    return World(author, review, comment)


def reset_args(w: World) -> list[str]:
    uid = urlsafe_base64_encode(force_bytes(w.author.pk))
    return [uid, default_token_generator.make_token(w.author)]


def others_review(w: World) -> Review:
    """A review someone else wrote (the logged-in author may give it a verdict)."""
    other, _ = User.objects.get_or_create(username="colleague")
    prepared = services.prepare(kind="manifest", manifest=MANIFEST, kubernetes_version="1.37")
    return services.create_review(author=other, title="Theirs", prepared=prepared)


def requested(w: World) -> User:
    """A reviewer the author asked for."""
    rita, _ = User.objects.get_or_create(username="rita")
    services.request_review(w.review, by=w.author, reviewers=[rita])
    return rita


def deleted_review(w: World) -> Review:
    prepared = services.prepare(kind="manifest", manifest=MANIFEST, kubernetes_version="1.37")
    review = services.create_review(author=w.author, title="Binned", prepared=prepared)
    return services.soft_delete(review, by=w.author)


# url name -> (URL arguments, form data, status with a valid token). Each is a POST.
Case = tuple[Callable[[World], list[Any]], Callable[[World], dict[str, Any]], int]
COVERED_POST: dict[str, Case] = {
    "analyze": (lambda w: [], lambda w: {"manifest": MANIFEST, "kubernetes_version": "1.37"}, 200),
    "fix": (
        lambda w: [],
        lambda w: {"manifest": LEGACY_JOB, "kubernetes_version": "1.37", "fix": FIX},
        200,
    ),
    "review-save": (
        lambda w: [],
        lambda w: {"title": "t", "manifest": MANIFEST, "kubernetes_version": "1.37"},
        302,
    ),
    "review-edit": (
        lambda w: [w.review.slug],
        lambda w: {
            "title": "t2",
            "manifest": MANIFEST,
            "kubernetes_version": "1.37",
            "version": w.review.version,
        },
        302,
    ),
    "review-status": (
        lambda w: [w.review.slug],
        lambda w: {"status": "in-review", "version": w.review.version},
        302,
    ),
    "review-delete": (lambda w: [w.review.slug], lambda w: {}, 302),
    "review-comment": (lambda w: [w.review.slug], lambda w: {"body": "hello"}, 302),
    "review-comment-delete": (lambda w: [w.review.slug, w.comment.pk], lambda w: {}, 302),
    "review-reanalyse": (
        lambda w: [w.review.slug],
        lambda w: {"version": w.review.version},
        302,
    ),
    "review-restore": (lambda w: [deleted_review(w).slug], lambda w: {}, 302),
    "review-reviewers": (
        lambda w: [User.objects.get_or_create(username="colleague")[0] and w.review.slug],
        lambda w: {"reviewers": "colleague"},
        302,
    ),
    "review-reviewer-withdraw": (lambda w: [w.review.slug, requested(w).pk], lambda w: {}, 302),
    "review-verdict": (
        lambda w: [others_review(w).slug],
        lambda w: {"verdict": "approve", "body": "fine"},
        302,
    ),
    "review-comment-resolve": (
        lambda w: [w.review.slug, w.comment.pk],
        lambda w: {"resolved": "1"},
        302,
    ),
    "review-secrets": (lambda w: [w.review.slug], lambda w: {"action": "redact"}, 302),
    "review-import": (
        lambda w: [],
        lambda w: {
            "document": json.dumps(exchange.review_document(w.review)),
            "existing": "copy",
        },
        302,
    ),
    # A many-workloads result the cache lost: the page posts the box's text to render one.
    "analyze-workload": (
        lambda w: ["lost-result", 0],
        lambda w: {"manifest": MANIFEST, "kubernetes_version": "1.37"},
        200,
    ),
    "login": (lambda w: [], lambda w: {"username": "author", "password": PASSWORD}, 302),
    "admin-login": (lambda w: [], lambda w: {"username": "author", "password": PASSWORD}, 302),
    "logout": (lambda w: [], lambda w: {}, 302),
    "password_change": (
        lambda w: [],
        lambda w: {
            "old_password": PASSWORD,
            "new_password1": "Another-l0ng-passphrase",
            "new_password2": "Another-l0ng-passphrase",
        },
        302,
    ),
}

# Pages that only read: POST (with a valid token) is 405.
GET_ONLY: dict[str, Callable[[World], list[Any]]] = {
    "home": lambda w: [],
    "questionnaire": lambda w: [],
    "rules": lambda w: [],
    "patterns": lambda w: [],
    "pattern": lambda w: ["native-sidecar"],
    "review": lambda w: [w.review.slug],
    "review-history": lambda w: [w.review.slug],
    "reviews-mine": lambda w: [],
    "review-manifest": lambda w: [w.review.slug],
    "reviews-deleted": lambda w: [],
    "review-workload": lambda w: [w.review.slug, 0],
    "reviews": lambda w: [],
    "review-stats": lambda w: [],
    "rule-reviews": lambda w: ["classic-sidecar-blocks-job"],
    "review-export-md": lambda w: [w.review.slug],
    "review-export-json": lambda w: [w.review.slug],
    "password_change_done": lambda w: [],
    "healthz": lambda w: [],
    "metrics": lambda w: [],
}

# Deliberately exempt, with the reason.
CSRF_EXEMPT = {
    "api:analyze": "stores nothing; anonymous and token clients have no CSRF token (README); "
    "a logged-in session must send it (tests/security/test_private_answers.py)",
}

# API operations with a side effect: (method, path, JSON body, status with a valid token).
API_UNSAFE: dict[str, Callable[[World], tuple[str, str, dict[str, Any] | None, int]]] = {
    "api:create_review": lambda w: (
        "post",
        f"{API}/reviews",
        {"title": "t", "manifest": MANIFEST},
        201,
    ),
    "api:patch_review": lambda w: (
        "patch",
        f"{API}/reviews/{w.review.slug}",
        {"version": w.review.version, "title": "t2"},
        200,
    ),
    "api:delete_review": lambda w: ("delete", f"{API}/reviews/{w.review.slug}", None, 204),
    "api:add_comment": lambda w: (
        "post",
        f"{API}/reviews/{w.review.slug}/comments",
        {"body": "hi"},
        201,
    ),
    "api:request_reviewers": lambda w: (
        "post",
        f"{API}/reviews/{w.review.slug}/reviewers",
        {"reviewers": [User.objects.get_or_create(username="colleague")[0].username]},
        200,
    ),
    "api:give_verdict": lambda w: (
        "post",
        f"{API}/reviews/{others_review(w).slug}/verdicts",
        {"verdict": "approve"},
        201,
    ),
    "api:delete_comment": lambda w: (
        "delete",
        f"{API}/reviews/{w.review.slug}/comments/{w.comment.pk}",
        None,
        204,
    ),
}
# API reads; their paths' unsafe methods are the operations above (or 405).
API_READ = {
    "api:openapi-json",
    "api:openapi-view",
    "api:api-root",
    "api:list_reviews",
    "api:my_reviews",
    "api:read_review",
    "api:list_comments",
}


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", "" when the pattern has none
    route: str
    module: str


def routes(patterns: list[Any] | None = None, prefix: str = "", ns: str = "") -> Iterator[Route]:
    """Every URL pattern of the project, with its full name and route."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            inner = f"{ns}{p.namespace}:" if p.namespace else ns
            yield from routes(p.url_patterns, prefix + str(p.pattern), inner)
        elif isinstance(p, URLPattern):
            name = f"{ns}{p.name}" if p.name else ""
            yield Route(name, prefix + str(p.pattern), getattr(p.callback, "__module__", ""))


def csrf_client(user: User | None, token: bool) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    if token:
        client.cookies["csrftoken"] = SECRET
    return client


SECRET = _get_new_csrf_string()


# --- every pattern is classified ---------------------------------------------------------------


def test_every_url_pattern_is_classified() -> None:
    classified = set(COVERED_POST) | set(GET_ONLY) | set(CSRF_EXEMPT)
    classified |= set(API_UNSAFE) | API_READ
    missing = []
    for r in routes():
        if r.name.startswith("admin:") or r.route.startswith("admin/"):
            # Django's admin: every view is csrf_protect'ed (tested below on two of them).
            assert r.module.startswith("django."), r
            continue
        if r.name not in classified:
            missing.append(r)
    assert not missing, f"classify these URL patterns in tests/security/test_csrf.py: {missing}"
    names = {r.name for r in routes()}
    assert classified <= names, f"stale entries: {classified - names}"


# --- forms -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(COVERED_POST))
def test_a_form_without_a_token_is_refused(world: World, name: str) -> None:
    args, data, _ = COVERED_POST[name]
    for user in (world.author, None):
        client = csrf_client(user, token=False)
        response = client.post(reverse(name, args=args(world)), data(world))
        assert response.status_code == 403, (name, user)
    # a token in the form that does not match the cookie is no better
    client = csrf_client(world.author, token=True)
    wrong = {**data(world), "csrfmiddlewaretoken": _get_new_csrf_string()}
    assert client.post(reverse(name, args=args(world)), wrong).status_code == 403
    # the header alone without the cookie neither
    client = csrf_client(world.author, token=False)
    headers = {"HTTP_X_CSRFTOKEN": SECRET}
    assert client.post(reverse(name, args=args(world)), data(world), **headers).status_code == 403


@pytest.mark.parametrize("name", sorted(COVERED_POST))
@pytest.mark.parametrize("where", ["form", "header"])
@pytest.mark.filterwarnings("ignore:Django 2028 will not have a default mailer")
def test_a_form_with_a_token_is_accepted(world: World, name: str, where: str) -> None:
    args, data, expected = COVERED_POST[name]
    client = csrf_client(world.author, token=True)
    body = data(world)
    extra: dict[str, str] = {}
    if where == "form":
        body["csrfmiddlewaretoken"] = SECRET
    else:
        extra["HTTP_X_CSRFTOKEN"] = SECRET  # what htmx sends (hx-headers on <body>)
    response = client.post(reverse(name, args=args(world)), body, **extra)
    assert response.status_code == expected, (name, response.content[:300])


@pytest.mark.parametrize("name", sorted(GET_ONLY))
def test_a_read_only_page_refuses_post_with_405(settings, world: World, name: str) -> None:
    settings.ADVISOR_METRICS = True  # /metrics is 404 while off
    client = csrf_client(world.author, token=True)
    url = reverse(name, args=GET_ONLY[name](world))
    assert client.get(url).status_code == 200, name
    response = client.post(url, {"csrfmiddlewaretoken": SECRET})
    assert response.status_code == 405, name


def test_the_admin_checks_the_token_too(world: World) -> None:
    refused = csrf_client(world.author, token=False)
    assert refused.post(reverse("admin:webui_tag_add"), {"name": "x"}).status_code == 403
    assert refused.post(reverse("admin:logout")).status_code == 403
    accepted = csrf_client(world.author, token=True)
    data = {"name": "x", "csrfmiddlewaretoken": SECRET}
    assert accepted.post(reverse("admin:webui_tag_add"), data).status_code == 302


# --- API -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(API_UNSAFE))
def test_an_api_change_under_session_auth_needs_the_token(world: World, name: str) -> None:
    method, url, body, expected = API_UNSAFE[name](world)
    payload = json.dumps(body) if body is not None else ""
    refused = getattr(csrf_client(world.author, token=False), method)(
        url, payload, content_type="application/json"
    )
    assert refused.status_code == 403, name
    assert "CSRF" in refused.json()["detail"]
    client = csrf_client(world.author, token=True)
    accepted = getattr(client, method)(
        url, payload, content_type="application/json", HTTP_X_CSRFTOKEN=SECRET
    )
    assert accepted.status_code == expected, (name, accepted.content[:300])


def test_no_unsafe_api_method_works_with_a_session_and_no_token(world: World) -> None:
    """Every API path and every unsafe method: 403 or 405 without a token, never a change."""
    paths = {
        r.route.replace("<slug>", world.review.slug).replace("<comment_id>", str(world.comment.pk))
        for r in routes()
        if r.name.startswith("api:") and r.name not in CSRF_EXEMPT
    }
    client = csrf_client(world.author, token=False)
    for path in sorted(paths):
        for method in ("post", "put", "patch", "delete"):
            response = getattr(client, method)(f"/{path}", "{}", content_type="application/json")
            assert response.status_code in (403, 405), (method, path)
    assert Review.objects.filter(pk=world.review.pk).exists()
    assert Comment.objects.filter(pk=world.comment.pk).exists()


def test_an_api_token_needs_no_csrf_token(world: World) -> None:
    from webui.models import ApiToken

    _, token = ApiToken.issue(world.author, "ci")
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"{API}/reviews/{world.review.slug}/comments",
        {"body": "from CI"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 201


def test_the_exempt_analysis_endpoint_stores_nothing() -> None:
    before = Review.objects.count()
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"{API}/analyze", MANIFEST, content_type="application/yaml")
    assert response.status_code == 200
    assert Review.objects.count() == before


# --- templates -----------------------------------------------------------------------------

FORM = re.compile(r"<form\b(?P<attrs>[^>]*)>(?P<body>.*?)</form>", re.DOTALL | re.IGNORECASE)


def test_every_post_form_in_the_templates_carries_the_token() -> None:
    checked = 0
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for match in FORM.finditer(path.read_text()):
            if re.search(r'method\s*=\s*"post"', match["attrs"], re.IGNORECASE):
                checked += 1
                assert "{% csrf_token %}" in match["body"], (path.relative_to(ROOT), match[0][:200])
    assert checked >= 10


def test_htmx_requests_carry_the_token_in_a_header() -> None:
    base = Path(ROOT / "templates" / "base.html").read_text()
    assert """hx-headers='{"X-CSRFToken": "{{ csrf_token }}"}'""" in base
