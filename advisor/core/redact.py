"""Redact secrets from manifest text before a review stores it, keeping the rest as written.

What is redacted:

* every value under ``data`` and ``stringData`` of a ``kind: Secret`` object, wherever the object
  sits (a document, an item of a ``List``, an object inside a template);
* the ``value`` of every ``env`` entry whose ``name`` looks secret (:data:`SECRET_NAME`), in any
  list under a key named ``env``; ``valueFrom`` names a reference, not a secret, and stays.

How: each document is loaded with :mod:`advisor.core.yamlload`, the values to redact are found in
the tree, and a small scanner reads the document's text to find where every key's value is
written (plain, quoted, block scalar, flow collection, or on the lines under its key). Only that
text is replaced by ``REDACTED`` (quoted the way the value was; double-quoted in JSON), so
comments, formatting, line endings and the other documents stay byte for byte.

Nothing secret is left behind: the scanner's keys must agree with the tree's, one for one, and the
redacted document is loaded again and must equal the original with just those values replaced.
When either check fails (anchors and aliases, merge keys, duplicate keys, text the scanner
misreads) the whole document is replaced by a ``# document N removed: ...`` comment. A document
that does not parse is kept unless its text looks like it holds secrets (``kind: Secret``, or an
env ``name`` that looks secret next to a ``value``); then it is removed the same way. Comments are
never changed, so a secret typed into a comment stays.

``Redaction.line`` points into the redacted text (lines after a removed block scalar move up);
document numbers are the same in both texts.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from advisor.core.source import LDict
from advisor.core.yamlload import Document, Limits, load_documents, split_documents

REDACTED = "REDACTED"

_SEP = r"[_.\-\s]"
_START = rf"(?:^|(?<={_SEP})|(?<=[a-z0-9])(?=[A-Z]))"
_END = r"(?:$|(?=[_.\-\s0-9])|(?<=[a-z])(?=[A-Z]))"
_ANYWHERE = (
    "passwords?|passwd|passphrase|pass|pwd|tokens?|secrets?|credentials?|creds|authorization"
    "|apikeys?|accesskeys?|secretkeys?|privatekeys?"
)
# Words are parts of the name split on "_", "-", "." and camelCase humps, in any case.
# KEY and AUTH count only as the last part (API_KEY, ACCESS_KEY_ID, BASIC_AUTH): KEY_PREFIX,
# KEYCLOAK_URL and AUTH_URL are left alone. CERT is not a secret word: certificates are public,
# and their private keys match through KEY (TLS_KEY). A name ending in FILE, PATH or DIR
# (DB_PASSWORD_FILE) says where a secret is mounted, not what it is.
_WHERE = r"(?:[_.\-\s]|(?<=[a-z])(?=[A-Z]))(?i:files?|paths?|dirs?)$"
SECRET_NAME = re.compile(
    rf"^(?!.*{_WHERE}).*?"
    rf"(?:{_START}(?P<word>(?i:{_ANYWHERE})){_END}"
    rf"|{_START}(?P<last>(?i:keys?|auth))(?:{_SEP}?(?i:id))?$)"
)


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
    redactions: list[Redaction] = []
    done = shift = 0
    for chunk in chunks:
        result = _redact_chunk(body[chunk.start : chunk.end], chunk, documents[chunk.number])
        if result is None:
            continue
        new, found = result
        parts += [body[done : chunk.start], new]
        first = chunk.line + shift + 1
        redactions += [
            Redaction(chunk.number, first + new.count("\n", 0, f.at), f.path, f.reason)
            for f in found
        ]
        shift += new.count("\n") - body.count("\n", chunk.start, chunk.end)
        done = chunk.end
    parts.append(body[done:])
    ordered = sorted(redactions, key=lambda r: (r.document, r.line))
    return Redacted(bom + "".join(parts), tuple(ordered))


def _limits(text: str) -> Limits:
    """Accept any size and count: the caller already accepted the text; keep the other bounds."""
    return Limits(max_bytes=4 * len(text) + 4, max_documents=len(text) + 1)


# ---------------------------------------------------------------------------------------------
# Documents


_CONTENT = re.compile(r"^[ \t]*[^\s#%]", re.MULTILINE)  # the test yamlload uses for content


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


class _Unlocatable(Exception):
    """The text of a value to redact could not be found with certainty."""


def _redact_chunk(raw: str, chunk: _Chunk, document: Document) -> tuple[str, list[_Found]] | None:
    """Return one document's redacted text and what was redacted, or None to keep it."""
    if document.error is not None:
        hint = _secret_hint(raw)
        if hint is None:
            return None
        return _removed(raw, chunk, "it does not parse and may hold secrets", hint)
    targets = _targets(document.value)
    if not targets:
        return None
    try:
        new, found = _replace(raw, document.value, targets, line=chunk.line)
    except _Unlocatable:
        return _unredactable(raw, chunk)
    if not _verified(new, document.value, targets):
        return _unredactable(raw, chunk)
    return new, found


def _unredactable(raw: str, chunk: _Chunk) -> tuple[str, list[_Found]]:
    """Remove a document whose secrets could not be replaced where they are written."""
    why = "it holds secrets that could not be redacted in place"
    return _removed(raw, chunk, why, f"{why.removeprefix('it ')}; document removed")


def _removed(raw: str, chunk: _Chunk, why: str, reason: str) -> tuple[str, list[_Found]]:
    """Replace a whole document by a comment that says why, keeping the document count."""
    eol = ("\r\n" if "\r\n" in raw else "\n") if raw.endswith("\n") else ""
    # A document after no "---" would vanish from the numbering as a bare comment.
    lead = " " if chunk.midline else "" if chunk.opener == "---" else "--- "
    text = f"{lead}# document {chunk.number} removed: {why}{eol}"
    return text, [_Found(0, f"document {chunk.number}", reason)]


_BREAK = r"""(?:\r?\n[ \t]*)?"""  # a value may start on the next line
_SECRET_KIND = re.compile(rf"""\bkind['"]?[ \t]*:[ \t]*{_BREAK}['"]?Secret(?![\w-])""")
_NAME = rf"""['"]?name['"]?[ \t]*:[ \t]*{_BREAK}['"]?(?P<name>[^\s'",{{}}\[\]]+)"""
_VALUE = r"""['"]?value['"]?[ \t]*:"""
# Between the two keys: a comma, a line break, or both (pretty-printed JSON, wrapped flow style).
_NEXT = r"""['"]?[ \t]*(?:,[ \t]*(?:\r?\n[ \t]*)?|\r?\n[ \t]*)(?:-[ \t]+)?"""
_ENV_PAIRS = (
    re.compile(rf"\b{_NAME}{_NEXT}{_VALUE}"),
    re.compile(rf"\b{_VALUE}[^\n,]*{_NEXT}{_NAME}"),
)


def _secret_hint(raw: str) -> str | None:
    """Say why a document that does not parse may hold secrets, or None if it seems not to."""
    if _SECRET_KIND.search(raw):
        return "does not parse and looks like a Secret; document removed"
    for match in (m for pattern in _ENV_PAIRS for m in pattern.finditer(raw)):
        word = _secret_word(match.group("name"))
        if word:
            return (
                "does not parse and has an env var whose name looks secret "
                f"({word}); document removed"
            )
    return None


def _secret_word(name: str) -> str | None:
    """Return the part of ``name`` that makes it look secret, upper-cased, if any."""
    match = SECRET_NAME.search(name)
    if match is None:
        return None
    return (match.group("word") or match.group("last")).upper()


def _verified(new: str, value: Any, targets: list[_Target]) -> bool:
    """Load the new text: it must equal the original with the targets' values replaced."""
    for target in targets:
        target.mapping[target.key] = REDACTED
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
    """A value to redact: ``mapping[key]``."""

    mapping: dict
    key: Any
    path: str
    reason: str


def _targets(node: Any) -> list[_Target]:
    """List the values to redact in one loaded document."""
    found: list[_Target] = []
    _visit(node, owner="", path="", found=found)
    return found


def _visit(node: Any, *, owner: str, path: str, found: list[_Target]) -> None:
    """Walk the tree, collecting Secret values and secret-looking env values."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            _visit(item, owner=owner, path=f"{path}[{index}]", found=found)
        return
    if not isinstance(node, dict):
        return
    if _is_object(node) or node.get("kind") == "Secret":
        owner, path = _label(node), ""
        if node.get("kind") == "Secret":
            found.extend(_secret_targets(node, owner))
    for key, child in node.items():
        inner = f"{path}.{key}" if path else str(key)
        if key == "env" and isinstance(child, list):
            found.extend(_env_targets(child, _joined(owner, inner)))
        _visit(child, owner=owner, path=inner, found=found)


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


def _env_targets(env: list, path: str) -> Iterator[_Target]:
    """Yield the ``value`` of each env entry whose name looks secret."""
    for item in env:
        if not isinstance(item, dict) or "value" not in item:
            continue
        name = item.get("name")
        word = _secret_word(name) if isinstance(name, str) else None
        if word and _holds_secret(item["value"]):
            reason = f"env var name looks secret ({word})"
            yield _Target(item, "value", f"{path}[{name}].value", reason)


def _holds_secret(value: Any) -> bool:
    """Tell whether a value has anything in it that is not already redacted."""
    if value is None or value == REDACTED:
        return False
    return len(value) > 0 if isinstance(value, str | list | dict) else True


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
    edits = sorted(_edits(targets, entries, json_like=json_like), key=lambda e: e.start)
    parts: list[str] = []
    found: list[_Found] = []
    done = shift = 0
    for edit in edits:
        if edit.start < done:
            continue  # inside a value already replaced
        parts += [raw[done : edit.start], edit.text]
        found.append(_Found(edit.key_at + shift, edit.path, edit.reason))
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
    targets: list[_Target], entries: dict[tuple[int, Any], _Entry], *, json_like: bool
) -> Iterator[_Edit]:
    """Yield the text edit for each target."""
    for target in targets:
        entry = entries[id(target.mapping), target.key]
        if entry.style == "empty":
            raise _Unlocatable
        if entry.style == "alias":
            # The text lives at the anchor; the check after redacting tells if it was replaced.
            text, end = "", entry.start
        else:
            text, end = _replacement(entry, json_like=json_like), entry.end
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


_DOUBLE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SINGLE = re.compile(r"'[^']*(?:''[^']*)*'")
_PROPERTY = re.compile(r"[&!*][^ \t\r\n,\[\]{}]*")
_HEADER = re.compile(r"[|>][1-9+-]{0,2}")
_SPACES = re.compile(r" *")
_BLANKS = re.compile(r"[ \t]*")
_PLAIN_LINE = re.compile(r"(?:[^\r\n#]|(?<![ \t])#)*")
_PLAIN_KEY = re.compile(r"(?:[^\r\n:#]|:(?=[^ \t\r\n])|(?<![ \t])#)*?:(?=[ \t\r\n]|\Z)")


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
