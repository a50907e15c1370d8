"""Redact secrets from manifest text before a review stores it, keeping the rest as written.

What is redacted (:mod:`advisor.core.credentials` says which names look secret and which
credentials it finds inside text):

* every value under ``data`` and ``stringData`` of a ``kind: Secret`` object, wherever the object
  sits (a document, an item of a ``List``, an object inside a template);
* the ``value`` of every ``name``/``value`` entry whose name looks secret: env vars, probe
  ``httpHeaders`` (``Authorization``), workflow parameters; ``valueFrom`` names a reference, not a
  secret, and stays;
* every string value under a key whose name looks secret (``ConfigMap`` data keys, annotations
  such as ``example.com/auth-token``, fields of custom resources), except the bare ``key`` of a
  ``secretKeyRef`` or a volume's ``items``;
* the ``kubectl.kubernetes.io/last-applied-configuration`` annotation, whole, when the object it
  copies holds anything this module would redact;
* inside any other string, and across the items of a list (``args: [--token, x]``): only the
  credential itself (a URL's password, a ``password=`` pair, a token with a known prefix, a
  private key's body, a secret flag's value); the rest of the string stays.

How: each document is loaded with :mod:`advisor.core.yamlload`, the values to redact are found in
the tree, and a small scanner reads the document's text to find where every key's value is
written (plain, quoted, block scalar, flow collection, or on the lines under its key). Only that
text is replaced by ``REDACTED`` (quoted the way the value was; double-quoted in JSON), so
comments, formatting, line endings and the other documents stay byte for byte. No line is added
or removed: a value written over several lines leaves blank lines behind, so every finding's line
is the same in the redacted text as in the pasted one.

Nothing secret is left behind: the scanner's keys must agree with the tree's, one for one, and the
redacted document is loaded again and must equal the original with just those values replaced.
A credential that is not written inside its value the way it reads (an escape, a folded line)
gets its whole value replaced. When that fails too (duplicate or merge keys, text the scanner
misreads), the document is redacted line by line as below, and kept only if none of the values
the tree calls secret is left; else it is replaced by a ``# document N removed: ...`` comment
(and blank lines). A document that does not parse is redacted line by line in linear time: the
credentials found in its text, the values under a Secret's ``data:``/``stringData:``, the
values (and lines under) keys and entries whose names look secret, and, in a text that says
``kind: Secret``, every value but those of the keys that describe the object. Comments of a
document that parses are never changed, so a secret typed into a comment stays.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import field
from typing import Any

from advisor.core.credentials import (
    REDACTED,
    find,
    is_reference,
    object_values,
    secret_word,
    words_of,
)
from advisor.core.lazy import lazy_re
from advisor.core.records import dataclass
from advisor.core.source import LDict
from advisor.core.yamlload import Document, Limits, load_documents, split_documents

__all__ = ["REDACTED", "Redacted", "Redaction", "mask", "redact", "secret_word"]

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_MAX_PARTS = 32  # more distinct secrets than this inside one value: the whole value goes


@dataclass(frozen=True)
class Redaction:
    """One value replaced, or one document removed, and why."""

    document: int
    line: int
    path: str
    reason: str


@dataclass(frozen=True)
class Redacted:
    """The redacted text and what was taken out of it."""

    text: str
    redactions: tuple[Redaction, ...]
    # The text each redaction replaced, to mask copies of it elsewhere (an analysis stored
    # with an older revision); never stored or shown.
    values: frozenset[str] = field(default=frozenset(), compare=False, repr=False)


def redact(text: str) -> Redacted:
    """Replace secret values in ``text`` with ``REDACTED`` and list each replacement."""
    # Every leading byte-order mark stays out of the body: the loader would drop one more than
    # _chunks() does, and the document numbers of the two would no longer match.
    body = text.lstrip("\ufeff")
    bom = text[: len(text) - len(body)]
    chunks = _chunks(body)
    loaded = load_documents(body, limits=_limits(body))
    documents = {document.number: document for document in loaded}
    parts: list[str] = []
    redactions: dict[tuple[int, int, str], Redaction] = {}
    values: set[str] = set()
    done = 0
    for chunk in chunks:
        result = _redact_chunk(body[chunk.start : chunk.end], chunk, documents[chunk.number])
        if result is None:
            continue
        new, found = result
        parts += [body[done : chunk.start], new]
        first = chunk.line + 1  # lines never move: every replacement keeps its line breaks
        starts = _line_starts(new)
        values.update(f.value for f in found if f.value)
        for f in found:
            line = first + bisect.bisect_right(starts, f.at) - 1
            redactions.setdefault(
                (chunk.number, line, f.path), Redaction(chunk.number, line, f.path, f.reason)
            )
        done = chunk.end
    parts.append(body[done:])
    ordered = sorted(redactions.values(), key=lambda r: (r.document, r.line))
    return Redacted(bom + "".join(parts), tuple(ordered), frozenset(values))


def _limits(text: str) -> Limits:
    """Accept any size and count: the caller already accepted the text; keep the other bounds."""
    return Limits(max_bytes=4 * len(text) + 4, max_documents=len(text) + 1)


# ---------------------------------------------------------------------------------------------
# Documents


_CONTENT = lazy_re(r"^[ \t]*[^\s#%]", re.MULTILINE)  # the test yamlload uses for content


@dataclass(frozen=True)
class _Chunk:
    """Where one document's text is: ``text[start:end]``, from 0-based line ``line``."""

    number: int
    start: int
    end: int
    line: int
    opener: str
    midline: bool


def _chunks(text: str) -> list[_Chunk]:
    """List the documents' text spans, numbered the way ``yamlload`` numbers them."""
    starts = _line_starts(text)
    found: list[_Chunk] = []
    number, first = 0, True
    for line, chunk, opener in split_documents(text):
        empty = _CONTENT.search(chunk) is None
        counted = not (empty and (first or opener == "..."))
        first = False
        number += counted
        if empty:
            continue
        start = starts[line]
        midline = not text.startswith(chunk, start)  # "--- {a: 1}": it starts after the "---"
        start += 3 if midline else 0
        found.append(_Chunk(number, start, start + len(chunk), line, opener, midline))
    return found


def _line_starts(text: str) -> list[int]:
    """Return the position where each line starts."""
    return [0, *(match.end() for match in re.finditer("\n", text))]


@dataclass(frozen=True)
class _Found:
    """A redaction inside one document's new text, at position ``at``."""

    at: int
    path: str
    reason: str
    value: str = ""  # the text replaced


class _Unlocatable(Exception):
    """The text of a value to redact could not be found with certainty."""


def _redact_chunk(raw: str, chunk: _Chunk, document: Document) -> tuple[str, list[_Found]] | None:
    """Return one document's redacted text and what was redacted, or None to keep it."""
    if document.error is not None:
        return _redact_unparsed(raw)
    targets = _targets(document.value)
    if not targets:
        return None
    done = _attempt(raw, document, targets, chunk)
    if done is None and any(t.parts for t in targets):
        # A credential inside a value could not be masked where it is written (escapes, line
        # folding, aliases): replace those values whole instead.
        again = _reloaded(raw)  # the failed attempt changed the first tree's values
        whole = [_Target(t.mapping, t.key, t.path, t.reason) for t in _targets(again.value)]
        done = _attempt(raw, again, whole, chunk)
    if done is None:
        # Duplicate keys, merge keys, text the scanner misreads: the line scanner redacts in
        # place, and is kept only if no value the tree calls secret is left in the text.
        done = _redact_unparsed(raw, why="read line by line (duplicate or merge keys)")
        if done is not None and _leaks(done[0], _reloaded(raw)):
            done = None
    return _unredactable(raw, chunk) if done is None else done


def _leaks(text: str, document: Document) -> bool:
    """Tell whether ``text`` still holds a word of a value the tree calls secret."""
    found: set[str] = set()
    for target in _targets(document.value):
        found |= target.parts or set(_strings(target.mapping[target.key]))
    # A folded or quoted value is not written as it reads: look for its words too.
    words = {s.strip() for s in found} | {w for s in found for w in s.split() if len(w) > 3}
    return any(w in text for w in words if w and w != REDACTED)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | dict):
        for item in value.values() if isinstance(value, dict) else value:
            yield from _strings(item)
    elif value is not None:
        yield str(value)


def _attempt(
    raw: str, document: Document, targets: list[_Target], chunk: _Chunk
) -> tuple[str, list[_Found]] | None:
    try:
        new, found = _replace(raw, document.value, targets, line=chunk.line)
    except _Unlocatable:
        return None
    return (new, found) if _verified(new, document.value, targets) else None


def _reloaded(raw: str) -> Document:
    """Load a document's text again."""
    return load_documents(raw, limits=_limits(raw))[0]


def _unredactable(raw: str, chunk: _Chunk) -> tuple[str, list[_Found]]:
    """Remove a document whose secrets could not be replaced where they are written."""
    why = "it holds secrets that could not be redacted in place"
    return _removed(raw, chunk, why, f"{why.removeprefix('it ')}; document removed")


def _removed(raw: str, chunk: _Chunk, why: str, reason: str) -> tuple[str, list[_Found]]:
    """Replace a whole document by a comment that says why, keeping its line breaks."""
    eol = "\r\n" if "\r\n" in raw else "\n"
    # A document after no "---" would vanish from the numbering as a bare comment.
    lead = " " if chunk.midline else "" if chunk.opener == "---" else "--- "
    text = f"{lead}# document {chunk.number} removed: {why}" + eol * raw.count("\n")
    return text, [_Found(0, f"document {chunk.number}", reason)]


# ---------------------------------------------------------------------------------------------
# Documents that do not parse: a line scanner, linear in the text


def _redact_unparsed(raw: str, why: str = "does not parse") -> tuple[str, list[_Found]] | None:
    """Redact a document that does not parse, line by line; None when nothing looks secret.

    What is replaced: every credential :func:`find` sees in the text; in a text that says
    ``kind: Secret``, the values under ``data:`` and ``stringData:``; the value of a key whose
    name looks secret, with the lines under it when it is a block scalar or a nested block.
    """
    spans = [*find(raw), *_secret_lines(raw)]
    if _says_secret(raw):
        spans += object_values(raw)  # flow or JSON on one line: the line scanner cannot tell
    spans = [s for s in spans if not is_reference(raw[s[0] : s[1]])]
    if not spans:
        return None
    spans.sort()
    parts: list[str] = []
    found: list[_Found] = []
    done = size = 0
    eol = "\r\n" if "\r\n" in raw else "\n"
    for start, end, what in spans:
        if start < done:
            continue
        replacement = REDACTED + eol * raw.count("\n", start, end)  # no line moves
        parts += [raw[done:start], replacement]
        size += start - done
        found.append(_Found(size, "document text", f"{why}; {what}", raw[start:end]))
        size += len(replacement)
        done = end
    parts.append(raw[done:])
    return "".join(parts), found


_SAYS_SECRET = lazy_re(r"kind:Secret(?![A-Za-z0-9])")


def _secret_lines(raw: str) -> Iterator[tuple[int, int, str]]:
    """Spans of values under a Secret's data, and of keys whose names look secret."""
    says_secret = _says_secret(raw)
    section = block = -1  # indents of an open data: section and of a key whose lines go
    named: str | None = None  # the secret-looking name of the entry whose value comes next
    pos = 0
    for line in raw.splitlines(keepends=True):
        start, pos = pos, pos + len(line)
        body = line.rstrip("\r\n")
        stripped = body.lstrip(" \t")
        indent = len(body) - len(stripped)
        if not stripped or stripped.startswith("#"):
            continue
        if block >= 0:
            if indent > block:
                yield start + indent, start + len(body.rstrip()), "lines under a secret key"
                continue
            block = -1
        if section >= 0 and indent <= section:
            section = -1
        item = 2 if stripped.startswith("- ") else 0
        colon = _line_colon(stripped, item)
        if colon < 0:
            continue
        key = stripped[item:colon].strip().strip("{,").strip().strip("'\"")
        value_at = colon + 1
        while value_at < len(stripped) and stripped[value_at] in " \t":
            value_at += 1
        value = stripped[value_at:]
        cut = value.find(" #")
        value = value[:cut] if cut >= 0 else value
        if says_secret and key in ("data", "stringData"):
            if value:  # a flow mapping, maybe over several lines
                yield start + indent + value_at, start + indent + value_at + len(value), "Secret"
            section, block = indent, indent if value else -1
            continue
        why = None
        if key == "name":
            named = secret_word(value.strip("'\""))  # an env var's (or header's) name
        elif key == "value" and named:
            why, named = f"name looks secret ({named})", None
        if section >= 0 and indent > section:
            why = "Secret data"
        elif why is None and words_of(key) not in (["key"], ["keys"]):
            word = secret_word(key)
            why = f"key name looks secret ({word})" if word else None
        if why is None:
            continue
        block = indent  # the lines under it continue its value (folded, quoted or nested)
        if value and value[0] not in "|>":
            yield start + indent + value_at, start + indent + value_at + len(value.rstrip()), why


def _says_secret(raw: str) -> bool:
    """Tell whether a text says ``kind: Secret`` somewhere (any quoting and spacing)."""
    return any(
        _SAYS_SECRET.search(line.replace(" ", "").replace('"', "").replace("'", ""))
        for line in raw.splitlines()
        if "Secret" in line
    )


def _line_colon(stripped: str, at: int) -> int:
    """Return where the ``:`` ending a line's key is (followed by a blank or the end), or -1."""
    colon = stripped.find(": ", at)
    if colon < 0 and stripped.endswith(":"):
        colon = len(stripped) - 1
    return colon


def _verified(new: str, value: Any, targets: list[_Target]) -> bool:
    """Load the new text: it must equal the original with the targets' values replaced."""
    for target in targets:
        if not target.parts:
            target.mapping[target.key] = REDACTED
    for target in targets:
        if target.parts:
            pattern = _pattern(target.parts)
            target.mapping[target.key] = _masked(target.mapping[target.key], pattern)
    documents = load_documents(new, limits=_limits(new))
    return len(documents) == 1 and documents[0].error is None and _covers(documents[0].value, value)


def _covers(new: Any, expected: Any) -> bool:
    """Tell whether ``new`` equals ``expected`` where it is not ``REDACTED``.

    Redacting an anchored value also redacts its aliases; that is more, never less, redaction.
    """
    if new in (expected, REDACTED):
        return True
    if isinstance(new, dict) and isinstance(expected, dict):
        same_keys = list(new) == list(expected)
        return same_keys and all(_covers(new[key], expected[key]) for key in new)
    if isinstance(new, list) and isinstance(expected, list):
        same_length = len(new) == len(expected)
        return same_length and all(map(_covers, new, expected))
    return False


# ---------------------------------------------------------------------------------------------
# What to redact, found in the loaded tree


@dataclass(frozen=True, eq=False)
class _Target:
    """A value to redact: ``mapping[key]``, whole, or only the ``parts`` written inside it."""

    mapping: dict
    key: Any
    path: str
    reason: str
    parts: frozenset[str] = field(default_factory=frozenset)


def _targets(node: Any) -> list[_Target]:
    """List the values to redact in one loaded document (each mapping entry at most once)."""
    whole: dict[tuple[int, Any], _Target] = {}
    parts: dict[tuple[int, Any], _Target] = {}
    _visit(node, owner="", path="", whole=whole, parts=parts, holder=None)
    for at, target in parts.items():
        if at not in whole and len(target.parts) > _MAX_PARTS:
            whole[at] = _Target(target.mapping, target.key, target.path, target.reason)
    return [*whole.values(), *(t for at, t in parts.items() if at not in whole)]


_Holder = tuple[dict, Any, str]  # the mapping entry whose value holds a node, and its path


def _visit(
    node: Any,
    *,
    owner: str,
    path: str,
    whole: dict[tuple[int, Any], _Target],
    parts: dict[tuple[int, Any], _Target],
    holder: _Holder | None,
) -> None:
    """Walk the tree, collecting values to replace whole and credentials written inside."""
    if isinstance(node, str):
        if holder is not None:
            _add_parts(node, holder, parts)
        return
    if isinstance(node, list):
        strings = [item for item in node if isinstance(item, str)]
        if strings and holder is not None:  # "--token", "x" are two items of one list
            _add_parts("\n".join(strings), holder, parts)
        for index, item in enumerate(node):
            if not isinstance(item, str):
                inner = f"{path}[{index}]"
                _visit(item, owner=owner, path=inner, whole=whole, parts=parts, holder=holder)
        return
    if not isinstance(node, dict):
        return
    if _is_object(node) or node.get("kind") == "Secret":
        owner, path = _label(node), ""
        if node.get("kind") == "Secret":
            _add(whole, _secret_targets(node, owner))
    for key, child in node.items():
        inner = f"{path}.{key}" if path else str(key)
        where = _joined(owner, inner)
        if isinstance(child, list):
            _add(whole, _named_values(child, where, env=key == "env"))
        target = _key_target(node, key, child, where)
        if target is not None:
            _add(whole, [target])
            continue
        here = (node, key, where)
        _visit(child, owner=owner, path=inner, whole=whole, parts=parts, holder=here)


def _add(into: dict[tuple[int, Any], _Target], targets: Iterator[_Target] | list[_Target]) -> None:
    for target in targets:
        into.setdefault((id(target.mapping), target.key), target)


def _add_parts(text: str, holder: _Holder, parts: dict[tuple[int, Any], _Target]) -> None:
    """Record the credentials written inside ``text`` against the entry that holds it."""
    found = find(text)
    if not found:
        return
    mapping, key, where = holder
    # A part is masked where it is written, one line at a time (a quoted value may fold).
    new = frozenset(
        line.strip() for start, end, _ in found for line in text[start:end].splitlines()
    ) - {""}
    if not new:
        return
    old = parts.get((id(mapping), key))
    if old is None:
        parts[id(mapping), key] = _Target(mapping, key, where, found[0][2], new)
    else:
        parts[id(mapping), key] = _Target(mapping, key, where, old.reason, old.parts | new)


def _key_target(node: dict, key: Any, child: Any, where: str) -> _Target | None:
    """A value to replace whole because of its key: a secret-looking name, or a copy of the
    object kubectl keeps in an annotation that holds secrets itself."""
    if not isinstance(key, str) or not isinstance(child, str) or is_reference(child):
        return None
    if key == LAST_APPLIED:
        inner = redact(child)
        if inner.redactions:
            return _Target(node, key, where, "last-applied-configuration holds secrets")
        return None
    if words_of(key) in (["key"], ["keys"]):  # secretKeyRef.key, items[].key: a key's name
        return None
    word = secret_word(key)
    return None if word is None else _Target(node, key, where, f"key name looks secret ({word})")


def _is_object(node: dict) -> bool:
    """Tell a Kubernetes object from a mapping that merely has a ``kind`` field."""
    return isinstance(node.get("kind"), str) and (
        isinstance(node.get("apiVersion"), str) or isinstance(node.get("metadata"), dict)
    )


def _label(obj: dict) -> str:
    """Name an object the way paths start: ``Kind/name``."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return str(obj["kind"])
    name = metadata.get("name") or metadata.get("generateName")
    return f"{obj['kind']}/{name}" if isinstance(name, str) and name else str(obj["kind"])


def _joined(owner: str, path: str) -> str:
    return f"{owner} {path}" if owner else path


def _secret_targets(secret: dict, owner: str) -> Iterator[_Target]:
    """Yield every value under a Secret's ``data`` and ``stringData``."""
    for section in ("data", "stringData"):
        values = secret.get(section)
        reason = f"Secret {section}"
        if isinstance(values, dict):
            for key, value in values.items():
                if _holds_secret(value):
                    yield _Target(values, key, _joined(owner, f"{section}.{key}"), reason)
        elif _holds_secret(values):
            yield _Target(secret, section, _joined(owner, section), reason)


def _named_values(items: list, path: str, *, env: bool) -> Iterator[_Target]:
    """Yield the ``value`` of each ``name``/``value`` entry whose name looks secret (env vars,
    probe ``httpHeaders``, workflow parameters); ``valueFrom`` is a reference and stays."""
    for item in items:
        if not isinstance(item, dict) or "value" not in item:
            continue
        name = item.get("name")
        word = secret_word(name) if isinstance(name, str) else None
        if word and _holds_secret(item["value"]):
            reason = f"{'env var ' if env else ''}name looks secret ({word})"
            yield _Target(item, "value", f"{path}[{name}].value", reason)


def _holds_secret(value: Any) -> bool:
    """Tell whether a value has anything in it that is not already redacted."""
    if value is None or value == REDACTED:
        return False
    return len(value) > 0 if isinstance(value, str | list | dict) else True


def _pattern(parts: frozenset[str]) -> re.Pattern[str]:
    """One pattern for the literal parts, longest first (literals only: it cannot backtrack)."""
    return re.compile("|".join(re.escape(p) for p in sorted(parts, key=lambda p: (-len(p), p))))


def _masked(value: Any, pattern: re.Pattern[str]) -> Any:
    """``value`` with every match of ``pattern`` in its strings (keys too) replaced."""
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, list):
        return [_masked(item, pattern) for item in value]
    if isinstance(value, dict):
        return {_masked(k, pattern): _masked(v, pattern) for k, v in value.items()}
    return value


# ---------------------------------------------------------------------------------------------
# Replacing values in the text


@dataclass(frozen=True)
class _Edit:
    """Replace ``raw[start:end]`` by ``text``; the key sits at ``key_at``."""

    start: int
    end: int
    text: str
    key_at: int
    path: str
    reason: str


def _replace(
    raw: str, value: Any, targets: list[_Target], *, line: int
) -> tuple[str, list[_Found]]:
    """Replace each target's value in ``raw``; raise ``_Unlocatable`` when unsure where it is."""
    entries = _match(value, _Scanner(raw).run(), line=line)
    json_like = raw.lstrip().startswith(("{", "["))
    edits = sorted(_edits(raw, targets, entries, json_like=json_like), key=lambda e: e.start)
    parts: list[str] = []
    found: list[_Found] = []
    done = shift = 0
    for edit in edits:
        if edit.start < done:
            continue  # inside a value already replaced
        parts += [raw[done : edit.start], edit.text]
        value = raw[edit.start : edit.end]
        found.append(_Found(edit.key_at + shift, edit.path, edit.reason, value))
        shift += len(edit.text) - (edit.end - edit.start)
        done = edit.end
    parts.append(raw[done:])
    return "".join(parts), found


def _match(value: Any, entries: list[_Entry], *, line: int) -> dict[tuple[int, Any], _Entry]:
    """Pair the tree's keys with the scanner's, in order; raise when they disagree."""
    pairs = list(_tree_keys(value))
    if len(pairs) != len(entries):
        raise _Unlocatable
    matched: dict[tuple[int, Any], _Entry] = {}
    for (mapping, key), entry in zip(pairs, entries, strict=True):
        known = mapping.lines.get(key) if isinstance(mapping, LDict) else None
        # Only text keys are compared: "on" and "true" are both True, 1 and "0x1" both 1.
        if (isinstance(key, str) and entry.key != key) or known not in (None, line + entry.line):
            raise _Unlocatable
        matched[id(mapping), key] = entry
    return matched


def _tree_keys(node: Any) -> Iterator[tuple[dict, Any]]:
    """Yield (mapping, key) for every key of a loaded tree, in document order."""
    if isinstance(node, dict):
        for key, child in node.items():
            yield node, key
            yield from _tree_keys(child)
    elif isinstance(node, list):
        for item in node:
            yield from _tree_keys(item)


def _edits(
    raw: str, targets: list[_Target], entries: dict[tuple[int, Any], _Entry], *, json_like: bool
) -> Iterator[_Edit]:
    """Yield the text edits for each target; none of them adds or removes a line."""
    for target in targets:
        entry = entries[id(target.mapping), target.key]
        if entry.style == "empty" or (target.parts and entry.style == "alias"):
            raise _Unlocatable
        if target.parts:
            matches = list(_pattern(target.parts).finditer(raw, entry.start, entry.end))
            if not matches:
                raise _Unlocatable  # not written as read (escapes, folding): replace it whole
            for match in matches:
                at = match.start()
                yield _Edit(at, match.end(), REDACTED, at, target.path, target.reason)
            continue
        if entry.style == "alias":
            # The text lives at the anchor; the check after redacting tells if it was replaced.
            text, end = "", entry.start
        else:
            text, end = _replacement(entry, json_like=json_like), entry.end
            breaks = raw.count("\n", entry.start, end)
            eol = "\r\n" if "\r\n" in raw[entry.start : end] else "\n"
            text += eol * breaks  # blank lines keep every later line where it was
        yield _Edit(entry.start, end, text, entry.key_at, target.path, target.reason)


def _replacement(entry: _Entry, *, json_like: bool) -> str:
    """Write ``REDACTED`` quoted like the value it replaces, keeping its anchor."""
    if json_like or entry.style == '"':
        token = f'"{REDACTED}"'
    elif entry.style == "'":
        token = f"'{REDACTED}'"
    else:
        token = REDACTED
    anchor = f"{entry.anchor} " if entry.anchor else ""
    return entry.lead + anchor + token + entry.tail


# ---------------------------------------------------------------------------------------------
# Scanning the text


@dataclass(frozen=True)
class _Entry:
    """A mapping key found in the text and the span of its value (with its properties)."""

    key: str
    key_at: int
    line: int
    start: int
    end: int
    style: str  # '"', "'", "plain", "block", "flow", "alias", "lines" or "empty"
    anchor: str = ""
    tail: str = ""  # text after a block scalar's header, kept when the scalar is replaced
    lead: str = ""  # a blank the replacement needs after the key's ":"


_DOUBLE = lazy_re(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SINGLE = lazy_re(r"'[^']*(?:''[^']*)*'")
_PROPERTY = lazy_re(r"[&!*][^ \t\r\n,\[\]{}]*")
_HEADER = lazy_re(r"[|>][1-9+-]{0,2}")
_SPACES = lazy_re(r" *")
_BLANKS = lazy_re(r"[ \t]*")
_PLAIN_LINE = lazy_re(r"(?:[^\r\n#]|(?<![ \t])#)*")
_PLAIN_KEY = lazy_re(r"(?:[^\r\n:#]|:(?=[^ \t\r\n])|(?<![ \t])#)*?:(?=[ \t\r\n]|\Z)")


def _quoted_end(text: str, at: int) -> int:
    """Return the position after the quoted scalar starting at ``at`` (or the text's end)."""
    match = (_DOUBLE if text[at] == '"' else _SINGLE).match(text, at)
    return match.end() if match else len(text)


def _skip_blanks(text: str, pos: int) -> int:
    return _BLANKS.match(text, pos).end()  # type: ignore[union-attr]


def _line_end(text: str, pos: int) -> int:
    """Return where the line holding ``pos`` ends, before its line break."""
    end = text.find("\n", pos)
    end = len(text) if end < 0 else end
    return end - 1 if end > pos and text[end - 1] == "\r" else end


def _next_line(text: str, pos: int) -> int:
    """Return where the line after the one holding ``pos`` starts."""
    end = text.find("\n", pos)
    return len(text) if end < 0 else end + 1


def _ends_token(text: str, pos: int) -> bool:
    """Tell whether ``pos`` is a blank, a line break or the end of the text."""
    return pos >= len(text) or text[pos] in " \t\r\n"


def _rest_is_empty(text: str, pos: int) -> bool:
    """Tell whether nothing but a comment follows ``pos`` (which follows a blank) on its line."""
    return pos >= len(text) or text[pos] in "\r\n#"


def _plain_line(text: str, at: int) -> tuple[int, bool]:
    """Return where a plain scalar's text ends on this line, and whether a comment follows."""
    stop = _PLAIN_LINE.match(text, at).end()  # type: ignore[union-attr]
    return at + len(text[at:stop].rstrip(" \t")), stop < len(text) and text[stop] == "#"


def _flow_plain_end(text: str, at: int) -> int:
    """Return where a plain scalar inside a flow collection ends, before trailing blanks."""
    end = pos = at
    size = len(text)
    while pos < size:
        ch = text[pos]
        if ch in ",[]{}" or (ch == "#" and text[pos - 1] in " \t\r\n"):
            break
        if ch == ":" and (pos + 1 >= size or text[pos + 1] in " \t\r\n,[]{}"):
            break
        pos += 1
        if ch not in " \t\r\n":
            end = pos
    return end


def _unquote(raw: str) -> str:
    """Return a key's text without its quotes."""
    if raw.startswith("'"):
        return raw[1:-1].replace("''", "'")
    if raw.startswith('"') and "\\" in raw:
        try:
            return str(json.loads(raw))
        except ValueError:
            return raw[1:-1]
    return raw[1:-1] if raw.startswith('"') else raw


class _Scanner:
    """Find every mapping key in one document's text, and where its value is written.

    Block context is read line by line; flow collections character by character. Quoted
    scalars, block scalars and plain scalars over several lines are skipped whole, so text
    inside them is never taken for a key.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.entries: list[_Entry] = []
        self.parent = -1  # column of the key or "-" whose value starts on a later line
        self.starts = _line_starts(text)

    def run(self) -> list[_Entry]:
        """Return the keys in the order they are written."""
        pos = 0
        while pos < len(self.text):
            pos = self._line(pos)
        return self.entries

    def _add(
        self, key: tuple[str, int], start: int, end: int, style: str, *, slot: int, **extra: str
    ) -> None:
        """Record a key at ``slot``: its place in text order, taken before its value was read."""
        line = bisect.bisect_right(self.starts, key[1])
        self.entries.insert(slot, _Entry(key[0], key[1], line, start, end, style, **extra))

    def _line(self, pos: int) -> int:
        """Read the block-context line starting at ``pos``; return where the next one starts."""
        text = self.text
        at = _skip_blanks(text, pos)
        if _rest_is_empty(text, at):
            return _next_line(text, at)
        parent = self.parent if self.parent < at - pos else at - pos - 1
        while text[at] in "-?" and _ends_token(text, at + 1):
            parent = at - pos
            at = _skip_blanks(text, at + 1)
            if _rest_is_empty(text, at):
                self.parent = parent
                return _next_line(text, at)
        colon = self._key_end(at)
        if colon is None:
            return self._node(at, parent=parent)
        key = (_unquote(text[at:colon].rstrip(" \t")), at)
        return self._node(_skip_blanks(text, colon + 1), parent=at - pos, key=key)

    def _key_end(self, at: int) -> int | None:
        """Return the position of the ``:`` ending a block key that starts at ``at``, if any."""
        text = self.text
        if text[at] in "\"'":
            end = _quoted_end(text, at)
            colon = _skip_blanks(text, end)
            single_line = "\n" not in text[at:end]
            is_key = text.startswith(":", colon) and _ends_token(text, colon + 1)
            return colon if single_line and is_key else None
        if text[at] in "[]{}|>!&*%@`,":
            return None
        match = _PLAIN_KEY.match(text, at)
        return match.end() - 1 if match else None

    def _node(self, at: int, *, parent: int, key: tuple[str, int] | None = None) -> int:
        """Read a block-context node at ``at``; return where the next line starts."""
        text = self.text
        anchor, content = self._props(at, flow=False)
        if _rest_is_empty(text, content):
            self.parent = parent
            if key is not None:
                self._add_lines(key, at, content, anchor)
            return _next_line(text, content)
        slot = len(self.entries)
        end, style, tail = self._content(content, parent)
        if key is not None:
            self._add(key, at, end, style, slot=slot, anchor=anchor, tail=tail)
        return _next_line(text, end)

    def _content(self, at: int, parent: int) -> tuple[int, str, str]:
        """Return where a block-context node's content ends, its style and kept tail."""
        text = self.text
        first = text[at]
        if first in "|>":
            return self._block_scalar(at, parent)
        if first in "\"'":
            return _quoted_end(text, at), first, ""
        if first in "[{":
            return self._flow(at), "flow", ""
        if first == "*":
            return _PROPERTY.match(text, at).end(), "alias", ""  # type: ignore[union-attr]
        return self._plain(at, parent), "plain", ""

    def _props(self, at: int, *, flow: bool) -> tuple[str, int]:
        """Skip a node's anchor and tag; return the anchor and where the content starts."""
        text, anchor = self.text, ""
        while at < len(text) and text[at] in "&!":
            token = _PROPERTY.match(text, at).group()  # type: ignore[union-attr]
            anchor = token if token.startswith("&") else anchor
            end = at + len(token)
            at = self._flow_space(end) if flow else _skip_blanks(text, end)
        return anchor, at

    def _block_scalar(self, at: int, parent: int) -> tuple[int, str, str]:
        """Return where a block scalar's last content line ends, its style and header tail."""
        text = self.text
        head = _HEADER.match(text, at).end()  # type: ignore[union-attr]
        end, pos = head, _next_line(text, head)
        while pos < len(text):
            first = _skip_blanks(text, pos)
            if _ends_token(text, first):
                pos = _next_line(text, first)  # a blank line belongs only if content follows
                continue
            if _SPACES.match(text, pos).end() - pos <= parent:  # type: ignore[union-attr]
                break
            end = _line_end(text, pos)
            pos = _next_line(text, end)
        tail = text[head : _line_end(text, head)] if end > head else ""
        return end, "block", tail

    def _plain(self, at: int, parent: int) -> int:
        """Return where a block-context plain scalar ends, after its continuation lines."""
        text = self.text
        end, closed = _plain_line(text, at)
        pos = _next_line(text, end)
        while not closed and pos < len(text):
            first = _skip_blanks(text, pos)
            if _ends_token(text, first):
                pos = _next_line(text, first)
                continue
            if first - pos <= parent or text[first] == "#":
                break
            end, closed = _plain_line(text, first)
            pos = _next_line(text, end)
        return end

    def _add_lines(self, key: tuple[str, int], at: int, content: int, anchor: str) -> None:
        """Record a value written on the lines under its key (or an empty one)."""
        text, slot = self.text, len(self.entries)
        start, end, item = self._lines_under(key[1], self.parent)
        if start < 0:
            self._add(key, key[1], key[1], "empty", slot=slot)
        elif at < content or item:
            # Keep the replacement on the key's line: after the anchor, or before the items.
            lead = "" if text[at - 1] in " \t" else " "
            self._add(key, at, end, "lines", slot=slot, anchor=anchor, lead=lead)
        else:
            self._add(key, start, end, "lines", slot=slot)

    def _lines_under(self, key_at: int, parent: int) -> tuple[int, int, bool]:
        """Return where the lines under a key start and end, and if they start with a "-"."""
        text = self.text
        pos = _next_line(text, key_at)
        start = end = -1
        item = False
        while pos < len(text):
            first = _skip_blanks(text, pos)
            column = first - pos
            if _ends_token(text, first) or (text[first] == "#" and (start < 0 or column <= parent)):
                pos = _next_line(text, first)
                continue
            dash = column == parent and text[first] == "-" and _ends_token(text, first + 1)
            if column <= parent and not dash:
                break
            item = dash if start < 0 else item
            start = first if start < 0 else start
            end = _line_end(text, first)
            pos = _next_line(text, end)
        return start, end, item

    def _flow_space(self, pos: int) -> int:
        """Skip blanks, line breaks and comments inside a flow collection."""
        text = self.text
        while pos < len(text):
            if text[pos] in " \t\r\n":
                pos += 1
            elif text[pos] == "#" and (pos == 0 or text[pos - 1] in " \t\r\n"):
                pos = _line_end(text, pos)
            else:
                break
        return pos

    def _flow(self, at: int) -> int:
        """Read a flow collection from its opening bracket; return the position after it."""
        text, mapping = self.text, self.text[at] == "{"
        pos = at + 1
        while True:
            pos = self._flow_space(pos)
            if pos >= len(text) or text[pos] in "]}":
                return min(pos + 1, len(text))
            if text[pos] == "," or (text[pos] == "?" and _ends_token(text, pos + 1)):
                pos += 1
                continue
            after = self._flow_entry(pos, mapping=mapping)
            pos = after if after > pos else pos + 1

    def _flow_entry(self, at: int, *, mapping: bool) -> int:
        """Read one flow entry: a node, or a key with its value; return where it ends."""
        text = self.text
        _, content = self._props(at, flow=True)
        end, _style = self._flow_node(content)
        colon = self._flow_space(end)
        is_pair = colon < len(text) and text[colon] == ":"
        if not is_pair and not mapping:
            return end
        key, slot = (_unquote(text[content:end]), at), len(self.entries)
        if not is_pair:
            self._add(key, end, end, "empty", slot=slot)
            return end
        value_at = self._flow_space(colon + 1)
        anchor, value = self._props(value_at, flow=True)
        value_end, style = self._flow_node(value)
        self._add(key, value_at, value_end, style, slot=slot, anchor=anchor)
        return value_end

    def _flow_node(self, at: int) -> tuple[int, str]:
        """Return where a node inside a flow collection ends, and its style."""
        text = self.text
        if at >= len(text) or text[at] in ",]}:":
            return at, "empty"
        first = text[at]
        if first in "\"'":
            return _quoted_end(text, at), first
        if first in "[{":
            return self._flow(at), "flow"
        if first == "*":
            return _PROPERTY.match(text, at).end(), "alias"  # type: ignore[union-attr]
        return _flow_plain_end(text, at), "plain"


def mask(value: Any, secrets: Iterable[str]) -> Any:
    """``value`` (JSON-like) with every copy of the ``secrets`` a redaction replaced masked.

    A secret of four characters or more is masked wherever it appears in a string, and so is
    each of its words of four characters or more (a block scalar's lines); a shorter one only
    where a whole string equals it. Keys are kept.
    """
    long: set[str] = set()
    short: set[str] = set()
    for secret in secrets:
        bare = secret.strip().strip("'\"")
        (long if len(bare) >= 4 else short).add(bare)
        long.update(word for word in secret.split() if len(word) >= 4)
    long.discard(REDACTED)
    short.discard("")
    if not long and not short:
        return value
    pattern = _pattern(frozenset(long)) if long else None
    return _masked_copy(value, pattern, short)


def _masked_copy(value: Any, pattern: re.Pattern[str] | None, short: set[str]) -> Any:
    if isinstance(value, str):
        if value in short:
            return REDACTED
        return pattern.sub(REDACTED, value) if pattern is not None else value
    if isinstance(value, list):
        return [_masked_copy(item, pattern, short) for item in value]
    if isinstance(value, dict):
        return {k: _masked_copy(v, pattern, short) for k, v in value.items()}
    return value
