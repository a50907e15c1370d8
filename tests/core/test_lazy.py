"""Regular expressions compiled at their first use behave as compiled ones."""

from __future__ import annotations

import re

import pytest

from advisor.core.lazy import LazyPattern, lazy_re


def test_a_lazy_pattern_answers_as_the_compiled_one() -> None:
    lazy, compiled = lazy_re(r"(\w+)=(\d+)", re.I), re.compile(r"(\w+)=(\d+)", re.I)
    assert "match" not in vars(lazy)  # nothing compiled yet
    text = "a=1 B=22 c=x"
    assert lazy.search(text)[0] == compiled.search(text)[0]  # type: ignore[index]
    assert [m.groups() for m in lazy.finditer(text)] == [
        m.groups() for m in compiled.finditer(text)
    ]
    assert lazy.findall(text) == compiled.findall(text)
    assert lazy.sub("-", text) == compiled.sub("-", text)
    assert lazy.split(text) == compiled.split(text)
    assert lazy.fullmatch("k=9") is not None and lazy.match("=9") is None
    assert (lazy.pattern, lazy.flags, lazy.groups) == (compiled.pattern, compiled.flags, 2)


def test_two_lazy_patterns_do_not_share_their_compiled_form() -> None:
    first, second = lazy_re("a+"), lazy_re("b+")
    assert first.fullmatch("aaa") and not second.fullmatch("aaa")
    assert second.fullmatch("bb") and not first.fullmatch("bb")


def test_a_lazy_pattern_reports_a_bad_expression_when_used() -> None:
    bad = LazyPattern("(")
    with pytest.raises(re.error):
        bad.search("x")
    with pytest.raises(AttributeError):
        bad.__wrapped__  # noqa: B018
