"""The budget on the web: each breach answers 413 or 422 with the limit and the line, the text
is kept, nothing over the budget is stored, and hostile JSON bodies never reach a view."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from webui.budget import body_problem, json_depth
from webui.models import ApiToken, Review

API = "/api/v1"
POD = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n"
    "  containers:\n  - {name: app, image: nginx}\n"
)
BASE60 = POD.replace("kind: Pod\n", "kind: Pod\nx: " + "1:" * 300 + "1\n")
ALIASES = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 9)
)


@pytest.fixture
def token() -> dict[str, str]:
    user = User.objects.create_user("ada")
    _, secret = ApiToken.issue(user, "tests")
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_the_depth_scan_skips_brackets_inside_strings() -> None:
    assert json_depth(b'{"a": "[[[[[[[[[[\\"[[[[["}', 3) is None
    assert json_depth(b"[[[[1]]]]", 3) == 3
    assert (
        body_problem(b'{"m": "x\\ny\\u0000"}', 10)
        == "body.m, line 2: a NUL character (U+0000), which cannot be stored; remove it"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "limit"), [(BASE60, "max_digits"), (ALIASES, "max_nodes")], ids=["base60", "aliases"]
)
def test_the_form_answers_422_beside_the_box_with_the_text_kept(text: str, limit: str) -> None:
    response = Client().post(
        "/analyze/", {"manifest": text, "kubernetes_version": "1.37"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert f"({limit} = " in page and "line " in page
    response = Client().post("/analyze/", {"manifest": text, "kubernetes_version": "1.37"})
    assert response.status_code == 422
    assert "a0: &amp;a0" in response.content.decode() or "1:1:1" in response.content.decode()


@pytest.mark.django_db
def test_the_api_answers_422_naming_the_limit_and_line() -> None:
    response = Client().post(f"{API}/analyze", BASE60, content_type="application/yaml")
    assert response.status_code == 422
    assert response.json()["detail"].startswith("document 1, line 3: a number of 601 characters")


@pytest.mark.django_db
def test_a_deep_json_body_is_refused_before_any_view_parses_it(token) -> None:
    body = '{"manifest": "x", "assumptions": ' + "[" * 50_000 + "]" * 50_000 + "}"
    for path in (f"{API}/analyze", f"{API}/reviews"):
        response = Client().post(path, body, content_type="application/json", **token)
        assert response.status_code == 422
        assert response.json()["detail"] == "line 1: the JSON body is nested deeper than 100 levels"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "what"),
    [
        ("title", "a\x00b", "NUL character"),
        ("manifest", POD + "# \ud800\n", "lone surrogate (U+D800)"),
        ("description", "ok\n\n\x00", "NUL character"),
    ],
)
def test_text_a_database_refuses_is_a_422_naming_field_and_line(token, field, value, what) -> None:
    payload = {"title": "t", "manifest": POD, field: value}
    body = json.dumps(payload)  # ensure_ascii: \u0000 and \ud800 travel as escapes
    response = Client().post(f"{API}/reviews", body, content_type="application/json", **token)
    assert response.status_code == 422, response.content
    detail = response.json()["detail"]
    assert detail.startswith(f"body.{field}, line ") and what in detail
    assert not Review.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text", [BASE60, ALIASES, POD + "#\x00\n"], ids=["base60", "aliases", "nul"]
)
def test_no_save_path_stores_a_manifest_over_the_budget(token, text) -> None:
    client = Client()
    client.force_login(User.objects.get(username="ada"))
    response = client.post(
        "/reviews/save/", {"title": "t", "manifest": text, "kubernetes_version": "1.37"}
    )
    assert response.status_code == 400
    assert "line " in response.content.decode()
    body = json.dumps({"title": "t", "manifest": text})
    response = Client().post(f"{API}/reviews", body, content_type="application/json", **token)
    assert response.status_code == 422
    assert not Review.objects.exists()


@pytest.mark.django_db
def test_an_answer_over_the_output_budget_is_a_413(settings) -> None:
    settings.ADVISOR_MAX_OUTPUT_BYTES = 2_000
    response = Client().post(f"{API}/analyze", POD, content_type="application/yaml")
    assert response.status_code == 413
    assert "(max_output_bytes = 2,000 bytes of output)" in response.json()["detail"]


@pytest.mark.django_db
def test_a_quantity_past_what_a_float_holds_is_charted_not_a_500() -> None:
    text = POD.replace("image: nginx}", "image: nginx, resources: {requests: {cpu: 1e999}}}")
    response = Client().post("/analyze/", {"manifest": text, "kubernetes_version": "1.37"})
    assert response.status_code == 200
    assert (
        "9223372036854775807" in response.content.decode() or "1e999" in response.content.decode()
    )


@pytest.mark.django_db
def test_the_html_forms_apply_the_apis_tag_rules(token) -> None:
    client = Client()
    client.force_login(User.objects.get(username="ada"))
    fields = {"title": "t", "manifest": POD, "kubernetes_version": "1.37"}
    response = client.post("/reviews/save/", fields | {"tags": "ok, bad!tag"})
    assert response.status_code == 400
    assert "bad!tag" in response.content.decode() and not Review.objects.exists()
    response = client.post("/reviews/save/", fields | {"tags": "Ok, ok web"})
    review = Review.objects.get()
    assert sorted(review.tags.values_list("name", flat=True)) == ["ok", "web"]


@pytest.mark.django_db
def test_questionnaire_answers_are_checked_against_the_questions(token) -> None:
    answers = {"need": "outbound-proxy", "bogus": "1"}
    body = json.dumps({"title": "t", "kind": "questionnaire", "answers": answers})
    response = Client().post(f"{API}/reviews", body, content_type="application/json", **token)
    assert response.status_code == 422
    assert "unknown question 'bogus'" in response.content.decode()
    client = Client()
    client.force_login(User.objects.get(username="ada"))
    fields = {"title": "t", "kind": "questionnaire", "need": "outbound-proxy", "extra": "x"}
    response = client.post("/reviews/save/", fields)
    assert response.status_code == 400 and "unknown question" in response.content.decode()
    assert not Review.objects.exists()


def test_the_resource_chart_of_a_big_pod_grows_with_its_containers() -> None:
    from advisor.core.analyze import analyze_text
    from webui.charts import resource_chart

    def bars(n: int) -> int:
        inits = "".join(
            f"  - {{name: s{i}, image: envoy, restartPolicy: Always, "
            f"resources: {{requests: {{cpu: 10m}}}}}}\n"
            for i in range(n)
        )
        text = f"kind: Pod\nmetadata: {{name: p}}\nspec:\n  initContainers:\n{inits}"
        text += "  containers:\n  - {name: app, image: nginx, resources: {requests: {cpu: 1}}}\n"
        sizing = analyze_text(text).workloads[0].sizing
        figure = resource_chart(sizing, resource="cpu")
        return sum(len(t["x"]) for t in figure["data"] if t["type"] == "bar")

    assert bars(10) == 11 * 11  # a small pod: each container's bar across every phase
    assert bars(150) == 151  # a big one: each container once, where it starts


@pytest.mark.django_db
def test_a_manifest_over_the_byte_budget_is_a_413_with_the_text_kept(settings) -> None:
    settings.ADVISOR_MAX_INPUT_BYTES = 200
    text = POD + "# padding\n" * 20
    response = Client().post("/analyze/", {"manifest": text, "kubernetes_version": "1.37"})
    assert response.status_code == 413
    page = response.content.decode()
    assert "larger than 200 bytes" in page and "# padding" in page


@pytest.mark.django_db
def test_the_fix_answers_422_for_an_alias_bomb() -> None:
    text = POD.replace(
        "kind: Pod\n",
        "kind: Pod\nx:\n" + "".join("  " + line + "\n" for line in ALIASES.splitlines()),
    )
    target = json.dumps({"rule": "classic-sidecar-blocks-job", "document": 1, "container": "app"})
    response = Client().post(
        "/fix/", {"manifest": text, "kubernetes_version": "1.37", "fix": target}
    )
    assert response.status_code == 422
    assert "(max_nodes = 200,000" in response.content.decode()
