"""The JSON API: the CLI's document over HTTP, reviews with tokens or sessions, permissions."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from advisor import cli
from tests.conftest import CORPUS, FIXTURES
from webui import services
from webui.models import ApiToken, Comment, Review, Revision

pytestmark = pytest.mark.django_db

API = "/api/v1"
LEGACY_JOB = (
    CORPUS / "kubernetes__website__content__en__examples__application__job__job-sidecar-legacy.yaml"
).read_text()
NATIVE_SIDECAR = (
    FIXTURES / "manifests" / "versions-native-sidecar-requires-version.yaml"
).read_text()
SECRET_VALUE = "hunter2-correct-horse-battery"
SECRET_B64 = "aHVudGVyMi1jb3JyZWN0LWhvcnNlLWJhdHRlcnk="  # base64 of SECRET_VALUE
WITH_SECRET = f"""\
apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: {SECRET_VALUE}
---
apiVersion: v1
kind: Secret
metadata:
  name: db-b64
data:
  password: {SECRET_B64}
---
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
    - name: app
      image: nginx:1.27.2
"""
TITLE = "Confidential zebra design"
MANIFEST = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: unicorn-project-x}\n"
    "spec: {containers: [{name: app, image: nginx}]}\n"
)
ANON, OTHER, AUTHOR, STAFF = "anonymous", "other", "author", "staff"


# --- helpers -------------------------------------------------------------------------------


def make_users() -> dict[str, User | None]:
    return {
        ANON: None,
        OTHER: User.objects.create_user("other"),
        AUTHOR: User.objects.create_user("author"),
        STAFF: User.objects.create_user("staff", is_staff=True),
    }


def bearer(user: User | None) -> dict[str, str]:
    """Headers authenticating ``user`` with a fresh API token (none for anonymous)."""
    if user is None:
        return {}
    _, token = ApiToken.issue(user, "tests")
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def make_review(author: User, *, title: str = TITLE, manifest: str = MANIFEST, **kw: Any) -> Review:
    prepared = services.prepare(kind="manifest", manifest=manifest, kubernetes_version="1.37")
    return services.create_review(author=author, title=title, prepared=prepared, **kw)


def post_json(client: Client, url: str, data: Any, **extra: str) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json", **extra)


def patch_json(client: Client, url: str, data: Any, **extra: str) -> Any:
    return client.patch(url, json.dumps(data), content_type="application/json", **extra)


def cli_json(tmp_path: Any, monkeypatch: pytest.MonkeyPatch, text: str, *args: str) -> Any:
    """Run ``manage.py analyze --format json`` on ``text`` saved as 'manifest' (the API's name)."""
    (tmp_path / "manifest").write_text(text)
    monkeypatch.chdir(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["manifest", "--format", "json", *args], stdout=out, stderr=err)
    return code, json.loads(out.getvalue())


def rule_ids(document: dict[str, Any]) -> set[str]:
    return {f["rule"] for w in document["workloads"] for f in w["findings"]}


# --- analyze -------------------------------------------------------------------------------


def test_it_analyses_a_yaml_body_exactly_as_the_cli(tmp_path: Any, monkeypatch: Any) -> None:
    code, expected = cli_json(tmp_path, monkeypatch, LEGACY_JOB, "--kubernetes-version", "1.31")
    response = Client().post(
        f"{API}/analyze?kubernetes_version=1.31",
        LEGACY_JOB,
        content_type="application/yaml",
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == expected
    assert response["X-Advisor-Exit-Code"] == str(code) == "1"
    assert "classic-sidecar-blocks-job" in rule_ids(response.json())


@pytest.mark.parametrize(
    "content_type", ["text/yaml", "text/plain", "application/x-yaml", "text/plain; charset=utf-8"]
)
def test_it_accepts_every_yaml_content_type(content_type: str) -> None:
    response = Client().post(f"{API}/analyze", LEGACY_JOB, content_type=content_type)
    assert response.status_code == 200
    assert response.json()["workloads"][0]["name"] == "myjob"


def test_it_analyses_a_json_body_exactly_as_the_cli(tmp_path: Any, monkeypatch: Any) -> None:
    code, expected = cli_json(
        tmp_path,
        monkeypatch,
        LEGACY_JOB,
        "--kubernetes-version",
        "1.30",
        "--no-api-defaults",
        "--fail-on",
        "warning",
    )
    response = post_json(
        Client(),
        f"{API}/analyze?fail_on=warning",
        {"manifest": LEGACY_JOB, "kubernetes_version": "1.30", "api_defaults": False},
    )
    assert response.status_code == 200
    assert response.json() == expected
    assert expected["api_defaults"] is False and expected["kubernetes_version"] == "1.30"
    assert response["X-Advisor-Exit-Code"] == str(code)


def test_it_takes_options_from_the_query_for_a_raw_body(tmp_path: Any, monkeypatch: Any) -> None:
    _, expected = cli_json(tmp_path, monkeypatch, LEGACY_JOB, "--no-api-defaults")
    response = Client().post(
        f"{API}/analyze?api_defaults=false", LEGACY_JOB, content_type="application/yaml"
    )
    assert response.json() == expected
    assert response.json()["kubernetes_version"] == "1.37"  # the CLI's default too


def test_it_shows_the_version_gate() -> None:
    old = Client().post(
        f"{API}/analyze?kubernetes_version=1.28", NATIVE_SIDECAR, content_type="application/yaml"
    )
    new = Client().post(
        f"{API}/analyze?kubernetes_version=1.33", NATIVE_SIDECAR, content_type="application/yaml"
    )
    assert "native-sidecar-requires-version" in rule_ids(old.json())
    assert "native-sidecar-requires-version" not in rule_ids(new.json())


def test_it_reports_unreadable_documents_like_the_cli(tmp_path: Any, monkeypatch: Any) -> None:
    text = LEGACY_JOB + "\n---\nkind: [unclosed\n"
    code, expected = cli_json(tmp_path, monkeypatch, text)
    response = Client().post(f"{API}/analyze", text, content_type="application/yaml")
    assert response.status_code == 200
    assert response.json() == expected
    assert response.json()["errors"] and response.json()["workloads"]
    assert response["X-Advisor-Exit-Code"] == str(code) == "2"


def test_it_reports_invalid_utf8_as_an_error_not_a_crash() -> None:
    response = Client().post(
        f"{API}/analyze", b"kind: Pod\nname: \xff\xfe\xfa\n", content_type="application/yaml"
    )
    assert response.status_code == 200
    assert "UTF-8" in response.json()["errors"][0]["message"]
    assert response["X-Advisor-Exit-Code"] == "2"


def test_it_answers_names_in_any_script_as_utf8_json(tmp_path: Any, monkeypatch: Any) -> None:
    text = MANIFEST.replace("unicorn-project-x", "caf\u00e9-\u6f22\u5b57-\U0001f984")
    _, expected = cli_json(tmp_path, monkeypatch, text)
    response = Client().post(f"{API}/analyze", text.encode(), content_type="application/yaml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == expected
    assert "caf\u00e9-\u6f22\u5b57-\U0001f984".encode() in response.content


def test_the_document_is_json_even_where_orjson_refuses() -> None:
    """An integer past 64 bits or a lone surrogate: written by json rather than lost."""
    from webui.api import document_json

    document = {"big": 2**80, "text": "a\ud800b", "list": [1.5, None, True]}
    assert json.loads(document_json(document)) == document


def test_it_refuses_an_oversize_manifest_with_413(settings: Any) -> None:
    settings.ADVISOR_MAX_INPUT_BYTES = 1000
    big = LEGACY_JOB + "#" * 2000
    raw = Client().post(f"{API}/analyze", big, content_type="application/yaml")
    wrapped = post_json(Client(), f"{API}/analyze", {"manifest": big})
    for response in (raw, wrapped):
        assert response.status_code == 413
        assert "1000 bytes" in response.json()["detail"]


def test_it_refuses_a_body_over_djangos_limit_with_413(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post_json(Client(), f"{API}/analyze", {"manifest": LEGACY_JOB + "#" * 2000})
    assert response.status_code == 413
    assert "detail" in response.json()


@pytest.mark.parametrize(
    ("url", "body", "content_type", "where", "message"),
    [
        ("?kubernetes_version=1.20", LEGACY_JOB, "application/yaml", "kubernetes_version", "1.25"),
        ("?kubernetes_version=banana", LEGACY_JOB, "application/yaml", "kubernetes_version", ""),
        ("?api_defaults=maybe", LEGACY_JOB, "application/yaml", "api_defaults", "boolean"),
        ("?fail_on=sometimes", LEGACY_JOB, "application/yaml", "fail_on", "error"),
        ("", "", "application/yaml", "body", "no manifest"),
        ("", "   \n", "text/plain", "body", "no manifest"),
        ("", "", "application/json", "body", "no manifest"),
        ("", json.dumps({"kubernetes_version": "1.31"}), "application/json", "manifest", ""),
        ("", json.dumps({"manifest": LEGACY_JOB, "kubernetes_version": "1.2"}), "", "", "1.37"),
        ("", json.dumps({"manifest": LEGACY_JOB, "api_defaults": "maybe"}), "", "", "boolean"),
        ("", json.dumps({"manifest": "x", "assumptions": {"nope": 1}}), "", "", "unknown"),
        ("", "{not json", "application/json", "body", "invalid JSON"),
        ("", json.dumps(["a list"]), "application/json", "body", ""),
    ],
)
def test_it_answers_bad_arguments_with_422(
    url: str, body: str, content_type: str, where: str, message: str
) -> None:
    response = Client().post(
        f"{API}/analyze{url}", body, content_type=content_type or "application/json"
    )
    assert response.status_code == 422, response.content
    errors = response.json()["detail"]
    assert isinstance(errors, list) and errors
    assert where in json.dumps(errors[0]["loc"])
    assert message in errors[0]["msg"]


def test_it_refuses_other_content_types_with_415() -> None:
    response = Client().post(f"{API}/analyze", {"manifest": LEGACY_JOB})  # a form post
    assert response.status_code == 415
    assert "application/yaml" in response.json()["detail"]


def test_an_anonymous_analysis_reads_no_database_and_sets_no_cookie(
    django_assert_num_queries: Any,
) -> None:
    """No session is loaded or saved and nothing is read from the database for an anonymous
    analysis; the team catalogue is read once per process, and again only when it changes."""
    client = Client()
    client.post(f"{API}/analyze", LEGACY_JOB, content_type="application/yaml")  # the catalogue
    with django_assert_num_queries(0):
        response = client.post(f"{API}/analyze", LEGACY_JOB, content_type="application/yaml")
    assert response.status_code == 200
    assert not response.cookies and not client.cookies
    assert response["Cache-Control"] == "private, no-store"


def test_with_a_logged_in_session_analysing_needs_the_csrf_token() -> None:
    """Not callable cross-site through the user's cookie (tests/security/test_private_answers)."""
    user = User.objects.create_user("someone")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(f"{API}/analyze", LEGACY_JOB, content_type="application/yaml")
    assert response.status_code == 403


# --- OpenAPI and docs ----------------------------------------------------------------------


def test_it_publishes_an_openapi_document_with_every_path() -> None:
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Pod Pattern Advisor API"
    assert document["info"]["version"] == "1"
    methods = {path: set(ops) for path, ops in document["paths"].items()}
    assert methods == {
        f"{API}/analyze": {"post"},
        f"{API}/reviews": {"get", "post"},
        f"{API}/reviews/mine": {"get"},
        f"{API}/reviews/{{slug}}": {"get", "patch", "delete"},
        f"{API}/reviews/{{slug}}/comments": {"get", "post"},
        f"{API}/reviews/{{slug}}/comments/{{comment_id}}": {"delete"},
        f"{API}/reviews/{{slug}}/reviewers": {"post"},
        f"{API}/reviews/{{slug}}/verdicts": {"post"},
    }
    analyze = document["paths"][f"{API}/analyze"]["post"]
    assert "security" not in analyze or analyze["security"] in ([], [{}])
    body = analyze["requestBody"]["content"]
    assert {"application/json", "application/yaml", "text/plain"} <= set(body)
    schemes = document["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}


def test_it_serves_the_docs_from_local_static_files_only() -> None:
    client = Client()
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert assets, html
    for asset in assets:
        assert asset.startswith("/static/ninja/"), asset
        assert client.get(asset).status_code == 200, asset
    assert "cdn" not in html.lower() and "//" not in "".join(assets)
    # No inline script: the page must work under the site's script-src 'self'.
    for attrs in re.findall(r"<script([^>]*)>", html):
        assert "src=" in attrs or 'type="application/json"' in attrs
    assert "script-src 'self'" in response["Content-Security-Policy"]


# --- authentication ------------------------------------------------------------------------


def test_it_accepts_an_api_token_and_records_its_use() -> None:
    user = User.objects.create_user("tok")
    token_obj, token = ApiToken.issue(user, "ci")
    assert token_obj.last_used is None
    response = Client().get(f"{API}/reviews", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    token_obj.refresh_from_db()
    assert token_obj.last_used is not None


@pytest.mark.parametrize(
    "header", ["Bearer wrong", "Bearer ", "Basic dG9rOng=", "Token {token}", "Bearer {token}x"]
)
def test_it_refuses_a_wrong_token_with_401(header: str) -> None:
    user = User.objects.create_user("tok")
    _, token = ApiToken.issue(user, "ci")
    response = Client().get(f"{API}/reviews", HTTP_AUTHORIZATION=header.format(token=token))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "detail" in response.json()


def test_it_refuses_the_token_of_an_inactive_user() -> None:
    user = User.objects.create_user("gone", is_active=False)
    _, token = ApiToken.issue(user, "ci")
    response = Client().get(f"{API}/reviews", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401


def test_it_accepts_a_session_and_enforces_csrf_on_unsafe_methods() -> None:
    user = User.objects.create_user("web")
    review = make_review(user)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get(f"{API}/reviews").status_code == 200
    assert client.get(f"{API}/reviews/{review.slug}").status_code == 200
    create = {"title": "t", "manifest": MANIFEST}
    refused = [
        post_json(client, f"{API}/reviews", create),
        patch_json(client, f"{API}/reviews/{review.slug}", {"version": 1, "title": "x"}),
        client.delete(f"{API}/reviews/{review.slug}"),
        post_json(client, f"{API}/reviews/{review.slug}/comments", {"body": "hi"}),
    ]
    for response in refused:
        assert response.status_code == 403
        assert "CSRF" in response.json()["detail"]
    assert Review.objects.count() == 1 and not Comment.objects.exists()
    review.refresh_from_db()
    assert review.version == 1
    client.get(f"{API}/docs")  # any page with {% csrf_token %} sets the cookie
    csrf = {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}
    assert post_json(client, f"{API}/reviews", create, **csrf).status_code == 201
    assert client.delete(f"{API}/reviews/{review.slug}", **csrf).status_code == 204


def test_it_does_not_ask_a_token_client_for_csrf() -> None:
    user = User.objects.create_user("ci")
    client = Client(enforce_csrf_checks=True)
    response = post_json(
        client, f"{API}/reviews", {"title": "t", "manifest": MANIFEST}, **bearer(user)
    )
    assert response.status_code == 201


# --- reviews -------------------------------------------------------------------------------


def test_it_creates_reads_patches_and_deletes_a_review() -> None:
    user = User.objects.create_user("me")
    client, auth = Client(), bearer(user)
    created = post_json(
        client,
        f"{API}/reviews",
        {
            "title": "  Log shipper for myjob ",
            "description": "why",
            "manifest": LEGACY_JOB,
            "kubernetes_version": "v1.31.2",
            "tags": ["Batch", "logging"],
            "status": "in-review",
        },
        **auth,
    )
    assert created.status_code == 201, created.content
    review = created.json()
    slug = review["slug"]
    assert review["title"] == "Log shipper for myjob"
    assert review["kubernetes_version"] == "1.31"
    assert review["tags"] == ["batch", "logging"]
    assert review["status"] == "in-review"
    assert review["author"] == "me"
    assert review["version"] == 1
    assert review["url"] == f"/r/{slug}/"
    assert "classic-sidecar-blocks-job" in review["rule_ids"]
    assert review["snapshot"]["kubernetes_version"] == "1.31"
    assert [r["number"] for r in review["revisions"]] == [1]
    assert review["redactions"] == []

    read = client.get(f"{API}/reviews/{slug}", **auth).json()
    assert read == review

    renamed = patch_json(client, f"{API}/reviews/{slug}", {"version": 1, "title": "New"}, **auth)
    assert renamed.status_code == 200, renamed.content
    assert renamed.json()["title"] == "New" and renamed.json()["version"] == 2
    assert len(renamed.json()["revisions"]) == 1  # metadata only: no new revision

    fixed = LEGACY_JOB.replace("tail -F", "cat")
    revised = patch_json(
        client,
        f"{API}/reviews/{slug}",
        {"version": 2, "manifest": fixed, "note": "stop tailing", "tags": ["batch"]},
        **auth,
    ).json()
    assert revised["version"] == 3
    assert revised["manifest"] == fixed
    assert revised["tags"] == ["batch"]
    assert [(r["number"], r["note"]) for r in revised["revisions"]] == [
        (1, "created"),
        (2, "stop tailing"),
    ]
    assert Revision.objects.filter(review__slug=slug).count() == 2

    stale = patch_json(client, f"{API}/reviews/{slug}", {"version": 2, "title": "Mine"}, **auth)
    assert stale.status_code == 409
    body = stale.json()
    assert "version 3" in body["detail"]
    assert body["current"]["title"] == "New" and body["current"]["version"] == 3
    assert body["current"]["manifest"] == fixed
    assert Review.objects.get(slug=slug).title == "New"

    own = patch_json(client, f"{API}/reviews/{slug}", {"version": 3, "status": "approved"}, **auth)
    assert own.status_code == 403 and "own review" in own.json()["detail"]
    status = patch_json(
        client, f"{API}/reviews/{slug}", {"version": 3, "status": "in-review"}, **auth
    )
    assert status.json()["status"] == "in-review" and status.json()["version"] == 4

    assert client.delete(f"{API}/reviews/{slug}", **auth).status_code == 204
    assert client.get(f"{API}/reviews/{slug}", **auth).status_code == 404
    # A soft delete: the author can restore it with its revisions.
    assert Review.all_objects.get(slug=slug).deleted_at is not None
    assert Revision.objects.filter(review__slug=slug).exists()


def test_it_makes_a_new_revision_when_only_the_version_changes() -> None:
    user = User.objects.create_user("me")
    review = make_review(user, manifest=NATIVE_SIDECAR)
    assert "native-sidecar-requires-version" not in review.rule_ids
    response = patch_json(
        Client(),
        f"{API}/reviews/{review.slug}",
        {"version": 1, "kubernetes_version": "1.28"},
        **bearer(user),
    )
    body = response.json()
    assert body["kubernetes_version"] == "1.28"
    assert "native-sidecar-requires-version" in body["rule_ids"]
    assert len(body["revisions"]) == 2


def test_it_saves_a_questionnaire_review() -> None:
    user = User.objects.create_user("me")
    client, auth = Client(), bearer(user)
    response = post_json(
        client,
        f"{API}/reviews",
        {
            "title": "Which pattern for the proxy?",
            "kind": "questionnaire",
            "answers": {"need": "outbound-proxy", "workload": "service"},
            "kubernetes_version": "1.30",
        },
        **auth,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "questionnaire" and body["pattern"]
    assert body["answers"]["kubernetes_version"] == "1.30"
    bad = post_json(
        client,
        f"{API}/reviews",
        {"title": "x", "kind": "questionnaire", "answers": {"need": "teleport"}},
        **auth,
    )
    assert bad.status_code == 422
    assert "need" in bad.json()["detail"][0]["msg"]
    later = patch_json(
        client,
        f"{API}/reviews/{body['slug']}",
        {"version": 1, "kubernetes_version": "1.27"},
        **auth,
    ).json()
    assert (
        later["kubernetes_version"] == "1.27" and later["answers"]["kubernetes_version"] == "1.27"
    )


@pytest.mark.parametrize(
    "data",
    [
        {"manifest": MANIFEST},  # no title
        {"title": "  ", "manifest": MANIFEST},
        {"title": "t"},  # no manifest
        {"title": "t", "manifest": MANIFEST, "kubernetes_version": "1.99"},
        {"title": "t", "manifest": MANIFEST, "status": "done"},
        {"title": "t", "manifest": MANIFEST, "kind": "novel"},
        {"title": "t", "manifest": MANIFEST, "tags": ["no spaces"]},
        {"title": "t", "kind": "questionnaire"},
    ],
)
def test_it_validates_a_new_review(data: dict[str, Any]) -> None:
    user = User.objects.create_user("me")
    response = post_json(Client(), f"{API}/reviews", data, **bearer(user))
    assert response.status_code == 422
    assert not Review.objects.exists()


def test_it_refuses_an_oversize_review_manifest(settings: Any) -> None:
    settings.ADVISOR_MAX_INPUT_BYTES = 1000
    user = User.objects.create_user("me")
    response = post_json(
        Client(),
        f"{API}/reviews",
        {"title": "t", "manifest": MANIFEST + "#" * 2000},
        **bearer(user),
    )
    assert response.status_code == 413
    assert not Review.objects.exists()


def test_it_needs_the_version_to_patch() -> None:
    user = User.objects.create_user("me")
    review = make_review(user)
    response = patch_json(Client(), f"{API}/reviews/{review.slug}", {"title": "x"}, **bearer(user))
    assert response.status_code == 422
    assert "version" in json.dumps(response.json()["detail"])


def test_it_lists_reviews_with_filters_and_pages() -> None:
    people = make_users()
    author, other = people[AUTHOR], people[OTHER]
    assert author is not None and other is not None
    prepared = services.prepare(kind="manifest", manifest=MANIFEST, kubernetes_version="1.37")
    for n in range(23):
        services.create_review(author=author, title=f"Plain {n}", prepared=prepared)
    legacy = services.prepare(kind="manifest", manifest=LEGACY_JOB, kubernetes_version="1.30")
    services.create_review(
        author=other,
        title="Log shipper",
        description="a job that never ends",
        prepared=legacy,
        tags=["batch"],
        status="approved",
    )
    client, auth = Client(), bearer(other)

    def titles(query: str) -> list[str]:
        response = client.get(f"{API}/reviews{query}", **auth)
        assert response.status_code == 200, response.content
        return [r["title"] for r in response.json()["items"]]

    first = client.get(f"{API}/reviews", **auth).json()
    assert (first["count"], first["pages"], first["page"], first["page_size"]) == (24, 2, 1, 20)
    assert len(first["items"]) == 20 and first["items"][0]["title"] == "Log shipper"
    assert "manifest" not in first["items"][0] and "snapshot" not in first["items"][0]
    assert len(titles("?page=2")) == 4
    assert titles("?page=3") == []
    assert client.get(f"{API}/reviews?page=0", **auth).status_code == 422
    assert titles("?q=NEVER+ends") == ["Log shipper"]
    assert titles("?status=approved") == ["Log shipper"]
    assert titles("?tag=batch") == ["Log shipper"]
    assert titles("?author=other") == ["Log shipper"]
    assert titles("?kubernetes_version=1.30") == ["Log shipper"]
    assert titles("?rule=classic-sidecar-blocks-job") == ["Log shipper"]
    pattern = Review.objects.get(title="Log shipper").pattern
    assert pattern and "Log shipper" in titles(f"?pattern={pattern}")
    assert len(titles("?author=author&page=2")) == 3
    assert titles("?author=nobody") == []


# --- comments ------------------------------------------------------------------------------


def test_it_adds_lists_and_deletes_comments() -> None:
    people = make_users()
    author, other, staff = people[AUTHOR], people[OTHER], people[STAFF]
    assert author is not None and other is not None and staff is not None
    review = make_review(author)
    client = Client()
    url = f"{API}/reviews/{review.slug}/comments"
    added = post_json(client, url, {"body": "  <b>why</b> not native?  "}, **bearer(other))
    assert added.status_code == 201
    comment = added.json()
    assert comment["author"] == "other" and comment["body"] == "<b>why</b> not native?"
    post_json(client, url, {"body": "because"}, **bearer(author))
    listed = client.get(url, **bearer(author)).json()
    assert [c["body"] for c in listed] == ["<b>why</b> not native?", "because"]
    assert post_json(client, url, {"body": "   "}, **bearer(other)).status_code == 422
    # The review's author may not delete someone else's comment; its author and staff may.
    assert client.delete(f"{url}/{comment['id']}", **bearer(author)).status_code == 403
    assert client.delete(f"{url}/{comment['id']}", **bearer(other)).status_code == 204
    assert client.delete(f"{url}/{comment['id']}", **bearer(other)).status_code == 404
    assert client.delete(f"{url}/{listed[1]['id']}", **bearer(staff)).status_code == 204
    assert client.get(url, **bearer(other)).json() == []


def test_it_does_not_delete_a_comment_through_another_review() -> None:
    user = User.objects.create_user("me")
    first, second = make_review(user), make_review(user, title="Second")
    comment = Comment.objects.create(review=first, author=user, body="hi")
    url = f"{API}/reviews/{second.slug}/comments/{comment.pk}"
    assert Client().delete(url, **bearer(user)).status_code == 404
    assert Comment.objects.filter(pk=comment.pk).exists()


# --- permissions ---------------------------------------------------------------------------

NEW = {"title": "t", "manifest": MANIFEST}
RENAME, APPROVE = {"version": 1, "title": "x"}, {"version": 1, "status": "in-review"}
REVISE = {"version": 1, "manifest": MANIFEST + "#"}
# method, path, body, then the expected status for: anonymous, other user, author, staff
MATRIX = [
    ("post", "/analyze", MANIFEST, (200, 200, 200, 200)),
    ("get", "/reviews", None, (401, 200, 200, 200)),
    ("get", "/reviews/mine", None, (401, 200, 200, 200)),
    ("post", "/reviews", NEW, (401, 201, 201, 201)),
    ("get", "/reviews/{slug}", None, (401, 200, 200, 200)),
    ("patch", "/reviews/{slug}", RENAME, (401, 403, 200, 200)),
    ("patch", "/reviews/{slug}", APPROVE, (401, 403, 200, 200)),
    ("patch", "/reviews/{slug}", REVISE, (401, 403, 200, 200)),
    ("delete", "/reviews/{slug}", None, (401, 403, 204, 204)),
    ("get", "/reviews/{slug}/comments", None, (401, 200, 200, 200)),
    ("post", "/reviews/{slug}/comments", {"body": "hi"}, (401, 201, 201, 201)),
    ("delete", "/reviews/{slug}/comments/{comment}", None, (401, 403, 204, 204)),
    ("post", "/reviews/{slug}/reviewers", {"reviewers": ["other"]}, (401, 403, 200, 200)),
    ("post", "/reviews/{slug}/verdicts", {"verdict": "approve"}, (401, 201, 403, 201)),
]
WHO = (ANON, OTHER, AUTHOR, STAFF)
MISSING = "does-not-exist-0123456789"


def request(client: Client, method: str, url: str, body: Any, auth: dict[str, str]) -> Any:
    if isinstance(body, str):
        return client.post(url, body, content_type="application/yaml", **auth)
    if body is None:
        return getattr(client, method)(url, **auth)
    return getattr(client, method)(url, json.dumps(body), content_type="application/json", **auth)


def assert_no_leak(response: Any, review: Review) -> None:
    text = response.content.decode()
    assert TITLE not in text
    assert "unicorn-project-x" not in text
    assert review.slug not in text


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    MATRIX,
    ids=[f"{m} {p} {'+'.join(b) if isinstance(b, dict) else ''}" for m, p, b, _ in MATRIX],
)
@pytest.mark.parametrize("who", WHO)
def test_it_enforces_the_permission_matrix(
    method: str, path: str, body: Any, expected: tuple[int, ...], who: str
) -> None:
    people = make_users()
    author = people[AUTHOR]
    assert author is not None
    review = make_review(author, tags=["ops"])
    comment = Comment.objects.create(review=review, author=author, body="mine")
    url = API + path.format(slug=review.slug, comment=comment.pk)
    auth = bearer(people[who])
    # CSRF checks on, as in a browser: anonymous gets 401 (not a CSRF 403), tokens need none.
    client = Client(enforce_csrf_checks=True)
    response = request(client, method, url, body, auth)
    assert response.status_code == expected[WHO.index(who)], response.content
    if response.status_code in (401, 403):
        assert_no_leak(response, review)
        review.refresh_from_db()
        assert review.title == TITLE and review.version == 1
        assert Comment.objects.filter(pk=comment.pk).exists()
    if "{slug}" in path and who != ANON:
        # An unknown review is 404 for everyone logged in, whatever the method.
        missing = request(client, method, url.replace(review.slug, MISSING), body, auth)
        assert missing.status_code == 404, missing.content
        assert_no_leak(missing, review)
    if "{comment}" in path and who != ANON:
        gone_url = url.rpartition("/")[0] + "/999999"
        gone = request(client, method, gone_url, body, auth)
        assert gone.status_code == 404


# --- secrets -------------------------------------------------------------------------------


def stored_text(slug: str) -> str:
    review = Review.objects.get(slug=slug)
    revisions = list(Revision.objects.filter(review=review).values())
    return json.dumps([review.manifest, review.snapshot, review.redactions, revisions], default=str)


def test_it_redacts_secrets_on_create_by_default() -> None:
    user = User.objects.create_user("me")
    response = post_json(
        Client(),
        f"{API}/reviews",
        {"title": "with a secret", "manifest": WITH_SECRET},
        **bearer(user),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["redact_secrets"] is True
    assert body["redactions"]
    for leaked in (SECRET_VALUE, SECRET_B64):
        assert leaked not in response.content.decode()
        assert leaked not in stored_text(body["slug"])
    assert "kind: Secret" in body["manifest"]  # redacted, not dropped


def test_it_redacts_a_new_manifest_on_patch() -> None:
    user = User.objects.create_user("me")
    review = make_review(user)
    response = patch_json(
        Client(),
        f"{API}/reviews/{review.slug}",
        {"version": 1, "manifest": WITH_SECRET},
        **bearer(user),
    )
    assert response.status_code == 200
    assert response.json()["redactions"]
    assert SECRET_VALUE not in response.content.decode()
    assert SECRET_VALUE not in stored_text(review.slug)


def test_it_keeps_secrets_when_asked_not_to_redact() -> None:
    user = User.objects.create_user("me")
    response = post_json(
        Client(),
        f"{API}/reviews",
        {"title": "as is", "manifest": WITH_SECRET, "redact_secrets": False},
        **bearer(user),
    )
    body = response.json()
    assert response.status_code == 201
    assert body["redact_secrets"] is False and body["redactions"] == []
    assert body["manifest"] == WITH_SECRET
    assert SECRET_VALUE in stored_text(body["slug"])


@pytest.mark.django_db
def test_it_answers_503_with_retry_after_when_the_database_is_down(monkeypatch) -> None:
    from django.contrib.auth.models import User
    from django.db import OperationalError

    from webui.models import ApiToken

    user = User.objects.create_user("db-down", password="x-123456789")
    _, token = ApiToken.issue(user, "t")

    def unavailable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("webui.api.Review.objects.select_related", unavailable)
    response = Client().get("/api/v1/reviews", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "unavailable" in response.json()["detail"]
