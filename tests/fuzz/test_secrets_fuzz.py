"""Property-based fuzzing of redaction with every secret form a manifest may carry.

The manifests come from :func:`tests.fuzz.strategies.secret_forms_manifest` and are rendered in
any of the suite's YAML and JSON styles. For each: no planted secret is left, no line moves, and
redacting again changes nothing.
"""

from __future__ import annotations

from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st

from advisor.core.redact import Redacted, redact
from tests.fuzz.strategies import count, fuzz, render, secret_forms_manifest


@fuzz(0.2)
@given(case=secret_forms_manifest(), data=st.data())
def test_redaction_removes_every_secret_form_and_keeps_the_lines(
    case: tuple[list[Any], list[str]], data: st.DataObject
) -> None:
    count("core: redaction of secret forms")
    docs, planted = case
    text = data.draw(render(docs, allow_bytes=False))
    assert isinstance(text, str)
    result = redact(text)
    leaked = [secret for secret in planted if secret in result.text]
    assert not leaked, f"planted secrets left after redaction: {leaked}"
    assert result.text.count("\n") == text.count("\n")
    assert redact(result.text) == Redacted(result.text, ())
    removed = any("removed" in r.reason for r in result.redactions)
    event("a document removed" if removed else "values replaced in place")
