"""Safe YAML loading: line numbers, documents, anchors, and hostile input refused quickly."""

from __future__ import annotations

import time

import pytest

from advisor.core.errors import InputError
from advisor.core.source import LDict, line_of
from advisor.core.yamlload import Limits, decode, load_documents

BOMB = "\n".join(
    [f"{chr(97)}: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{chr(98 + i)}: &a{i + 1} [" + ", ".join([f"*a{i}"] * 9) + "]" for i in range(8)]
)
MERGE_BOMB = "\n".join(
    ["a0: &a0 {k0: v}"]
    + [
        f"a{i}: &a{i} {{<<: [{', '.join([f'*a{i - 1}'] * 1)}], k{i}: v, "
        + ", ".join(f"x{j}: *a{i - 1}" for j in range(6))
        + "}"
        for i in range(1, 12)
    ]
)


def values(text: str, **limits: int) -> list:
    return [d.value for d in load_documents(text, limits=Limits(**limits))]


def test_it_keeps_the_line_of_every_key() -> None:
    (doc,) = values("a: 1\n\nb:\n  c: 2\n  d:\n  - e: 3\n")
    assert isinstance(doc, LDict)
    assert line_of(doc, "b") == 3
    assert line_of(doc["b"], "d") == 5
    assert line_of(doc["b"]["d"][0], "e") == 6


def test_it_numbers_documents_and_their_lines_across_separators() -> None:
    docs = load_documents("---\na: 1\n---\n# only a comment\n---\nb: 2\n...\n---\nc: 3\n")
    assert [(d.number, d.line) for d in docs] == [(1, 2), (3, 6), (4, 9)]
    assert line_of(docs[2].value, "c") == 9


def test_it_reports_a_broken_document_and_keeps_reading_the_others() -> None:
    docs = load_documents("a: 1\n---\nb: [1, 2\nc: 3\n---\nd: 4\n", file="x.yaml")
    assert docs[0].value == {"a": 1}
    assert docs[1].error is not None
    assert docs[1].error.document == 2
    assert docs[1].error.line in (3, 4)
    assert "x.yaml" in str(docs[1].error)
    assert docs[2].value == {"d": 4}


def test_it_handles_crlf_and_a_byte_order_mark() -> None:
    text = decode("\ufeffkind: Pod\r\nmetadata:\r\n  name: x\r\n".encode())
    (doc,) = values(text)
    assert doc["metadata"]["name"] == "x"
    assert line_of(doc["metadata"], "name") == 3


def test_it_keeps_ordinary_anchors_and_merge_keys_working() -> None:
    (doc,) = values(
        "base: &base {cpu: 100m, memory: 64Mi}\n"
        "small:\n  <<: *base\n  memory: 32Mi\n"
        "list: [*base]\n"
    )
    assert doc["small"] == {"cpu": "100m", "memory": "32Mi"}
    assert doc["list"] == [{"cpu": "100m", "memory": "64Mi"}]


def test_it_keeps_timestamps_as_text() -> None:
    (doc,) = values("creationTimestamp: 2024-01-01T00:00:00Z\n")
    assert doc["creationTimestamp"] == "2024-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("billion laughs", BOMB),
        ("merge-key bomb", MERGE_BOMB),
    ],
)
def test_it_refuses_expansion_bombs_fast(name: str, text: str) -> None:
    start = time.perf_counter()
    (doc,) = load_documents(text)
    elapsed = time.perf_counter() - start
    assert doc.error is not None, name
    assert "alias" in doc.error.message
    assert elapsed < 1.0


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        "- " * 100_000 + "x",
        "a: " + "{b: " * 100_000 + "c" + "}" * 100_000,
        'x: "' + "]" * 50_000 + '"\ny: ' + "[" * 50_000 + "]" * 50_000,
    ],
    ids=["flow-sequences", "compact-block-sequences", "flow-mappings", "hidden-behind-quotes"],
)
def test_it_refuses_deep_nesting_quickly(text: str) -> None:
    start = time.perf_counter()
    (doc,) = load_documents(text)
    assert time.perf_counter() - start < 1.0
    assert doc.error is not None
    assert "nesting deeper than 100" in doc.error.message


def test_it_accepts_nesting_up_to_the_limit() -> None:
    (doc,) = values("a: " + "[" * 50 + "]" * 50)
    assert doc["a"] is not None


def test_it_refuses_input_over_the_size_limit() -> None:
    with pytest.raises(InputError, match="larger than the limit"):
        load_documents("a: 1\n" * 100, limits=Limits(max_bytes=100))


def test_it_refuses_binary_and_names_the_line() -> None:
    with pytest.raises(InputError, match="binary") as info:
        decode(b"kind: Pod\n\x00\x01\x02")
    assert info.value.line == 2


def test_it_refuses_invalid_utf8_with_its_line() -> None:
    with pytest.raises(InputError, match="UTF-8") as info:
        decode(b"a: 1\nb: \xff\xfe\xfa\n")
    assert info.value.line == 2


def test_it_reads_json_that_libyaml_rejects() -> None:
    (doc,) = values('{\n\t"kind": "Pod",\n\t"metadata": {"name": "x"}\n}')
    assert doc["kind"] == "Pod"


def test_it_turns_unhashable_keys_into_text() -> None:
    (doc,) = values("? [a, b]\n: 1\n")
    assert list(doc) == ['["a", "b"]']


def test_it_remembers_keys_a_later_one_overwrote() -> None:
    (doc,) = load_documents("a: 1\nb:\n  c: 2\n  c: 3\na: 4\n")
    assert doc.value == {"a": 4, "b": {"c": 3}}
    assert doc.value.duplicates == {"a": [1]}
    assert doc.value["b"].duplicates == {"c": [3]}
    (clean,) = load_documents("a: 1\nb: 2\n")
    assert clean.value.duplicates is None
