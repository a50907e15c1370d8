"""Every view as a full page and as its htmx fragment, with and without JavaScript."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from advisor.core.patterns import PATTERNS
from advisor.core.rules import REGISTRY
from tests.conftest import CORPUS

LEGACY_JOB = (
    CORPUS / "kubernetes__website__content__en__examples__application__job__job-sidecar-legacy.yaml"
).read_text()
HTMX = {"HTTP_HX_REQUEST": "true"}
pytestmark = pytest.mark.django_db
XSS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>']


@pytest.fixture
def client() -> Client:
    return Client(enforce_csrf_checks=False)


def post_manifest(client: Client, text: str, htmx: bool = False, **extra: str):
    data = {"manifest": text, "kubernetes_version": "1.37", "api_defaults": "on", **extra}
    return client.post(reverse("analyze"), data, **(HTMX if htmx else {}))


def test_it_shows_the_home_page_with_both_ways_in(client: Client) -> None:
    body = client.get(reverse("home")).content.decode()
    assert reverse("analyze") in body and reverse("questionnaire") in body


def test_it_shows_an_empty_analyser(client: Client) -> None:
    response = client.get(reverse("analyze"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="analyze-form"' in body and "<html" in body
    assert 'id="result"' in body


def test_it_renders_the_full_page_without_javascript(client: Client) -> None:
    response = post_manifest(client, LEGACY_JOB)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" in body
    assert "classic-sidecar-blocks-job" in body
    assert "logshipper" in body
    # the text stays in the box
    assert "tail -F /opt/logs.txt" in body.split('id="result"')[0]


def test_it_renders_only_the_result_fragment_for_htmx(client: Client) -> None:
    response = post_manifest(client, LEGACY_JOB, htmx=True)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert body.lstrip().startswith('<section id="result"')
    assert 'href="/rules/#classic-sidecar-blocks-job"' in body
    assert re.search(r'href="#L15"[^>]*data-line="15"', body)


def test_it_embeds_every_chart_as_json_not_script(client: Client) -> None:
    body = post_manifest(client, LEGACY_JOB, htmx=True).content.decode()
    for key in ("resources-cpu", "resources-memory", "startup", "shutdown"):
        assert f'<script id="chart-0-{key}" type="application/json">' in body


def test_it_keeps_the_text_and_says_where_when_yaml_is_broken(client: Client) -> None:
    text = "kind: Pod\nspec: {containers: [{name: a}]}\n---\nkind: Pod\nspec: [oops\n"
    full = post_manifest(client, text).content.decode()
    assert "Document 2" in full and "line" in full
    assert "spec: [oops" in full
    fragment = post_manifest(client, text, htmx=True).content.decode()
    assert "Document 2" in fragment


def test_it_asks_for_input_when_the_box_is_empty(client: Client) -> None:
    response = post_manifest(client, "   ")
    assert response.status_code == 400
    assert "Paste a manifest" in response.content.decode()


def test_it_refuses_an_oversized_manifest_with_a_message(client: Client, settings) -> None:
    settings.ADVISOR_MAX_INPUT_BYTES = 1000
    response = post_manifest(client, "a: 1\n" * 500)
    assert response.status_code == 413  # the budget's bytes (README "Limits")
    assert "larger than" in response.content.decode()


def test_it_answers_413_when_the_request_body_is_too_big(client: Client, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post_manifest(client, "a: 1\n" * 500, htmx=True)
    assert response.status_code == 413
    assert "too large" in response.content.decode().lower()


def test_it_reads_an_uploaded_file_into_the_box(client: Client) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("job.yaml", LEGACY_JOB.encode(), content_type="application/yaml")
    response = client.post(
        reverse("analyze"), {"manifest": "", "upload": upload, "kubernetes_version": "1.37"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "classic-sidecar-blocks-job" in body
    assert "tail -F /opt/logs.txt" in body.split('id="result"')[0]


def test_it_refuses_a_binary_upload_with_a_clear_message(client: Client) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("x.yaml", b"\x00\x01\x02binary", content_type="application/yaml")
    response = client.post(reverse("analyze"), {"upload": upload, "kubernetes_version": "1.37"})
    assert response.status_code == 400
    assert "binary" in response.content.decode()


@pytest.mark.parametrize("payload", XSS)
def test_it_escapes_hostile_names_everywhere(client: Client, payload: str) -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: 'x'\n  annotations: {note: 'n'}\n"
        "spec:\n  containers:\n"
        "  - name: 'NAME'\n    image: 'IMG'\n    ports: [{containerPort: 80}]\n"
        "  - name: 'NAME2'\n    image: nginx\n    ports: [{containerPort: 80}]\n"
    )
    quoted = payload.replace("'", "''")
    text = text.replace("NAME2", quoted + "2").replace("NAME", quoted).replace("IMG", quoted)
    for htmx in (False, True):
        body = post_manifest(client, text, htmx=htmx).content.decode()
        assert payload not in body
        assert "&lt;" in body


def test_it_reanalyses_with_changed_assumptions(client: Client) -> None:
    slow = post_manifest(client, LEGACY_JOB, htmx=True, image_start_seconds="7").content.decode()
    assert "7s" in slow
    bad = post_manifest(client, LEGACY_JOB, htmx=True, image_start_seconds="-3")
    assert bad.status_code == 400


def test_it_shows_a_fix_and_its_diff(client: Client) -> None:
    data = {
        "manifest": LEGACY_JOB,
        "kubernetes_version": "1.37",
        "api_defaults": "on",
        "fix": '{"rule": "classic-sidecar-blocks-job", "document": 1, "container": "logshipper"}',
    }
    fragment = client.post(reverse("fix"), data, **HTMX)
    body = fragment.content.decode()
    assert fragment.status_code == 200
    assert "<html" not in body
    assert "restartPolicy: Always" in body
    assert "+++ b/" in body
    full = client.post(reverse("fix"), data).content.decode()
    assert "<html" in full and "restartPolicy: Always" in full


def test_it_explains_a_fix_that_cannot_be_applied(client: Client) -> None:
    data = {
        "manifest": LEGACY_JOB,
        "kubernetes_version": "1.37",
        "fix": '{"rule": "classic-sidecar-blocks-job", "document": 9, "container": "x"}',
    }
    response = client.post(reverse("fix"), data, **HTMX)
    assert response.status_code == 400
    assert "could not be applied" in response.content.decode()


def test_it_asks_the_questions_and_recommends(client: Client) -> None:
    page = client.get(reverse("questionnaire")).content.decode()
    assert "<html" in page and 'name="need"' in page
    url = reverse("questionnaire")
    native = client.get(url, {"need": "batch-job-helper", "kubernetes_version": "1.31"}, **HTMX)
    old = client.get(url, {"need": "batch-job-helper", "kubernetes_version": "1.27"}, **HTMX)
    native_body, old_body = native.content.decode(), old.content.decode()
    assert "<html" not in native_body
    assert native_body != old_body
    assert "restartPolicy: Always" in native_body
    assert "Analyse this manifest" in native_body


def test_it_rejects_a_bad_answer_with_a_message(client: Client) -> None:
    body = client.get(reverse("questionnaire"), {"need": "nonsense"}, **HTMX).content.decode()
    assert 'role="alert"' in body


def test_it_lists_every_rule_with_an_anchor(client: Client) -> None:
    body = client.get(reverse("rules")).content.decode()
    for rule_id in REGISTRY:
        assert f'id="{rule_id}"' in body


@pytest.mark.parametrize("pattern_id", sorted(PATTERNS))
def test_it_shows_every_pattern_with_its_timelines(client: Client, pattern_id: str) -> None:
    response = client.get(reverse("pattern", args=[pattern_id]))
    body = response.content.decode()
    assert response.status_code == 200
    assert PATTERNS[pattern_id].title in body
    assert 'type="application/json"' in body


def test_it_answers_404_for_an_unknown_pattern(client: Client) -> None:
    assert client.get("/patterns/nope/").status_code == 404


def test_it_sets_security_headers(client: Client) -> None:
    response = client.get(reverse("analyze"))
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_rules_page_shows_every_severity_a_rule_can_take(client: Client) -> None:
    body = client.get(reverse("rules")).content.decode()
    ranged = [r for r in REGISTRY.values() if r.also]
    assert ranged
    for r in ranged:
        article = body.split(f'id="{r.id}"', 1)[1].split("</article>", 1)[0]
        for severity in r.also:
            assert f">or {severity}</span>" in article
        assert r.severity_reason.split(":")[0] in article


def test_it_counts_the_simulation_assumptions_it_lists(client: Client) -> None:
    html = post_manifest(client, LEGACY_JOB, htmx=True).content.decode()
    block = re.search(r'<details class="assumptions">(.*?)</details>', html, re.S).group(1)
    listed = re.findall(r"<li>", block)
    assert len(listed) == 4  # two start-up and two shutdown assumptions, for two containers
    assert f"Simulation assumptions ({len(listed)} used)" in block


def test_the_questionnaire_starts_with_nothing_chosen_and_names_what_it_assumed(
    client: Client,
) -> None:
    page = client.get(reverse("questionnaire")).content.decode()
    assert " checked" not in page
    assert re.findall(r'<option value="[^"]+" selected>', page) == []
    answer = client.get(reverse("questionnaire"), {"need": "outbound-proxy"}, **HTMX)
    body = answer.content.decode()
    assert "Not answered, so assumed" in body and "Use:" in body
    answered = client.get(
        reverse("questionnaire"),
        {"need": "outbound-proxy", "kubernetes_version": "1.30"},
        **HTMX,
    ).content.decode()
    assert body.count("<li>") > answered.count("<li>")  # one assumption fewer


def test_the_size_limit_is_one_setting_told_the_same_way_to_web_and_api_users(
    client: Client, settings
) -> None:
    settings.ADVISOR_MAX_INPUT_BYTES = 2048
    big = LEGACY_JOB + "# " + "x" * 3000 + "\n"
    web = post_manifest(client, big, htmx=True).content.decode()
    api = client.post("/api/v1/analyze", {"manifest": big}, content_type="application/json")
    assert api.status_code == 413
    assert "2 KiB" in web and "2 KiB" in api.json()["detail"]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    refused = post_manifest(client, big, htmx=True)
    assert refused.status_code == 413 and "2 KiB" in refused.content.decode()
    for page in (web, refused.content.decode(), client.get(reverse("login")).content.decode()):
        assert "manage.py" not in page


@pytest.mark.parametrize("name", ["home", "analyze", "questionnaire", "rules", "login"])
def test_no_page_shows_template_source(client: Client, name: str) -> None:
    # Django's {# #} comments end at the line's end: one spread over two lines is printed.
    body = client.get(reverse(name)).content.decode()
    assert "{#" not in body and "#}" not in body and "{%" not in body
