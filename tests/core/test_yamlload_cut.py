"""Cutting one file into slices (``--jobs`` on a large file) reads exactly what a whole read does.

Each slice is read on its own, as a worker process reads it; the documents that come out,
with their numbers, lines (of every key), values and errors, must be those of reading the
file whole, whatever the file holds at its separators.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.core.source import LDict
from advisor.core.yamlload import Limits, Slice, cut, iter_documents, with_big_stack

BODIES = [
    "kind: Pod\nmetadata:\n  name: a\n",
    "# only a comment\n",
    "",
    "\n\n",
    "data:\n  script: |\n    echo one\n    --- not a separator here\n    echo two\n",
    "broken: [1, 2\nnext: 3\n",
    "x: &anchor {a: 1}\ny: *anchor\n",
    "name: café ünïcode ✓\n",
    "%YAML 1.1\n",
    '{"kind": "Pod", "metadata": {"name": "json"}}\n',
    "list:\n- a\n- b\n",
    "key: value\r\nother: 2\r\n",
    "no: newline at the end",
    "  indented: 1\n",
]
SEPARATORS = [
    "---\n",
    "--- # comment\n",
    "...\n---\n",
    "...\n",
    "... # end\n",
    "--- {inline: 1}\n",
    "---\r\n",
    "---   \n",
    "--- |\n  a block scalar\n",
    "---\t!!map\n",
    "--- >\n",
]


def _flatten(value: Any) -> Any:
    """Values with the lines LDict carries, so a wrong line offset is a difference."""
    if isinstance(value, LDict):
        return (
            value.line,
            sorted(value.lines.items(), key=repr),
            {k: _flatten(v) for k, v in value.items()},
        )
    if isinstance(value, list):
        return [_flatten(v) for v in value]
    return value


def _read(text: str, part: Slice | None = None) -> list[tuple]:
    def run() -> list[tuple]:
        out = []
        for doc in iter_documents(text, file="f.yaml", part=part):
            error = doc.error
            out.append(
                (
                    doc.number,
                    doc.line,
                    _flatten(doc.value),
                    None if error is None else (str(error), error.document, error.line),
                )
            )
        return out

    return with_big_stack(run)


def _read_in_slices(text: str, pieces: int, limits: Limits | None = None) -> list[tuple]:
    cuts = cut(text, pieces, limits or Limits())
    ends = [*(at for at, _ in cuts[1:]), len(text)]
    out: list[tuple] = []
    for (start, part), end in zip(cuts, ends, strict=True):
        out.extend(_read(text[start:end], part))
    return out


@settings(max_examples=300, deadline=None)
@given(
    lead=st.sampled_from(["", "\ufeff", "---\n", "# header\n---\n"]),
    docs=st.lists(
        st.tuples(st.sampled_from(BODIES), st.sampled_from(SEPARATORS)), min_size=1, max_size=14
    ),
    pieces=st.integers(min_value=2, max_value=6),
)
def test_slices_read_as_the_whole_file_reads(lead: str, docs: list, pieces: int) -> None:
    text = lead + "".join(body + sep for body, sep in docs)
    assert _read_in_slices(text, pieces) == _read(text)


def test_a_many_document_file_is_cut_where_asked_and_numbers_carry_on() -> None:
    text = "".join(f"---\nkind: Pod\nmetadata:\n  name: p{i:03}\n" for i in range(100))
    cuts = cut(text, 4)
    assert len(cuts) == 4
    assert [part.documents for _, part in cuts] == [0, 25, 50, 75]
    assert [part.lines for _, part in cuts] == [0, 100, 200, 300]
    assert all(text.startswith("---\n", at) for at, _ in cuts[1:])
    assert _read_in_slices(text, 4) == _read(text)


def test_a_file_a_whole_read_refuses_is_not_cut() -> None:
    text = "".join(f"---\na: {i}\n" for i in range(50))
    assert len(cut(text, 3, Limits(max_documents=49))) == 1  # the refusal names document 50
    assert len(cut(text, 3, Limits(max_bytes=len(text) - 1))) == 1
    assert len(cut(text + "b: \ud800\n", 3)) == 1  # a lone surrogate
    assert len(cut(text, 3, Limits(max_documents=50))) == 3


def test_a_file_with_one_document_cannot_be_cut() -> None:
    assert len(cut("kind: Pod\nspec:\n  containers: []\n" * 10, 4)) == 1


def test_each_slice_reports_the_nodes_its_aliases_expanded_to() -> None:
    text = "---\nx: &a [1, 2, 3]\ny: *a\n" * 4
    cuts = cut(text, 2)
    assert len(cuts) == 2
    ends = [cuts[1][0], len(text)]
    used = []
    for (start, part), end in zip(cuts, ends, strict=True):
        _read(text[start:end], part)
        used.append(part.nodes_used)
    whole = Slice()
    _read(text, whole)
    assert sum(used) == whole.nodes_used > 0
