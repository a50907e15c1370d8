"""The one walk both manifest rules share finds what visiting every node finds, in order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from advisor.core.intake import read_document
from advisor.core.model import Workload
from advisor.core.rules.manifest import _scan
from advisor.core.source import LDict
from advisor.core.yamlload import iter_documents
from tests.conftest import FIXTURES


def _every_node(value: Any) -> Iterator[tuple[Any, LDict | None, Any, tuple[object, ...]]]:
    """Yield ``(value, parent mapping, key, trail)`` for every node, one at a time."""
    stack: list[tuple[Any, LDict | None, Any, tuple[object, ...]]] = [(value, None, None, ())]
    while stack:
        entry = stack.pop()
        yield entry
        item, parent, key, trail = entry
        if isinstance(item, dict):
            holder = item if isinstance(item, LDict) else None
            for k, v in reversed(item.items()):
                stack.append((v, holder, k, (trail, k)))
        elif isinstance(item, list):
            for i in range(len(item) - 1, -1, -1):
                stack.append((item[i], parent, key, (trail, i)))


def _expected(raw: Any) -> tuple[list[Any], list[Any]]:
    duplicates, strings = [], []
    for item, parent, key, trail in _every_node(raw):
        if isinstance(item, str):
            if "{" in item or "<" in item:
                strings.append((item, parent, key, trail))
        elif isinstance(item, LDict) and item.duplicates:
            duplicates.append((item, trail))
    return duplicates, strings


def _workloads(text: str, file: str) -> list[Workload]:
    found = []
    for document in iter_documents(text, file=file):
        found += [e for e in read_document(document, file=file) if isinstance(e, Workload)]
    return found


NESTED = """\
apiVersion: v1
kind: Pod
metadata:
  name: p-{{ name }}
  labels: {a: <x>, a: '${y}'}
spec:
  containers:
  - name: app
    image: img:${TAG}
    args: [[a, '{b}', [c, '<d>']], {e: '{{f}}', e: '{{g}}'}, '<h>']
    env:
    - {name: X, value: '<v>'}
  - [weird, '{{list}}']
  volumes: [{name: v, emptyDir: {}}, '{{v}}']
"""


@pytest.mark.parametrize("folder", ["corpus", "wild", "heldout", "manifests"])
def test_the_shared_walk_finds_every_node_in_document_order(folder: str) -> None:
    files = [p for p in sorted((FIXTURES / folder).iterdir()) if p.suffix not in (".md", ".tsv")]
    texts = [(p.name, p.read_text(encoding="utf-8")) for p in files]
    checked = 0
    for name, text in [*texts, ("nested.yaml", NESTED)]:
        try:
            workloads = _workloads(text, name)
        except Exception:
            continue
        for w in workloads:
            scan = _scan(w)
            duplicates, strings = _expected(w.raw)
            assert [(id(d), t) for d, t in scan.duplicates] == [(id(d), t) for d, t in duplicates]
            assert [(s, id(p), k, t) for s, p, k, t in scan.strings] == [
                (s, id(p), k, t) for s, p, k, t in strings
            ]
            assert _scan(w) is scan  # kept on the workload
            checked += 1
    assert checked > 5


def test_the_nested_sample_has_what_the_walk_must_find() -> None:
    (w,) = _workloads(NESTED, "nested.yaml")
    scan = _scan(w)
    assert len(scan.duplicates) == 2
    assert [s for s, *_ in scan.strings][:4] == ["p-{{ name }}", "${y}", "img:${TAG}", "{b}"]


@pytest.mark.parametrize(
    "raw",
    [
        ["{{a}}", ["<b>", {"c": "${d}"}], []],
        "{{top}}",
        {"a": [[["<deep>"]], {}], "b": {"c": ["x", "{{y}}"]}},
        {},
        [],
    ],
)
def test_the_shared_walk_handles_any_root(raw: Any) -> None:
    from types import SimpleNamespace

    holder = SimpleNamespace(raw=raw)
    scan = _scan(holder)  # type: ignore[arg-type]
    duplicates, strings = _expected(raw)
    assert list(scan.duplicates) == duplicates
    assert list(scan.strings) == strings
