"""Property-based fuzzing of the web form, the fix view, the questionnaire and the JSON API.

Examples per run (profile ``ci``, the default; see ``tests/fuzz/conftest.py``): 1,000 posts to
``/analyze/`` (each once as a full page and once for htmx), 750 to ``/fix/``, 1,250 to
``POST /api/v1/analyze`` (each as a raw YAML body and as JSON), 250 over-budget inputs to it
(``strategies.over_budget``: a 413 or 422 names the line), 500 questionnaire queries
(3,750 here, 11,750 with ``test_core_fuzz.py``; about 3 minutes on 2 cores).
``HYPOTHESIS_PROFILE=dev`` runs 50 a unit instead of 2,500 (235 in all).

Reproduce a failure: the seed is printed at the end of the session; run
``FUZZ_SEED=<seed> .venv/bin/python -m pytest tests/fuzz -p no:cacheprovider`` (or paste the
printed ``@reproduce_failure(...)`` decorator onto the failing test).

Properties: no endpoint answers 500 (every status is one of 200, 400, 413, 415, 422), API bodies
are JSON, and no generated ``<script>``/``onerror`` payload appears unescaped in any HTML page.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.strategies import (
    QUERY_PARAMS,
    SPECIAL_TEXT,
    WILD_TEXT,
    XSS,
    count,
    fix_request,
    fixable_docs,
    fuzz,
    manifest_input,
    over_budget,
    render,
)

pytestmark = pytest.mark.django_db

# Autouse fixtures (fast password hashing, rate limits off) are function-scoped: with
# fuzz(fixtures=True) a test's examples share them, which is harmless; each makes its own Client.

ALLOWED = {200, 400, 413, 415, 422}
HTMX = {"HTTP_HX_REQUEST": "true"}

VERSION = st.sampled_from(["1.37", "1.29", "1.25", "1.24", "2.0", "", "v1.31.2", "abc"])
SECONDS = st.sampled_from(["", "0", "1.5", "-3", "86401", "1e309", "nan", "inf", "x", " 2 "])
ASSUMPTION_FIELDS = (
    "image_start_seconds",
    "init_run_seconds",
    "ready_after_seconds",
    "exec_prestop_seconds",
    "exit_after_sigterm_seconds",
    "post_start_seconds",
)
FORM_EXTRAS = st.fixed_dictionaries(
    {},
    optional={
        "api_defaults": st.sampled_from(["on", "", "false"]),
        **dict.fromkeys(ASSUMPTION_FIELDS, SECONDS),
    },
)


def assert_escaped(body: bytes) -> None:
    html = body.decode("utf-8", "replace")
    for payload in XSS:
        assert payload not in html, f"unescaped {payload!r} in the page"


def check_html(response: Any, allowed: set[int] = ALLOWED) -> None:
    assert response.status_code in allowed, response.status_code
    assert_escaped(response.content)


def form_data(data: str | bytes, version: str, extras: dict[str, str]) -> dict[str, Any]:
    """The analyser form's fields: text in the box, or bytes as an uploaded file."""
    fields: dict[str, Any] = {"kubernetes_version": version, **extras}
    if isinstance(data, bytes):
        fields["upload"] = SimpleUploadedFile("m.yaml", data, content_type="application/yaml")
    else:
        fields["manifest"] = data
    return fields


@fuzz(0.4, fixtures=True)
@given(data=manifest_input(), version=VERSION, extras=FORM_EXTRAS)
def test_the_analyser_form_never_fails(
    data: str | bytes, version: str, extras: dict[str, str]
) -> None:
    count("web: /analyze/ (page and htmx)")
    client = Client()
    for headers in ({}, HTMX):
        response = client.post("/analyze/", form_data(data, version, extras), **headers)
        check_html(response, {200, 400, 413, 422})  # 413/422: over the budget
        if headers:
            assert b"<html" not in response.content


@fuzz(0.3, fixtures=True)
@given(docs=fixable_docs(), fix=fix_request(), version=VERSION, htmx=st.booleans(), d=st.data())
def test_the_fix_view_never_fails(
    docs: list[Any], fix: str, version: str, htmx: bool, d: st.DataObject
) -> None:
    count("web: /fix/")
    text = d.draw(render(docs, allow_bytes=False))
    data = {"manifest": text, "kubernetes_version": version, "fix": fix}
    response = Client().post("/fix/", data, **(HTMX if htmx else {}))
    check_html(response, {200, 400, 413, 422})  # 413/422: over the budget


API_QUERY = st.fixed_dictionaries(
    {},
    optional={
        "kubernetes_version": VERSION,
        "api_defaults": st.sampled_from(["true", "false", "yes", "2", ""]),
        "fail_on": st.sampled_from(["error", "warning", "never", "sometimes"]),
    },
)
CONTENT_TYPE = st.sampled_from(
    [
        "application/yaml",
        "application/x-yaml",
        "text/yaml",
        "text/plain",
        "text/plain; charset=utf-8",
        "application/octet-stream",
        "multipart/form-data",
    ]
)
JSON_VALUE = st.one_of(st.none(), st.booleans(), st.integers(), WILD_TEXT, SPECIAL_TEXT)
ASSUMPTIONS = st.one_of(
    JSON_VALUE,
    st.dictionaries(
        st.sampled_from([*ASSUMPTION_FIELDS, "per_container", "bogus"]),
        st.one_of(JSON_VALUE, st.floats(allow_nan=False), st.dictionaries(WILD_TEXT, JSON_VALUE)),
        max_size=3,
    ),
)


def check_api(response: Any) -> None:
    assert response.status_code in ALLOWED, (response.status_code, response.content[:500])
    body = json.loads(response.content)
    if response.status_code == 200:
        assert response["X-Advisor-Exit-Code"] in ("0", "1", "2")
        assert {"workloads", "errors", "skipped", "summary"} <= set(body)
    else:
        assert "detail" in body


@fuzz(0.1, fixtures=True)
@given(text=over_budget(), save=st.booleans())
def test_over_budget_input_is_a_4xx_naming_the_limit(text: str, save: bool) -> None:
    count("api: over-budget classes")
    client = Client()
    body = json.dumps({"manifest": text})  # NUL and lone surrogates travel as JSON escapes
    response = client.post("/api/v1/analyze", body, content_type="application/json")
    check_api(response)
    if response.status_code in (413, 422):
        detail = json.loads(response.content)["detail"]
        assert "line " in str(detail), detail
    raw = text.encode("utf-8", "surrogatepass")
    check_api(client.post("/api/v1/analyze", raw, content_type="application/yaml"))


@fuzz(0.5, fixtures=True)
@given(
    data=manifest_input(),
    query=API_QUERY,
    content_type=CONTENT_TYPE,
    as_json=st.fixed_dictionaries(
        {},
        optional={
            "kubernetes_version": JSON_VALUE | VERSION,
            "api_defaults": JSON_VALUE,
            "assumptions": ASSUMPTIONS,
        },
    ),
    wrong_manifest=st.one_of(st.none(), JSON_VALUE, st.lists(JSON_VALUE, max_size=2)),
    d=st.data(),
)
def test_the_api_never_fails(
    data: str | bytes,
    query: dict[str, str],
    content_type: str,
    as_json: dict[str, Any],
    wrong_manifest: Any,
    d: st.DataObject,
) -> None:
    count("api: POST /api/v1/analyze (raw and JSON)")
    client = Client()
    path = "/api/v1/analyze"
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    check_api(client.post(path, raw, content_type=content_type, QUERY_STRING=_query(query)))
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    manifest = wrong_manifest if d.draw(st.integers(0, 9)) == 0 else text
    body = json.dumps({"manifest": manifest, **as_json})
    check_api(client.post(path, body, content_type="application/json"))


def _query(params: dict[str, str]) -> str:
    return urlencode(params)


@fuzz(0.2, fixtures=True)
@given(params=QUERY_PARAMS, htmx=st.booleans())
def test_the_questionnaire_never_fails(params: dict[str, str], htmx: bool) -> None:
    count("web: /questionnaire/")
    response = Client().get("/questionnaire/", params, **(HTMX if htmx else {}))
    check_html(response, {200, 400})
