"""Property-based fuzzing of the analysis core, its reports, the CLI, fixes and redaction.

Examples per run (profile ``ci``, the default; see ``tests/fuzz/conftest.py``): 2,000 generated
manifests, 500 over-budget inputs (``strategies.over_budget``), 2,500 damaged texts, 1,000
fixable manifests, 2,000 manifests with planted secrets (8,000 here, 11,750 with
``test_web_fuzz.py``; about 3 minutes on 2 cores).
``HYPOTHESIS_PROFILE=dev`` runs 50 a unit instead of 2,500 (235 in all).

Reproduce a failure: the seed is printed at the end of the session; run
``FUZZ_SEED=<seed> .venv/bin/python -m pytest tests/fuzz -p no:cacheprovider`` (or paste the
printed ``@reproduce_failure(...)`` decorator onto the failing test).

Properties:

* ``analyze`` never raises: unusable input becomes ``errors[]`` entries (``InputError`` is the
  only exception the core raises, and ``analyze`` catches it);
* ``to_dict``, ``to_json`` (valid JSON), ``to_sarif`` and ``to_text`` never raise;
* every finding's rule id is registered; every line (workloads, containers, findings, errors,
  skipped documents) is None or within the input's lines, counted as YAML counts line breaks;
* every quantity in ``effective`` parses back with ``parse_quantity`` (within the parser's
  documented bounds, see :func:`assert_parses_back`), and its canonical text is then stable;
* ``advisor.cli.main`` returns 0, 1 or 2;
* ``fix`` raises only ``FixError`` and its patched text analyses again;
* ``redact`` never raises and no planted secret survives it.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st

from advisor import cli
from advisor.core.analyze import Report, analyze
from advisor.core.budget import limit_of
from advisor.core.errors import InputError
from advisor.core.fixes import FIXABLE_RULES, FixError, fix, fix_finding
from advisor.core.quantity import MAX_LENGTH, parse_quantity
from advisor.core.redact import REDACTED, redact
from advisor.core.report import to_dict, to_json, to_sarif, to_text
from advisor.core.rules import REGISTRY
from advisor.core.yamlload import decode
from tests.fuzz.strategies import (
    FIX_TARGET,
    MARKER,
    count,
    fixable_docs,
    fuzz,
    manifest_input,
    mutated,
    over_budget,
    render,
    secret_manifest,
)

BINARY_CAP = 2**63 - 1
BREAK = re.compile(r"\r\n?|[\n\x85\u2028\u2029]")  # YAML's line breaks (libyaml's too)


def line_count(data: str | bytes) -> int:
    """How many lines the input has, counting line breaks as YAML does (CRLF once).

    Bytes the core refuses (binary, invalid UTF-8) count their ``\\n`` bytes, as the message
    pointing into them does.
    """
    if isinstance(data, bytes):
        try:
            data = decode(data)
        except InputError:
            return data.count(b"\n") + 1
    return len(BREAK.findall(data)) + 1


def check_report(report: Report, data: str | bytes) -> None:
    """Every property of one analysis that does not depend on how it was produced."""
    lines = line_count(data)

    def within(line: int | None, what: str) -> None:
        assert line is None or 1 <= line <= lines, f"{what}: line {line} of {lines}"

    for w in report.workloads:
        within(w.workload.line, "workload")
        for c in w.containers:
            within(c.line, f"container {c.name!r}")
        for f in (*w.findings, *w.suppressed):
            assert f.rule in REGISTRY, f.rule
            within(f.line, f"finding {f.rule}")
    for e in report.errors:
        within(e.line, f"error {e.message!r}")
    for s in report.skipped:
        within(s.line, f"skipped {s.kind!r}")

    document = to_dict(report)
    assert json.loads(to_json(report)) == json.loads(json.dumps(document))
    json.dumps(to_sarif(report))
    assert isinstance(to_text(report), str)
    for w in document["workloads"]:
        effective = w["effective"]
        values = [*effective["requests"].values(), *effective["limits"].values()]
        for phase in effective["phases"]:
            values += phase["total_requests"].values()
            values += phase["total_limits"].values()
            for per_container in (*phase["requests"].values(), *phase["limits"].values()):
                values += per_container.values()
        for value in values:
            assert_parses_back(value)


def assert_parses_back(value: str) -> None:
    """A quantity the report prints reads back, and reprinting it is stable from then on.

    The text itself may change once, as in Kubernetes: a binary-format sum that is a whole
    number but no multiple of 1024 prints as bare digits ("262145000"), and bare digits read
    back as a decimal quantity, which prints "262145k" (the same amount).

    Two documented bounds of ``advisor.core.quantity`` apply to absurd sums only: text longer
    than ``MAX_LENGTH`` (100) is refused unread (a sum near 10^90 prints longer), and a
    binary-suffixed value reads back capped at 2^63-1 (a sum past that keeps its suffix).
    """
    if len(value) > MAX_LENGTH:
        event("effective quantity longer than the parser accepts")
        return
    parsed = parse_quantity(value)
    if value.endswith("i") and parsed.value == BINARY_CAP:
        event("binary effective quantity past 2^63-1")
        return
    again = parse_quantity(str(parsed))
    assert again == parsed, (value, str(parsed))
    assert str(again) == str(parsed)


class _Stdin(io.StringIO):
    """Standard input whose ``buffer`` holds bytes, as the CLI reads a pipe."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.buffer = io.BytesIO(data)


def run_cli(data: str | bytes, *args: str) -> int:
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["-", *args], stdin=_Stdin(raw), stdout=out, stderr=err)
    if args[-1:] == ("json",):
        json.loads(out.getvalue())
    return code


@fuzz(0.8)
@given(data=manifest_input(), fmt=st.sampled_from(["text", "json", "sarif"]), options=st.data())
def test_analyze_never_raises_on_generated_manifests(
    data: str | bytes, fmt: str, options: st.DataObject
) -> None:
    count("core: generated manifests")
    report = analyze([("x.yaml", data)])
    check_report(report, data)
    fail_on = options.draw(st.sampled_from(["error", "warning", "never"]))
    version = options.draw(st.sampled_from(["1.25", "1.28", "1.29", "1.33", "1.37"]))
    extra = ["--no-api-defaults"] if options.draw(st.booleans()) else []
    code = run_cli(
        data, "--fail-on", fail_on, "--kubernetes-version", version, *extra, "--format", fmt
    )
    assert code in (0, 1, 2)


@fuzz(0.2)
@given(text=over_budget())
def test_over_budget_input_is_refused_by_name_or_analysed_with_linear_output(text: str) -> None:
    count("core: over-budget classes")
    report = analyze([("x.yaml", text)])
    check_report(report, text)
    for problem in report.errors:
        limit = limit_of(problem.message)
        event(f"over budget: {limit}" if limit else "refused: not a budget limit")
        if limit is not None:
            assert problem.line is not None and problem.document is not None, problem
    if not report.errors:
        event("analysed")
    # Output grows with the input, never with its square (the per-phase breakdown once did).
    assert len(to_json(report)) < 100_000 + 300 * len(text)
    assert run_cli(text, "--format", "json") in (0, 1, 2)


@fuzz(1.0)
@given(data=mutated())
def test_analyze_never_raises_on_damaged_text(data: str | bytes) -> None:
    count("core: damaged text")
    report = analyze([("x.yaml", data)])
    check_report(report, data)


def _apply(text: str, **kwargs: Any) -> None:
    """Apply one fix; only FixError may escape, and the result must analyse."""
    try:
        patched = fix(text, **kwargs)
    except FixError:
        event("fix request: refused with FixError")
        return
    event("fix request: applied")
    check_report(analyze([("x.yaml", patched.patched)]), patched.patched)


@fuzz(0.4)
@given(docs=fixable_docs(), data=st.data())
def test_fixes_raise_only_fix_error_and_reanalyse(docs: list[Any], data: st.DataObject) -> None:
    count("core: fixes")
    text = data.draw(render(docs, allow_bytes=False))
    assert isinstance(text, str)
    report = analyze([("manifest.yaml", text)])
    for w in report.workloads:
        for f in w.findings:
            if f.rule not in FIXABLE_RULES:
                continue
            try:
                patched = fix_finding(text, finding=f, workload=w, report=report)
            except FixError:
                event(f"{f.rule}: fix refused")
                continue
            event(f"{f.rule}: fixed")
            again = analyze([("manifest.yaml", patched.patched)])
            check_report(again, patched.patched)
    # A request the web form could send: any rule, document, container, HPA.
    target = data.draw(FIX_TARGET)
    if isinstance(target, dict) and isinstance(target.get("document"), int):
        kwargs = {k: v for k, v in target.items() if k in ("container", "hpa")}
        if all(isinstance(v, str) for v in kwargs.values()):
            _apply(text, rule=target["rule"], document=target["document"], **kwargs)


@fuzz(0.8)
@given(case=secret_manifest(), data=st.data())
def test_redaction_never_raises_and_leaves_no_planted_secret(
    case: tuple[list[Any], list[str]], data: st.DataObject
) -> None:
    count("core: redaction")
    docs, planted = case
    text = data.draw(render(docs, allow_bytes=False))
    assert isinstance(text, str)
    assert MARKER in text
    result = redact(text)
    leaked = [p for p in planted if MARKER + _suffix(p) in result.text]
    assert not leaked, f"planted secrets left after redaction: {leaked}"
    assert REDACTED in result.text or "removed" in result.text
    removed = any("removed" in r.reason for r in result.redactions)
    event("redaction: a document removed" if removed else "redaction: values replaced")
    # Damaged text: redaction still never raises.
    redact(_as_str(data))


def _suffix(planted: str) -> str:
    at = planted.index(MARKER) + len(MARKER)
    return planted[at : at + 12]


def _as_str(data: st.DataObject) -> str:
    value = data.draw(mutated())
    return value if isinstance(value, str) else value.decode("utf-8", "replace")
