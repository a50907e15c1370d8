"""Hostile YAML: every input is analysed or refused with a clear message, at bounded cost.

Each input (``run_one.INPUTS``: alias and merge-key bombs, 50 MB, 100,000-deep flow and block
nesting, binary, invalid UTF-8, CRLF with a byte-order mark, UTF-16, 100,000 empty documents,
a 15 MB string) is analysed by ``tests/hostile/run_one.py`` in a fresh interpreter whose
address space (1.5 GiB) and CPU time are limited with ``setrlimit`` before the project is
imported; it reports the CPU time of the call and the peak resident size. Nothing here measures
wall-clock time: a runaway parse is stopped by the kernel (SIGXCPU), not by a timer.

The same inputs then go through the web form (its 2 MiB limit: 400 or 413 with a message) and
the JSON API (413, or 200 with the message under ``errors``); never a 500.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from advisor.core.analyze import analyze
from advisor.core.errors import InputError
from advisor.core.report import to_dict
from advisor.core.yamlload import decode
from tests.hostile.run_one import INPUTS, POD

RUNNER = Path(__file__).with_name("run_one.py")
CPU_SECONDS = 1.0  # measured: at most 0.22 s (the 15 MB string) on the 2-core CI machine
MAXRSS_KIB = 400 * 1024  # measured: at most 125 MiB (the 50 MB input, held twice)

# What each input must produce with the CLI's limits: a message that says what is wrong,
# or (None) a normal analysis of the one Pod in it.
EXPECTED: dict[str, str | None] = {
    "billion-laughs": "alias",
    "merge-key-bomb": "alias",
    "oversized-50mb": "larger than the limit of 16,777,216 bytes",
    "deep-flow-sequences-100k": "nesting deeper than 100 levels",
    "deep-flow-mappings-100k": "nesting deeper than 100 levels",
    "deep-block-sequences-100k": "nesting deeper than 100 levels",
    "deep-block-keys-100k": "nesting deeper than 100 levels",
    "deep-indented-mappings-3k": "nesting deeper than 100 levels",
    "binary": "binary",
    "random-bytes-without-nul": "UTF-8",
    "invalid-utf8": "UTF-8",
    "crlf-and-bom": None,
    "utf16-with-bom": None,
    "empty-documents-100k": "more than 20,000 documents",
    "string-scalar-15mb": None,
}
WEB_LIMIT = 2 * 1024 * 1024  # ADVISOR_MAX_INPUT_BYTES's default
# Inputs over a limit of the budget other than size: the web answers 422 naming the limit.
OVER_BUDGET = {
    "billion-laughs": "max_nodes",
    "merge-key-bomb": "max_nodes",
    "deep-flow-sequences-100k": "max_depth",
    "deep-flow-mappings-100k": "max_depth",
    "deep-block-sequences-100k": "max_depth",
    "deep-block-keys-100k": "max_depth",
    "deep-indented-mappings-3k": "max_depth",
    "empty-documents-100k": "max_documents",
}


def test_every_input_has_an_expectation() -> None:
    assert set(EXPECTED) == set(INPUTS)


def run_limited(name: str) -> dict:
    proc = subprocess.run(
        [sys.executable, str(RUNNER), name],
        capture_output=True,
        text=True,
        timeout=600,  # a safety net against a hang, not a measurement
        check=False,
    )
    assert proc.returncode == 0, (
        f"{name}: the runner exited with {proc.returncode} "
        f"({'killed by a signal: CPU or memory limit' if proc.returncode < 0 else 'error'})\n"
        f"{proc.stderr[-3000:]}"
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_the_core_handles_or_refuses_it_within_bounds(name: str) -> None:
    result = run_limited(name)
    assert result["cpu"] <= CPU_SECONDS, result
    assert result["maxrss_kib"] <= MAXRSS_KIB, result
    expected = EXPECTED[name]
    if expected is None:
        assert result["errors"] == [], result
        assert result["workloads"] == 1, result
    else:
        assert result["workloads"] == 0, result
        assert len(result["errors"]) == 1, result
        assert expected in result["errors"][0], result


def test_crlf_and_a_byte_order_mark_change_nothing_but_the_bytes() -> None:
    plain = to_dict(analyze([("x.yaml", POD)]))
    for data in (INPUTS["crlf-and-bom"](), INPUTS["utf16-with-bom"]()):
        assert to_dict(analyze([("x.yaml", data)])) == plain


# -- the web form and the API ------------------------------------------------------------------


def web_expectation(name: str, data: bytes) -> tuple[set[int], str]:
    """Statuses and a text the web must answer with for this input."""
    if len(data) > WEB_LIMIT:
        # Refused before or while reading: either message names the web's limit, as people
        # read sizes ("2 MiB").
        from webui.limits import manifest_limit

        return {400, 413}, manifest_limit()
    expected = EXPECTED[name]
    if name in ("binary", "random-bytes-without-nul", "invalid-utf8"):
        return {400}, expected or ""  # refused while the upload is read
    if name in OVER_BUDGET:
        return {422}, f"({OVER_BUDGET[name]} = "  # the message names the limit
    return {200}, expected or "web"  # analysed: the Pod's name


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(INPUTS))
def test_the_web_form_answers_with_a_message(name: str) -> None:
    data = INPUTS[name]()
    statuses, text = web_expectation(name, data)
    client = Client()
    upload = SimpleUploadedFile("hostile.yaml", data, content_type="application/yaml")
    response = client.post("/analyze/", {"upload": upload, "kubernetes_version": "1.37"})
    assert response.status_code in statuses
    assert text in response.content.decode()
    try:
        pasted = decode(data)
    except InputError:
        return  # only a file can carry bytes that are not text
    response = client.post(
        "/analyze/", {"manifest": pasted, "kubernetes_version": "1.37"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code in statuses
    assert text in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(INPUTS))
def test_the_api_answers_413_or_lists_the_error(name: str) -> None:
    data = INPUTS[name]()
    response = Client().post("/api/v1/analyze", data, content_type="application/yaml")
    body = response.json()
    if len(data) > WEB_LIMIT:
        from webui.limits import manifest_limit

        assert response.status_code == 413
        assert manifest_limit() in body["detail"]
        return
    if name in OVER_BUDGET:
        assert response.status_code == 422
        assert f"({OVER_BUDGET[name]} = " in body["detail"]
        assert body["detail"].startswith(("document 1, line ", "document 2001, line "))
        return
    assert response.status_code == 200
    expected = EXPECTED[name]
    if expected is None:
        assert body["errors"] == []
        assert response["X-Advisor-Exit-Code"] in ("0", "1")
        assert [w["name"] for w in body["workloads"]] == ["web"]
    else:
        assert [expected in e["message"] for e in body["errors"]] == [True]
        assert response["X-Advisor-Exit-Code"] == "2"
