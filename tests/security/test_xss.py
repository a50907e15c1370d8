"""XSS: hostile text in every user-supplied field, on every page showing it, never becomes markup.

Fields: the manifest's names (workload, namespace, labels, annotations, containers, images, env
names, volumes, the ignore annotation), a review's title, description, tags and revision notes,
comment bodies, user names, the questionnaire's starter names and answers, import documents,
search filters and the log-in page's ``next``. Pages: the analyser's result (page and fragment),
the fix, the questionnaire, a review's page, edit form, history, re-analysis, the review list
(page and fragment), a rule's reviews, statistics (chart JSON and labels), Markdown and JSON
export, the import page, and the API (JSON, never HTML).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from webui import services
from webui.models import Comment, Review

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
]
JS_LINK = "javascript:alert(1)"
HTMX = {"HTTP_HX_REQUEST": "true"}
SIDECAR_RULE = "classic-sidecar-blocks-job"

JSON_SCRIPT = re.compile(
    r"<script\b[^>]*\btype=\"application/json\"[^>]*>(?P<json>.*?)</script>", re.DOTALL
)
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster"}


class Audit(HTMLParser):
    """What a browser would build from the page: elements and attributes, not text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}>: an event handler")
            link = (value or "").strip().lower().replace("\t", "").replace("\n", "")
            if name in URL_ATTRIBUTES and link.startswith(("javascript:", "vbscript:")):
                self.problems.append(f"<{tag} {name}={value!r}>: a script URL")
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self.problems.append(f"<script {attrs}>: inline script")
        if tag in ("iframe", "object", "embed", "base"):
            self.problems.append(f"<{tag}>")


def yaml_quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def hostile_manifest(payload: str) -> str:
    """A Job whose every name is ``payload``; its log shipper is a classic sidecar (fixable)."""
    p = yaml_quoted(payload)
    pb = yaml_quoted(payload + "b")
    return f"""\
apiVersion: batch/v1
kind: Job
metadata:
  name: {p}
  namespace: {p}
  labels: {{app: {p}, {p}: x}}
  annotations: {{note: {p}, {p}: {p}, pod-advisor.io/ignore: {p}}}
spec:
  template:
    metadata:
      labels: {{app: {p}}}
    spec:
      restartPolicy: Never
      containers:
      - name: {p}
        image: {p}
        command: ['sh', '-c', {p}]
        env:
        - {{name: {p}, value: {p}}}
        volumeMounts:
        - {{name: {p}, mountPath: /data}}
      - name: {pb}
        image: busybox
        command: ['sh', '-c', 'tail -F /data/log']
        volumeMounts:
        - {{name: {p}, mountPath: /data}}
      volumes:
      - name: {p}
        emptyDir: {{}}
"""


# --- checks --------------------------------------------------------------------------------


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def assert_safe_html(response: HttpResponse, payload: str, where: str) -> str:
    """An HTML answer in which ``payload`` is text, never markup; returns the body."""
    assert response["Content-Type"].startswith("text/html"), where
    body = response.content.decode()
    assert payload not in body, where
    assert "<script>alert" not in body.lower(), where
    audit = Audit()
    audit.feed(body)
    audit.close()
    assert audit.problems == [], where
    for block in JSON_SCRIPT.finditer(body):
        text = block["json"]
        # json_script escapes <, > and & inside the block, so nothing in it can close the tag
        assert "<" not in text and ">" not in text, where
        for s in strings(json.loads(text)):
            # plotly renders HTML in labels and hovers: the payload is HTML-escaped in there too
            if "alert(1)" in s:
                assert "<" not in s and '"' not in s, (where, s)
    return body


def assert_json(response: HttpResponse, where: str) -> Any:
    """A JSON answer (so never rendered as HTML by a browser)."""
    assert response["Content-Type"].startswith("application/json"), where
    assert response["X-Content-Type-Options"] == "nosniff", where
    return json.loads(response.content)


# --- fixtures ------------------------------------------------------------------------------


def hostile_world(payload: str) -> tuple[User, Review]:
    """A review with every user-supplied field hostile, by a user with a hostile name."""
    author = User.objects.create_user(payload, password="x-123456789")
    other = User.objects.create_user("other" + payload, password="x-123456789")
    manifest = hostile_manifest(payload)
    prepared = services.prepare(kind="manifest", manifest=manifest, kubernetes_version="1.37")
    review = services.create_review(
        author=author,
        title=payload,
        description=f'{payload}\n{JS_LINK}\n[x]({JS_LINK}) <a href="{JS_LINK}">y</a>',
        tags=[payload, "ok-tag"],
        prepared=prepared,
    )
    second = services.prepare(
        kind="manifest",
        manifest=manifest.replace("tail -F", f"tail -F {payload}"),
        kubernetes_version="1.31",
    )
    review = services.revise(
        review, author=other, expected_version=review.version, prepared=second, note=payload
    )
    for body in (payload, JS_LINK, f'<a href="{JS_LINK}">click</a> {JS_LINK}'):
        Comment.objects.create(review=review, author=other, body=body)
    return author, review


@pytest.fixture(params=PAYLOADS, ids=["script", "img", "svg"])
def payload(request: pytest.FixtureRequest) -> str:
    return request.param


# --- the analyser, the fix, the questionnaire ----------------------------------------------


def test_the_analysers_result_is_escaped(payload: str) -> None:
    client = Client()
    data = {
        "manifest": hostile_manifest(payload),
        "kubernetes_version": "1.37",
        "api_defaults": "on",
    }
    page = client.post(reverse("analyze"), data)
    assert page.status_code == 200
    body = assert_safe_html(page, payload, "analyse page")
    assert escape(payload) in body and SIDECAR_RULE in body
    assert len(JSON_SCRIPT.findall(body)) >= 3  # the charts
    fragment = client.post(reverse("analyze"), data, **HTMX)
    assert "<html" not in assert_safe_html(fragment, payload, "analyse fragment")
    # what-if: the same with an assumption changed (the fieldset's own request)
    what_if = client.post(reverse("analyze"), {**data, "init_run_seconds": "3"}, **HTMX)
    assert_safe_html(what_if, payload, "what-if")
    # an error message quoting the input
    broken = client.post(
        reverse("analyze"), {**data, "manifest": f"kind: Pod\nmetadata: {{name: [{payload}\n"}
    )
    assert_safe_html(broken, payload, "unreadable manifest")


def test_the_fix_is_escaped(payload: str) -> None:
    client = Client()
    target = {"rule": SIDECAR_RULE, "document": 1, "container": payload + "b"}
    data = {
        "manifest": hostile_manifest(payload),
        "kubernetes_version": "1.37",
        "fix": json.dumps(target),
    }
    page = client.post(reverse("fix"), data)
    assert page.status_code == 200
    body = assert_safe_html(page, payload, "fix page")
    assert "restartPolicy: Always" in body
    fragment = client.post(reverse("fix"), data, **HTMX)
    assert_safe_html(fragment, payload, "fix fragment")
    # a fix that cannot be applied quotes the container it looked for
    missing = {**data, "fix": json.dumps({**target, "container": payload + "zz"})}
    assert_safe_html(client.post(reverse("fix"), missing, **HTMX), payload, "fix error")
    hpa = {**data, "fix": json.dumps({**target, "hpa": payload})}
    assert_safe_html(client.post(reverse("fix"), hpa, **HTMX), payload, "fix hpa error")


def test_the_questionnaire_is_escaped(payload: str) -> None:
    client = Client()
    url = reverse("questionnaire")
    names = {
        "app_name": payload,
        "app_image": payload,
        "helper_name": payload,
        "helper_image": payload,
    }
    for params in (
        {"need": "batch-job-helper", "kubernetes_version": "1.31", **names},
        {"need": "log-shipping", **names},
        {"need": payload},
        {"need": "batch-job-helper", "kubernetes_version": payload, "workload": payload},
    ):
        assert_safe_html(client.get(url, params), payload, f"questionnaire {params}")
        assert_safe_html(client.get(url, params, **HTMX), payload, f"fragment {params}")


# --- saved reviews -------------------------------------------------------------------------


def test_every_review_page_is_escaped(payload: str) -> None:
    author, review = hostile_world(payload)
    client = Client()
    client.force_login(author)  # the header shows the hostile user name too
    slug = review.slug
    pages = {
        "detail": client.get(reverse("review", args=[slug])),
        "edit": client.get(reverse("review-edit", args=[slug])),
        "history": client.get(reverse("review-history", args=[slug])),
        "history 1-2": client.get(reverse("review-history", args=[slug]), {"a": 1, "b": 2}),
        "history fragment": client.get(
            reverse("review-history", args=[slug]), {"a": 2, "b": 1}, **HTMX
        ),
        "reanalyse": client.get(reverse("review-reanalyse", args=[slug])),
        "reanalyse fragment": client.get(reverse("review-reanalyse", args=[slug]), **HTMX),
        "list": client.get(reverse("reviews")),
        "list fragment": client.get(reverse("reviews"), **HTMX),
        "list search": client.get(reverse("reviews"), {"q": payload, "tag": payload}),
        "list filters": client.get(
            reverse("reviews"), {"author": payload, "rule": payload, "pattern": payload}, **HTMX
        ),
        "rule reviews": client.get(reverse("rule-reviews", args=[SIDECAR_RULE])),
        "stats": client.get(reverse("review-stats")),
        "stats by tag": client.get(reverse("review-stats"), {"tag": payload, "by": "pattern"}),
        "import": client.get(reverse("review-import")),
    }
    for where, response in pages.items():
        assert response.status_code == 200, where
        assert_safe_html(response, payload, where)
    detail = pages["detail"].content.decode()
    assert escape(payload) in detail
    assert "javascript:" in detail  # shown as text ...
    assert f'href="{JS_LINK}"' not in detail  # ... never a link
    listing = pages["list"].content.decode()
    assert escape(payload) in listing
    # stats: the tag is a chart label, HTML-escaped for plotly inside the escaped JSON
    figures = [json.loads(b) for b in JSON_SCRIPT.findall(pages["stats"].content.decode())]
    labels = {x for f in figures for trace in f.get("data", []) for x in trace.get("x", [])}
    assert any(escape(payload).replace("&quot;", "&#34;") in str(x) for x in labels)


def test_the_edit_conflict_and_form_errors_are_escaped(payload: str) -> None:
    author, review = hostile_world(payload)
    client = Client()
    client.force_login(author)
    url = reverse("review-edit", args=[review.slug])
    stale = {
        "title": payload,
        "tags": "ok-tag",  # a tag follows the API's rule; a payload as a tag is refused below
        "manifest": hostile_manifest(payload) + f"# {payload}\n",
        "kubernetes_version": "1.37",
        "version": 1,  # the review is at version 2: a conflict showing both texts
        "note": payload,
    }
    conflict = client.post(url, stale)
    assert conflict.status_code == 409
    assert_safe_html(conflict, payload, "edit conflict")
    invalid = client.post(url, {**stale, "title": "", "kubernetes_version": payload})
    assert invalid.status_code == 400
    assert_safe_html(invalid, payload, "edit form errors")
    bad_tag = client.post(url, {**stale, "version": 2, "tags": payload})
    assert bad_tag.status_code == 400
    assert_safe_html(bad_tag, payload, "edit refused for its tag")


def test_saving_and_commenting_answers_are_escaped(payload: str) -> None:
    author, review = hostile_world(payload)
    client = Client()
    client.force_login(author)
    saved = client.post(
        reverse("review-save"),
        {
            "title": payload,
            "description": payload,
            "tags": "ok-tag",
            "manifest": hostile_manifest(payload),
            "kubernetes_version": "1.37",
        },
        **HTMX,
    )
    assert saved.status_code == 200
    assert_safe_html(saved, payload, "saved")
    bad_tag = client.post(
        reverse("review-save"),
        {"title": "t", "tags": payload, "manifest": hostile_manifest(payload)},
        **HTMX,
    )
    assert bad_tag.status_code == 400  # the API's tag rule; the message quotes it, escaped
    assert_safe_html(bad_tag, payload, "not saved for its tag")
    refused = client.post(reverse("review-save"), {"title": "", "manifest": payload}, **HTMX)
    assert_safe_html(refused, payload, "not saved")
    comment = client.post(reverse("review-comment", args=[review.slug]), {"body": payload}, **HTMX)
    assert_safe_html(comment, payload, "comment fragment")


def test_exports_are_escaped_markdown_and_real_json(payload: str) -> None:
    author, review = hostile_world(payload)
    client = Client()
    client.force_login(author)
    markdown = client.get(reverse("review-export-md", args=[review.slug]))
    assert markdown["Content-Type"].startswith("text/markdown")
    prose = outside_code(markdown.content.decode())
    # Code spans and fenced blocks show their content literally; everywhere else, entities.
    assert payload not in prose
    assert "<script" not in prose.lower() and "<img" not in prose.lower() and "<svg" not in prose
    assert escape(payload).replace("&#x27;", "'").replace("&quot;", '"') in prose or (
        "&lt;" in prose
    )
    # the description's [x](javascript:...) is not a Markdown link: its brackets are escaped
    assert not re.search(r"(?<!\\)\]\(\s*javascript:", prose), prose
    assert "<a href" not in prose.lower()
    exported = client.get(reverse("review-export-json", args=[review.slug]))
    document = assert_json(exported, "export.json")
    assert document["title"] == payload and payload in document["tags"]


FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(?<!`)(?P<ticks>`+)(?!`).*?(?<!`)(?P=ticks)(?!`)", re.DOTALL)


def outside_code(markdown: str) -> str:
    """The Markdown without its fenced code blocks and code spans (CommonMark)."""
    kept, fence = [], None
    for line in markdown.splitlines():
        opening = FENCE.match(line)
        if fence is None and opening:
            fence = opening["fence"]
        elif fence is not None:
            closing = FENCE.match(line)
            rest = line.strip()[len(closing["fence"]) :] if closing else ""
            if (
                closing
                and closing["fence"][0] == fence[0]
                and len(closing["fence"]) >= len(fence)
                and not rest.strip()
            ):
                fence = None
        else:
            kept.append(line)
    return CODE_SPAN.sub("", "\n".join(kept))


def test_importing_hostile_documents_is_escaped(payload: str) -> None:
    author, review = hostile_world(payload)
    client = Client()
    client.force_login(author)
    document = json.loads(client.get(reverse("review-export-json", args=[review.slug])).content)
    exists = client.post(reverse("review-import"), {"document": json.dumps(document)})
    assert exists.status_code == 409  # the review exists here: update it or import a copy
    assert_safe_html(exists, payload, "import of a review that exists")
    imported = client.post(
        reverse("review-import"), {"document": json.dumps(document), "existing": "copy"}
    )
    assert imported.status_code == 302
    assert_safe_html(client.get(imported["Location"]), payload, "imported review")
    for bad in (
        {**document, "status": payload, "kind": payload, "kubernetes_version": payload},
        {**document, "format": payload},
        {**document, "format_version": payload},
        {**document, "tags": [payload * 10], "manifest": f"kind: [{payload}"},
        {**document, "kind": "questionnaire", "answers": {"need": payload}},
    ):
        refused = client.post(reverse("review-import"), {"document": json.dumps(bad)})
        assert refused.status_code == 400
        assert_safe_html(refused, payload, f"import error {sorted(bad)[:3]}")
    garbage = client.post(reverse("review-import"), {"document": payload})
    assert_safe_html(garbage, payload, "import of non-JSON")


def test_the_api_answers_json_never_html(payload: str) -> None:
    author, review = hostile_world(payload)
    client = Client()
    client.force_login(author)
    api = "/api/v1"
    for where, response in {
        "list": client.get(f"{api}/reviews", {"q": payload, "tag": payload}),
        "read": client.get(f"{api}/reviews/{review.slug}"),
        "comments": client.get(f"{api}/reviews/{review.slug}/comments"),
        "analyze": client.post(
            f"{api}/analyze", hostile_manifest(payload), content_type="application/yaml"
        ),
        "analyze 422": client.post(
            f"{api}/analyze",
            {"manifest": "a: 1", "kubernetes_version": payload, "assumptions": {payload: 1}},
            content_type="application/json",
        ),
        "analyze 415": client.post(f"{api}/analyze", payload, content_type="text/html"),
        "unknown review": client.get(f"{api}/reviews/{quote(payload.replace('/', ''))}"),
    }.items():
        assert response.status_code in (200, 404, 415, 422), where
        assert_json(response, where)
    read = json.loads(client.get(f"{api}/reviews/{review.slug}").content)
    assert read["title"] == payload  # data, as it was given


def test_the_login_page_and_error_pages_are_escaped(payload: str) -> None:
    client = Client()
    login = client.get(reverse("login"), {"next": payload})
    assert_safe_html(login, payload, "login next")
    failed = client.post(reverse("login"), {"username": payload, "password": "x", "next": payload})
    assert_safe_html(failed, payload, "failed login")
    missing = client.get("/r/" + payload.replace("/", "") + "/missing/")
    assert missing.status_code == 404
    assert_safe_html(missing, payload.replace("/", ""), "404")
