"""Rules about the manifest text itself: repeated keys and template placeholders left behind."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from advisor.core.rules.base import Context, Finding, Rule, rule
from advisor.core.source import LDict

PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\$\{[A-Za-z_][^}]*\}|<[A-Za-z_][A-Za-z0-9_ .-]{0,60}>")
MAX_SHOWN = 5


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any, LDict | None, Any]]:
    """Yield ``(path, value, parent mapping, key)`` for every scalar and mapping, iteratively."""
    stack: list[tuple[str, Any, LDict | None, Any]] = [(path, value, None, None)]
    while stack:
        where, item, parent, key = stack.pop()
        yield where, item, parent, key
        if isinstance(item, dict):
            holder = item if isinstance(item, LDict) else None
            for k, v in reversed(list(item.items())):
                stack.append((f"{where}.{k}" if where else str(k), v, holder, k))
        elif isinstance(item, list):
            for i in range(len(item) - 1, -1, -1):
                stack.append((f"{where}[{i}]", item[i], parent, key))


@rule(
    id="duplicate-key",
    title="A mapping repeats a key",
    severity="warning",
    rationale="YAML mappings must not repeat a key. Most tools silently keep the last value "
    "and drop the earlier one (a second 'env:' or 'resources:' erases the first), and strict "
    "decoders such as kubectl's reject the document. What the cluster runs is not what the "
    "author reads.",
    fix="Merge the two entries into one key.",
)
def duplicate_key(r: Rule, ctx: Context) -> Iterator[Finding]:
    shown = 0
    for where, item, _, _ in _walk(ctx.workload.raw, ""):
        if not isinstance(item, LDict) or not item.duplicates:
            continue
        for key, earlier in item.duplicates.items():
            if shown >= MAX_SHOWN:
                return
            shown += 1
            lines = ", ".join(str(n) for n in earlier)
            path = f"{where}.{key}" if where else str(key)
            yield r.finding(
                f"'{path}' is set again at line {item.lines.get(key)} (also at line {lines}); "
                "only the last value is kept",
                line=item.lines.get(key),
            )


@rule(
    id="template-placeholder",
    title="A template placeholder was left in the manifest",
    severity="info",
    rationale="Text such as {{ .Values.x }}, ${VAR} or <DB_PORT> is a placeholder a template "
    "tool or a person was meant to replace. Left as is, the cluster gets the literal text: an "
    "image that cannot be pulled, a port that is not a number, a flag with a bogus value. "
    "Info only: examples and templates carry them on purpose.",
    fix="Render the template (helm template, envsubst, kustomize) before applying, or replace "
    "the placeholder by hand.",
)
def template_placeholder(r: Rule, ctx: Context) -> Iterator[Finding]:
    found: list[tuple[str, str, int | None]] = []
    for where, item, parent, key in _walk(ctx.workload.raw, ""):
        if not isinstance(item, str) or where.startswith("metadata.annotations"):
            continue
        in_script = ".command[" in where or ".args[" in where
        match = next(
            (m for m in PLACEHOLDER.finditer(item) if not (in_script and m[0].startswith("${"))),
            None,
        )  # a shell expands ${VAR} in a command itself
        if match:
            line = parent.lines.get(key) if parent is not None else None
            found.append((where, match[0], line))
    for where, text, line in found[:MAX_SHOWN]:
        yield r.finding(f"{where} holds the placeholder {text!r}", line=line)
    if len(found) > MAX_SHOWN:
        yield r.finding(
            f"{len(found) - MAX_SHOWN} more placeholder(s) in this workload", line=found[0][2]
        )


RULES = [duplicate_key, template_placeholder]
