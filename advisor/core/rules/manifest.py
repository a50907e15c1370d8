"""Rules about the manifest text itself: repeated keys and template placeholders left behind."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from advisor.core.lazy import lazy_re
from advisor.core.model import Workload
from advisor.core.records import dataclass
from advisor.core.rules.base import Context, Finding, Rule, rule
from advisor.core.source import LDict

PLACEHOLDER = lazy_re(r"\{\{.*?\}\}|\$\{[A-Za-z_][^}]*\}|<[A-Za-z_][A-Za-z0-9_ .-]{0,60}>")
MAX_SHOWN = 5


Trail = tuple[object, ...]  # (parent trail, key) pairs, joined into a path only when needed


@dataclass(frozen=True)
class _Scan:
    """What one walk over a workload finds: mappings with repeated keys, placeholder strings."""

    duplicates: tuple[tuple[LDict, Trail], ...]
    strings: tuple[tuple[str, LDict | None, Any, Trail], ...]


def _scan(workload: Workload) -> _Scan:
    """Walk the workload once for both rules (kept on the workload object).

    Every node, depth first in document order, without a step per scalar: each mapping or
    list is read by one iterator on a stack.
    """
    cached = workload.__dict__.get("_manifest_scan")
    if cached is not None:
        return cast(_Scan, cached)
    duplicates: list[tuple[LDict, Trail]] = []
    strings: list[tuple[str, LDict | None, Any, Trail]] = []
    root = workload.raw
    # (items of a mapping or enumerate of a list, mapping the items belong to, the key of the
    # list in that mapping, trail, whether the items are a mapping's)
    stack: list[tuple[Iterator[tuple[Any, Any]], LDict | None, Any, Trail, bool]] = []
    if isinstance(root, dict):
        mapping = root if isinstance(root, LDict) else None
        if mapping is not None and mapping.duplicates:
            duplicates.append((mapping, ()))
        stack.append((iter(root.items()), mapping, None, (), True))
    elif isinstance(root, list):
        stack.append((iter(enumerate(root)), None, None, (), False))
    elif isinstance(root, str) and ("{" in root or "<" in root):
        strings.append((root, None, None, ()))
    while stack:
        items, holder, list_key, trail, is_map = stack[-1]
        for step, value in items:
            if isinstance(value, str):
                if "{" in value or "<" in value:
                    key = step if is_map else list_key
                    strings.append((value, holder, key, (trail, step)))
            elif isinstance(value, dict):
                inner = (trail, step)
                mapping = value if isinstance(value, LDict) else None
                if mapping is not None and mapping.duplicates:
                    duplicates.append((mapping, inner))
                stack.append((iter(value.items()), mapping, None, inner, True))
                break  # read the child first; this iterator resumes after it
            elif isinstance(value, list):
                inner = (trail, step)
                key = step if is_map else list_key
                stack.append((iter(enumerate(value)), holder, key, inner, False))
                break
        else:
            stack.pop()
    scan = _Scan(tuple(duplicates), tuple(strings))
    object.__setattr__(workload, "_manifest_scan", scan)
    return scan


def _path(trail: Trail) -> str:
    """Turn a trail into ``spec.containers[0].image``."""
    parts: list[object] = []
    while trail:
        trail, key = trail  # type: ignore[assignment]
        parts.append(key)
    out = ""
    for key in reversed(parts):
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


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
    for item, trail in _scan(ctx.workload).duplicates:
        assert item.duplicates is not None
        where = _path(trail)
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
    for item, parent, key, trail in _scan(ctx.workload).strings:
        where = _path(trail)
        if where.startswith("metadata.annotations"):
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
