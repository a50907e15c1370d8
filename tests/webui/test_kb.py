"""The knowledge base: review list (search, filters, pages, htmx), rule pages, statistics,
Markdown and JSON export, import. Runs on SQLite and, with a PostgreSQL test database, on it too.
"""

from __future__ import annotations

import html
import json
import re

import plotly.graph_objects as go
import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import reverse

from advisor.core.rules import REGISTRY
from webui import exchange, kb_charts, services
from webui.models import Review

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
XSS = "<script>alert(1)</script>"
SIDECAR_RULE = "classic-sidecar-blocks-job"

# A Job whose log shipper is a regular container: raises classic-sidecar-blocks-job.
JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: myjob
spec:
  template:
    spec:
      containers:
        - name: myjob
          image: alpine:latest
          command: ['sh', '-c', 'echo "logging" > /opt/logs.txt']
          volumeMounts:
            - name: data
              mountPath: /opt
        - name: logshipper
          image: alpine:latest
          command: ['sh', '-c', 'tail -F /opt/logs.txt']
          volumeMounts:
            - name: data
              mountPath: /opt
      restartPolicy: Never
      volumes:
        - name: data
          emptyDir: {}
"""

# One container, nothing to say about sidecars.
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
    - name: {name}
      image: registry.example/{name}:1.0
      resources:
        requests:
          cpu: 100m
          memory: 64Mi
        limits:
          memory: 64Mi
"""

# The Job, a ConfigMap whose text would close a three- or four-backtick fence (CommonMark allows
# up to three spaces before a closing fence), and a document of bare fences that is not YAML.
JOB_WITH_FENCES = (
    JOB
    + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\nreadme: |\n"
    + " ```\n not the end\n ````\n ~~~\n"
    + "---\n```\n````\n"
)


def make_review(
    author: User,
    title: str,
    manifest: str = "",
    *,
    version: str = "1.37",
    tags: tuple[str, ...] = (),
    status: str = Review.Status.DRAFT,
    description: str = "",
) -> Review:
    prepared = services.prepare(
        kind="manifest", manifest=manifest or POD.format(name="web"), kubernetes_version=version
    )
    return services.create_review(
        author=author,
        title=title,
        prepared=prepared,
        tags=tags,
        status=status,
        description=description,
    )


@pytest.fixture
def alice() -> User:
    return User.objects.create_user("alice", password="pw-alice-123")


@pytest.fixture
def bob() -> User:
    return User.objects.create_user("bob", password="pw-bob-123")


@pytest.fixture
def client(alice: User) -> Client:
    c = Client()
    c.force_login(alice)
    return c


@pytest.fixture
def two_reviews(alice: User, bob: User) -> tuple[Review, Review]:
    """A: alice's Job with a classic sidecar; B: bob's plain Pod. Every filter tells them apart."""
    a = make_review(
        alice,
        "Zebrafish batch export",
        JOB,
        version="1.30",
        tags=("payments",),
        status=Review.Status.IN_REVIEW,
        description="Nightly export of the ledger.",
    )
    b = make_review(bob, "Storefront web", POD.format(name="quokkaproxy"), tags=("search",))
    return a, b


def titles_in(body: str) -> set[str]:
    return set(re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a>', body))


def list_titles(client: Client, **params: str) -> set[str]:
    response = client.get(reverse("reviews"), params)
    assert response.status_code == 200
    return titles_in(response.content.decode())


# --- access --------------------------------------------------------------------------------


def test_it_redirects_anonymous_visitors_of_every_kb_page_to_login(alice: User) -> None:
    review = make_review(alice, "Private design", JOB)
    urls = [
        reverse("reviews"),
        reverse("review-stats"),
        reverse("review-import"),
        reverse("rule-reviews", args=[SIDECAR_RULE]),
        reverse("review-export-md", args=[review.slug]),
        reverse("review-export-json", args=[review.slug]),
    ]
    anonymous = Client()
    login = resolve_url(settings.LOGIN_URL)
    for url in urls:
        response = anonymous.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(login), url
        assert "Private design" not in response.content.decode()
    response = anonymous.post(reverse("review-import"), {"document": "{}"})
    assert response.status_code == 302 and response["Location"].startswith(login)
    assert Review.objects.count() == 1


# --- the list --------------------------------------------------------------------------------


def test_it_lists_reviews_with_status_pattern_rules_tags_author(
    client: Client, two_reviews: tuple[Review, Review]
) -> None:
    a, b = two_reviews
    body = client.get(reverse("reviews")).content.decode()
    assert "<html" in body and 'id="review-list"' in body
    assert titles_in(body) == {a.title, b.title}
    assert a.get_absolute_url() in body
    assert "In review" in body and "Draft" in body  # status as text
    assert reverse("rule-reviews", args=[SIDECAR_RULE]) in body
    assert "#payments" in body and "#search" in body
    assert ">alice<" in body and ">bob<" in body


def test_it_finds_reviews_by_a_word_in_the_title_or_the_manifest_and_not_otherwise(
    client: Client, two_reviews: tuple[Review, Review]
) -> None:
    a, b = two_reviews
    vendor = connection.vendor  # the PostgreSQL branch runs when the test database is PostgreSQL
    assert vendor in ("sqlite", "postgresql")
    assert list_titles(client, q="zebrafish") == {a.title}  # title
    assert list_titles(client, q="Zebrafish") == {a.title}
    assert list_titles(client, q="logshipper") == {a.title}  # manifest only
    assert list_titles(client, q="quokkaproxy") == {b.title}  # manifest only
    assert list_titles(client, q="ledger") == {a.title}  # description
    assert list_titles(client, q="zebrafish logshipper") == {a.title}  # every word matches
    assert list_titles(client, q="zebrafish quokkaproxy") == set()
    assert list_titles(client, q="platypus") == set()
    assert list_titles(client, q="   ") == {a.title, b.title}


@pytest.mark.parametrize(
    "field", ["pattern", "rule", "status", "tag", "author", "kubernetes_version"]
)
def test_it_narrows_the_list_with_each_filter(
    client: Client, two_reviews: tuple[Review, Review], field: str
) -> None:
    a, b = two_reviews
    assert a.pattern and a.pattern != b.pattern
    values = {
        "pattern": a.pattern,
        "rule": SIDECAR_RULE,
        "status": Review.Status.IN_REVIEW,
        "tag": "payments",
        "author": "alice",
        "kubernetes_version": "1.30",
    }
    assert list_titles(client) == {a.title, b.title}
    assert list_titles(client, **{field: values[field]}) == {a.title}


def test_it_combines_filters_and_ignores_an_invalid_one_with_a_message(
    client: Client, two_reviews: tuple[Review, Review]
) -> None:
    a, _ = two_reviews
    assert list_titles(client, tag="payments", author="bob") == set()
    response = client.get(reverse("reviews"), {"status": "bogus", "tag": "payments"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Some filters were ignored" in body and titles_in(body) == {a.title}


def test_it_links_the_rule_filter_to_the_rule_page(
    client: Client, two_reviews: tuple[Review, Review]
) -> None:
    body = client.get(reverse("reviews"), {"rule": SIDECAR_RULE}).content.decode()
    assert f'href="{reverse("rule-reviews", args=[SIDECAR_RULE])}"' in body


def test_it_paginates_25_reviews_in_two_pages(client: Client, alice: User) -> None:
    prepared = services.prepare(kind="manifest", manifest=JOB, kubernetes_version="1.37")
    for i in range(25):
        services.create_review(author=alice, title=f"Review number {i:02d}", prepared=prepared)
    first = client.get(reverse("reviews")).content.decode()
    second = client.get(reverse("reviews"), {"page": 2}).content.decode()
    assert len(titles_in(first)) == 20 and len(titles_in(second)) == 5
    assert not titles_in(first) & titles_in(second)
    assert "Page 1 of 2" in first and 'rel="next"' in first and "page=2" in first
    assert "Page 2 of 2" in second and 'rel="prev"' in second
    # filters survive in the page links
    filtered = client.get(reverse("reviews"), {"q": "review", "rule": SIDECAR_RULE})
    assert "page=2" in filtered.content.decode() and "q=review" in filtered.content.decode()
    # nonsense pages give the nearest page, not an error
    assert titles_in(client.get(reverse("reviews"), {"page": 99}).content.decode()) == titles_in(
        second
    )
    assert client.get(reverse("reviews"), {"page": "x"}).status_code == 200


def test_it_returns_only_the_list_fragment_for_htmx(
    client: Client, two_reviews: tuple[Review, Review]
) -> None:
    a, _ = two_reviews
    response = client.get(reverse("reviews"), {"q": "zebrafish", "tag": "", "status": ""}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and "<form" not in body
    assert body.lstrip().startswith('<section id="review-list"')
    assert titles_in(body) == {a.title}
    assert "HX-Request" in response["Vary"]
    assert response["HX-Push-Url"] == "/reviews/?q=zebrafish"
    # the full page carries the htmx wiring, and works as a plain GET form without JavaScript
    page = client.get(reverse("reviews")).content.decode()
    assert 'method="get"' in page and 'hx-get="/reviews/"' in page
    assert 'hx-target="#review-list"' in page and 'hx-push-url="true"' in page
    assert "input changed delay:300ms from:input[name=q]" in page
    # a history restore needs the whole page
    restore = client.get(reverse("reviews"), **HTMX, HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in restore.content.decode()


# --- rule pages ----------------------------------------------------------------------------


def test_it_lists_exactly_the_reviews_raising_a_rule(
    client: Client, two_reviews: tuple[Review, Review], alice: User
) -> None:
    a, _ = two_reviews
    c = make_review(alice, "Another legacy job", JOB)
    response = client.get(reverse("rule-reviews", args=[SIDECAR_RULE]))
    body = response.content.decode()
    assert response.status_code == 200
    assert titles_in(body) == {a.title, c.title}
    rule = REGISTRY[SIDECAR_RULE]
    assert rule.title in html.unescape(body) and rule.fix in html.unescape(body)


def test_it_answers_404_for_an_unknown_rule(client: Client) -> None:
    assert client.get(reverse("rule-reviews", args=["no-such-rule"])).status_code == 404


# --- statistics ----------------------------------------------------------------------------


def figures_in(body: str) -> dict[str, dict]:
    found = re.findall(r'<script id="(chart-[a-z]+)" type="application/json">(.*?)</script>', body)
    return {chart_id: json.loads(data) for chart_id, data in found}


@pytest.mark.usefixtures("two_reviews")
def test_it_draws_the_three_stats_charts(client: Client) -> None:
    response = client.get(reverse("review-stats"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "plotly-basic-4.1.1.min.js" in body and "js/charts.js" in body
    figures = figures_in(body)
    assert set(figures) == {"chart-patterns", "chart-findings", "chart-tags"}
    for chart_id, figure in figures.items():
        go.Figure(figure)
        assert f'data-figure="{chart_id}"' in body
    assert SIDECAR_RULE in figures["chart-findings"]["data"][0]["y"]
    assert sum(sum(t["y"]) for t in figures["chart-patterns"]["data"]) == 2
    tags = {x for t in figures["chart-tags"]["data"] for x in t["x"]}
    assert tags == {"payments", "search"}
    # the tag filter counts only the tagged reviews
    filtered = figures_in(client.get(reverse("review-stats"), {"tag": "payments"}).content.decode())
    assert sum(sum(t["y"]) for t in filtered["chart-patterns"]["data"]) == 1
    by_pattern = figures_in(client.get(reverse("review-stats"), {"by": "pattern"}).content.decode())
    go.Figure(by_pattern["chart-tags"])


def test_it_builds_valid_figures_from_counts_and_from_nothing() -> None:
    from datetime import date

    rows = [(date(2025, 1, 1), "native-sidecar", 2), (date(2025, 4, 1), "", 1)]
    over_time = kb_charts.patterns_over_time(rows, titles={"native-sidecar": "Native sidecar"})
    go.Figure(over_time)
    assert over_time["data"][0]["x"] == ["2025-01", "2025-02", "2025-03", "2025-04"]
    counts = [(f"rule-{i:02d}", i) for i in range(20)]
    top = kb_charts.top_findings(counts)
    go.Figure(top)
    assert len(top["data"][0]["y"]) == 15 and top["data"][0]["y"][0] == "rule-19"
    per_tag = kb_charts.by_tag(
        [("team-a", "draft", 2), (None, "approved", 1)], labels=dict(Review.Status.choices)
    )
    go.Figure(per_tag)
    assert per_tag["data"][0]["x"] == ["team-a", kb_charts.NO_TAG]
    for empty in (
        kb_charts.patterns_over_time([]),
        kb_charts.top_findings([]),
        kb_charts.by_tag([]),
    ):
        go.Figure(empty)
        assert empty["layout"]["annotations"]


# --- export ----------------------------------------------------------------------------------


def fenced_block(markdown: str, info: str) -> str:
    """The content of the first fenced code block with ``info``, closed as CommonMark does."""
    lines = markdown.split("\n")
    for i, line in enumerate(lines):
        opening = re.fullmatch(r"(`{3,})" + re.escape(info), line)
        if opening:
            fence = opening.group(1)
            for j in range(i + 1, len(lines)):
                if re.fullmatch(rf" {{0,3}}`{{{len(fence)},}}\s*", lines[j]):
                    return "\n".join(lines[i + 1 : j]) + "\n"
            return "\n".join(lines[i + 1 :])  # unclosed: runs to the end
    raise AssertionError(f"no {info} block")


def test_it_exports_markdown_with_the_findings_and_an_unbreakable_fence(
    client: Client, alice: User
) -> None:
    assert "```\n" in JOB_WITH_FENCES and "````\n" in JOB_WITH_FENCES
    review = make_review(alice, "Ledger export job", JOB_WITH_FENCES, tags=("payments",))
    response = client.get(reverse("review-export-md", args=[review.slug]))
    text = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    assert response["Content-Disposition"] == 'attachment; filename="ledger-export-job.md"'
    assert text.startswith("# Ledger export job\n")
    assert f"`{SIDECAR_RULE}`" in text and "**ERROR**" in text and "Fix:" in text
    assert "logshipper" in text and "line " in text
    assert "Effective requests:" in text and "QoS class:" in text
    assert "Draft" in text and "alice" in text and "1.37" in text and "payments" in text
    assert f"| Link | <http://testserver{review.get_absolute_url()}> |" in text
    assert "| Pattern | Classic sidecar (classic-sidecar) |" in text
    assert fenced_block(text, "yaml") == review.manifest


def test_it_names_export_files_safely(client: Client, alice: User) -> None:
    review = make_review(alice, '../../etc/passwd"; rm -rf / é', JOB)
    for name, ext in (("review-export-md", "md"), ("review-export-json", "json")):
        disposition = client.get(reverse(name, args=[review.slug]))["Content-Disposition"]
        assert disposition == f'attachment; filename="etcpasswd-rm-rf-e.{ext}"'
    blank = make_review(alice, "???", JOB)
    disposition = client.get(reverse("review-export-md", args=[blank.slug]))
    assert disposition["Content-Disposition"] == 'attachment; filename="review.md"'


def test_it_exports_a_stable_json_document(client: Client, alice: User, bob: User) -> None:
    review = make_review(alice, "Ledger export job", JOB, tags=("payments", "batch"))
    review.comments.create(author=bob, body="Make it native.")
    response = client.get(reverse("review-export-json", args=[review.slug]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == 'attachment; filename="ledger-export-job.json"'
    doc = json.loads(response.content)
    assert doc["format"] == "pod-pattern-advisor/review" and doc["format_version"] == 1
    for key in (
        "title",
        "description",
        "kind",
        "manifest",
        "answers",
        "kubernetes_version",
        "api_defaults",
        "status",
        "tags",
        "snapshot",
        "analyzer_version",
        "revisions",
        "comments",
    ):
        assert key in doc, key
    assert doc["tags"] == ["batch", "payments"]
    assert doc["revisions"][0]["number"] == 1 and doc["revisions"][0]["manifest"] == JOB
    # Fields may be added to the format (line comments, verdicts), none renamed or removed.
    first = doc["comments"][0]
    assert {k: first[k] for k in ("author", "body")} == {"author": "bob", "body": "Make it native."}
    assert doc["slug"] == review.slug
    assert exchange.review_document(review) == doc


def test_it_answers_404_when_exporting_a_missing_review(client: Client) -> None:
    assert client.get(reverse("review-export-md", args=["nope"])).status_code == 404
    assert client.get(reverse("review-export-json", args=["nope"])).status_code == 404


# --- import --------------------------------------------------------------------------------


def test_it_round_trips_a_review_through_export_and_import(
    alice: User, bob: User, client: Client
) -> None:
    original = make_review(
        alice,
        "Ledger export job",
        JOB,
        tags=("payments", "batch"),
        status=Review.Status.APPROVED,
        description="Nightly.",
    )
    exported = client.get(reverse("review-export-json", args=[original.slug])).content
    importer = Client()
    importer.force_login(bob)
    assert importer.get(reverse("review-import")).status_code == 200
    upload = SimpleUploadedFile("ledger.json", exported, content_type="application/json")
    response = importer.post(reverse("review-import"), {"upload": upload})
    # The review exists on this site: the import says so instead of duplicating it; bob may
    # not update alice's review, so a separate copy is what he is offered.
    assert response.status_code == 409
    page = response.content.decode()
    assert "already exists" in page and 'value="update"' not in page
    assert Review.objects.count() == 1
    upload = SimpleUploadedFile("ledger.json", exported, content_type="application/json")
    response = importer.post(reverse("review-import"), {"upload": upload, "existing": "copy"})
    assert response.status_code == 302
    copy = Review.objects.exclude(pk=original.pk).get()
    assert response["Location"] == copy.get_absolute_url()
    assert copy.author == bob and copy.slug != original.slug
    assert (copy.title, copy.description, copy.manifest) == (
        original.title,
        original.description,
        original.manifest,
    )
    assert copy.kubernetes_version == original.kubernetes_version
    assert sorted(t.name for t in copy.tags.all()) == ["batch", "payments"]
    assert copy.rule_ids == original.rule_ids and SIDECAR_RULE in copy.rule_ids
    assert set(copy.raised.values_list("rule_id", flat=True)) == set(original.rule_ids)
    # An approval is not imported: the importer is the new author, who cannot approve it.
    assert copy.status == Review.Status.IN_REVIEW
    assert copy.revisions.count() == 1 and copy.comments.count() == 0
    # pasted JSON works the same, and a document without a status gives a draft
    doc = json.loads(exported)
    del doc["status"]
    response = importer.post(
        reverse("review-import"), {"document": json.dumps(doc), "existing": "copy"}
    )
    assert response.status_code == 302
    assert Review.objects.latest("created").status == Review.Status.DRAFT


def test_it_imports_a_questionnaire_review(client: Client, alice: User) -> None:
    answers = {"need": "outbound-proxy", "workload": "service"}
    prepared = services.prepare(kind="questionnaire", answers=answers, kubernetes_version="1.37")
    original = services.create_review(author=alice, title="Which proxy", prepared=prepared)
    document = exchange.review_document(original)
    assert "## Questionnaire answers" in exchange.review_markdown(original)
    copy = exchange.import_review(document, author=alice)
    assert copy.kind == Review.Kind.QUESTIONNAIRE and copy.pattern == original.pattern


GOOD = {
    "format": "pod-pattern-advisor/review",
    "format_version": 1,
    "title": "Imported",
    "kind": "manifest",
    "manifest": JOB,
    "kubernetes_version": "1.37",
}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("this is not json", "This is not JSON"),
        ("", "Choose an exported .json file or paste its content"),
        ("[1, 2]", "must be a JSON object"),
        (json.dumps(GOOD | {"format": "something/else"}), "not a review export"),
        (json.dumps(GOOD | {"format_version": 2}), "format_version 2 is not supported"),
        (json.dumps(GOOD | {"format_version": True}), "is not supported"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "title"}), "title is missing"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "manifest"}), "manifest is missing"),
        (json.dumps(GOOD | {"title": 42}), "title must be a string"),
        (json.dumps(GOOD | {"title": "  "}), "title is empty"),
        (json.dumps(GOOD | {"title": "x" * 201}), "longer than 200"),
        (json.dumps(GOOD | {"tags": "a,b"}), "tags must be a list"),
        (json.dumps(GOOD | {"tags": [1]}), "tags must be a list of strings"),
        (json.dumps(GOOD | {"status": "merged"}), "status must be one of"),
        (json.dumps(GOOD | {"kind": "helm"}), "kind must be one of"),
        (json.dumps(GOOD | {"kubernetes_version": "1.2"}), "kubernetes_version"),
        (json.dumps(GOOD | {"manifest": ""}), "manifest is empty"),
        (json.dumps(GOOD | {"title": "nul\u0000"}), "NUL"),
        (json.dumps(GOOD | {"title": "\ud800"}), "not valid Unicode"),
        (json.dumps(GOOD | {"api_defaults": "yes"}), "api_defaults must be true or false"),
        (json.dumps(GOOD | {"kind": "questionnaire", "answers": {"x": 1}}), "unknown question"),
        (
            json.dumps(GOOD | {"kind": "questionnaire", "answers": {"need": None}}),
            "cannot be analysed",
        ),
        ('{"format_version": NaN}', "cannot be read"),
        ("[" * 100_000 + "]" * 100_000, "cannot be read"),
        ("1" * 5000, "cannot be read"),
    ],
)
def test_it_refuses_garbage_imports_with_form_errors(
    client: Client, payload: str, message: str
) -> None:
    response = client.post(reverse("review-import"), {"document": payload})
    body = response.content.decode()
    assert response.status_code == 400
    assert "could not be imported" in body
    assert message in body.replace("&#x27;", "'").replace("&quot;", '"')
    assert Review.objects.count() == 0


def test_it_refuses_garbage_files_too(client: Client) -> None:
    cases = [
        (b"\x00\x01binary\xff", "ledger.json"),
        (b"not json at all", "ledger.json"),
        (json.dumps(GOOD | {"format": "x"}).encode(), "ledger.json"),
        (b" " * (3 * 1024 * 1024), "big.json"),  # larger than ADVISOR_MAX_INPUT_BYTES
    ]
    assert settings.ADVISOR_MAX_INPUT_BYTES < 3 * 1024 * 1024
    for content, name in cases:
        upload = SimpleUploadedFile(name, content, content_type="application/json")
        response = client.post(reverse("review-import"), {"upload": upload})
        # a body over the request limit is refused unread (413), the rest by the form (400)
        over = len(content) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        assert response.status_code == (413 if over else 400), content[:20]
        assert "could not be imported" in response.content.decode()
    big = SimpleUploadedFile("big.json", b" " * (3 * 1024 * 1024))
    body = client.post(reverse("review-import"), {"upload": big}).content.decode()
    assert "larger than" in body
    both = SimpleUploadedFile("a.json", json.dumps(GOOD).encode())
    response = client.post(reverse("review-import"), {"upload": both, "document": "{}"})
    assert response.status_code == 400 and "not both" in response.content.decode()
    assert Review.objects.count() == 0


def test_it_refuses_a_pasted_document_over_the_request_limit(client: Client) -> None:
    payload = json.dumps(GOOD | {"description": "x" * (3 * 1024 * 1024)})
    response = client.post(reverse("review-import"), {"document": payload})
    assert response.status_code == 413
    assert Review.objects.count() == 0


def test_it_redacts_secret_values_on_import_unless_asked_to_keep_them(client: Client) -> None:
    manifest = POD.format(name="web").replace(
        "      resources:",
        "      env:\n        - name: DB_PASSWORD\n          value: hunter2\n      resources:",
    )
    document = json.dumps(GOOD | {"manifest": manifest})
    assert client.post(reverse("review-import"), {"document": document}).status_code == 302
    response = client.post(reverse("review-import"), {"document": document, "keep_secrets": "on"})
    assert response.status_code == 302
    redacted, kept = Review.objects.order_by("pk")
    assert "hunter2" not in redacted.manifest and redacted.redact_secrets is True
    assert redacted.redactions
    assert kept.manifest == manifest and kept.redact_secrets is False


# --- hostile input -------------------------------------------------------------------------


def test_it_escapes_hostile_titles_and_tags_everywhere(client: Client, alice: User) -> None:
    review = make_review(alice, XSS, JOB, tags=(XSS,), description=XSS)
    pages = [
        client.get(reverse("reviews")),
        client.get(reverse("reviews"), **HTMX),
        client.get(reverse("reviews"), {"tag": XSS}),
        client.get(reverse("rule-reviews", args=[SIDECAR_RULE])),
        client.get(reverse("review-stats")),
        client.get(reverse("review-stats"), {"tag": XSS}),
    ]
    for response in pages:
        body = response.content.decode()
        assert response.status_code == 200
        assert XSS not in body
    listing = pages[0].content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing
    # chart labels: HTML-escaped for plotly, inside JSON that json_script escaped again
    stats = pages[4].content.decode()
    figures = figures_in(stats)
    tag_labels = {x for t in figures["chart-tags"]["data"] for x in t["x"]}
    assert tag_labels == {"&lt;script&gt;alert(1)&lt;/script&gt;"}
    assert "\\u003Cscript" not in stats  # nothing raw even inside the JSON
    # Markdown: entities, no raw HTML
    markdown = client.get(reverse("review-export-md", args=[review.slug])).content.decode()
    assert XSS not in markdown and "&lt;script&gt;alert(1)&lt;/script&gt;" in markdown
    # JSON: the data as it is, served as JSON (never as HTML)
    response = client.get(reverse("review-export-json", args=[review.slug]))
    assert response["Content-Type"].startswith("application/json")
    assert response["X-Content-Type-Options"] == "nosniff"
    doc = json.loads(response.content)
    assert doc["title"] == XSS and doc["tags"] == [XSS]


def test_it_escapes_markdown_formatting_in_user_text() -> None:
    assert exchange.md_text("# not *a* heading | [link](x)") == (
        r"\# not \*a\* heading \| \[link\](x)"
    )
    assert exchange.md_text("- item\nnext") == r"\- item next"
    assert exchange.md_text("1. first") == r"1\. first"
    assert exchange.fence_for("a\n`````\nb") == "``````"
    assert exchange.fence_for("plain") == "```"
