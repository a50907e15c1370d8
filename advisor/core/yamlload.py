"""Load YAML (or JSON) text into ``LDict`` trees with line numbers, safely.

libyaml (``CSafeLoader``'s C parser) does the parsing; this module adds what an analyser of
hostile input needs on top of it:

* documents are split on ``---`` lines first, so a broken document is reported with its number
  and line and the documents around it are still read;
* nesting is bounded before libyaml sees the text: deep flow nesting (``[[[[...``) costs libyaml
  quadratic time and deep recursion, so it is refused up front (``max_depth``);
* anchors and merge keys work, but every node produced by expanding an alias counts against
  the budget's ``max_nodes``, which stops "billion laughs" and merge-key bombs in milliseconds;
  a merge key counts as a level of nesting, so merge chains are bounded by ``max_depth``;
* a number longer than ``max_digits`` characters is refused before PyYAML converts it (base-60
  integers such as ``1:1:1:...`` are quadratic to convert, long integers hit Python's limit);
* timestamps stay strings (Kubernetes treats them as text), keys are always hashable.

The limits are those of :class:`advisor.core.budget.Budget` (``Limits`` is the same class);
going over one raises :class:`~advisor.core.budget.BudgetExceeded`.
"""

from __future__ import annotations

import functools
import gc
import json
import operator
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import yaml

from advisor.core.budget import DEFAULT_BUDGET, Budget, BudgetExceeded
from advisor.core.errors import InputError
from advisor.core.source import LDict

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
MERGE = "tag:yaml.org,2002:merge"

_SEPARATOR = re.compile(r"^(?:---|\.\.\.)(?=[ \t\r]|$)[^\n]*\n?", re.MULTILINE)
_COMPACT_RUN = "(?:[-?][ \t]+){%d}"
_SAFE_RECURSION = 50_000  # levels libyaml's composer handles on the 512 MiB loader stack
_FLOW_TOKEN = re.compile(r"[\[\]{}\"'\n#,]")


# The loader's limits are the budget's: one class, one set of defaults.
Limits = Budget
DEFAULT_LIMITS = DEFAULT_BUDGET


@dataclass
class Slice:
    """Part of one file read on its own (``--jobs`` cuts large files at document separators).

    ``lines`` and ``documents`` are how many of each the file has before the slice, so the
    slice's documents get the numbers and lines they have in the whole file; ``nodes_used``
    is set when the slice has been read: the nodes its aliases expanded to, which the caller
    adds up across the slices of a file to check the file's ``max_nodes`` budget.
    """

    lines: int = 0
    documents: int = 0
    nodes_used: int = 0


@dataclass(frozen=True)
class Document:
    """One YAML document: its 1-based number, first line, and value (or the error)."""

    number: int
    line: int
    value: Any = None
    error: InputError | None = None


def decode(data: bytes, *, file: str = "") -> str:
    """Decode manifest bytes: UTF-8 (BOM allowed) or UTF-16 with a BOM; refuse binary."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError("invalid UTF-16 text", file=file) from None
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise InputError(
            "binary data (NUL byte), not a YAML or JSON manifest", file=file, line=line
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"invalid UTF-8 (byte {exc.start}); save the file as UTF-8", file=file, line=line
        ) from None


def load_documents(text: str, *, file: str = "", limits: Limits = DEFAULT_LIMITS) -> list[Document]:
    """Split ``text`` into documents and load each; errors stay with their document."""
    return with_big_stack(lambda: list(iter_documents(text, file=file, limits=limits)))


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many acyclic objects.

    Parsing and analysis allocate millions of small dicts and lists that form no cycles;
    the collector would rescan the growing heap over and over (about 20% of the run time
    on a 10 MB input). Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def with_big_stack[T](fn: Callable[[], T]) -> T:
    """Run ``fn`` on a thread with a large stack: libyaml's composer recurses per level."""
    result: list[Any] = []

    def target() -> None:
        try:
            result.append((True, fn()))
        except BaseException as exc:  # handed back to the caller's thread below
            result.append((False, exc))

    old = threading.stack_size()
    threading.stack_size(512 * 1024 * 1024)
    try:
        worker = threading.Thread(target=target, name="yaml-load")
        worker.start()
    finally:
        threading.stack_size(old)
    with paused_gc():
        worker.join()
    ok, value = result[0]
    if not ok:
        raise value
    return value


def split_documents(text: str) -> Iterator[tuple[int, str, str]]:
    """Yield (0-based line offset, text, marker that opened it) for each chunk."""
    start, line, opener = 0, 0, ""
    for match in _SEPARATOR.finditer(text):
        yield line, text[start : match.start()], opener
        line += text.count("\n", start, match.start())
        opener = match.group(0)[:3]
        rest = match.group(0)[3:].strip()
        if rest and not rest.startswith("#"):
            # "--- {a: 1}": content on the separator line belongs to the new document.
            start = match.start() + 3
        else:
            start = match.end()
            line += match.group(0).endswith("\n")
    yield line, text[start:], opener


_CONTENT = re.compile(r"^[ \t]*[^\s#%]", re.MULTILINE)


def _has_content(chunk: str) -> bool:
    """Tell whether a chunk holds anything but blank lines, comments and directives."""
    return _CONTENT.search(chunk) is not None


def iter_documents(
    text: str,
    *,
    file: str = "",
    limits: Limits = DEFAULT_LIMITS,
    shallow: Callable[[str], bool] | None = None,
    only: Callable[[str], bool] | None = None,
    part: Slice | None = None,
) -> Iterator[Document]:
    """Yield documents one at a time; call it inside :func:`with_big_stack`.

    ``shallow(kind)`` may say that a document of that kind is only listed, not analysed: then
    only its ``apiVersion``, ``kind`` and ``metadata`` are converted. ``only(text)`` may say
    that a document is not wanted at all: it is then not parsed (numbers still count it).
    ``part`` says that ``text`` is a :class:`Slice` of a file (from :func:`cut`).
    """
    too_big = len(text) > limits.max_bytes or (
        len(text) * 4 > limits.max_bytes  # only then can the UTF-8 size exceed the limit
        and len(text.encode("utf-8", "surrogatepass")) > limits.max_bytes
    )
    if too_big:
        raise limits.exceeded(
            "max_bytes",
            file=file,
            detail=f"input is larger than the limit of {limits.max_bytes:,} bytes",
        )
    text = text.removeprefix("\ufeff")
    _refuse_surrogates(text, file)
    budget = _AliasBudget(limits.max_nodes)
    try:
        yield from _documents(text, file, limits, shallow, only, budget, part or Slice())
    finally:
        if part is not None:
            part.nodes_used = budget.limit - budget.left
        # The tag cache holds strings of this input; do not keep them after it is read.
        _FastLoader.resolve.cache_clear()


def _refuse_surrogates(text: str, file: str) -> None:
    """A lone surrogate (from a JSON escape such as ``\\ud800``) is not text libyaml can read."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        line = text.count("\n", 0, exc.start) + 1
        code = ord(text[exc.start])
        raise InputError(
            f"a lone surrogate (U+{code:04X}), not valid Unicode text", file=file, line=line
        ) from None


def _documents(
    text: str,
    file: str,
    limits: Limits,
    shallow: Callable[[str], bool] | None,
    only: Callable[[str], bool] | None,
    budget: _AliasBudget,
    part: Slice,
) -> Iterator[Document]:
    for number, offset, chunk, empty in numbered_chunks(text):
        number += part.documents
        offset += part.lines
        if number > limits.max_documents:
            raise limits.exceeded(
                "max_documents",
                file=file,
                document=number,
                line=offset + 1,
                detail=f"more than {limits.max_documents:,} documents",
            )
        if empty or (only is not None and not only(chunk)):
            continue
        yield _load_one(
            chunk,
            number=number,
            offset=offset,
            file=file,
            limits=limits,
            budget=budget,
            shallow=shallow,
        )


def numbered_chunks(text: str) -> Iterator[tuple[int, int, str, bool]]:
    """Yield (document number, line offset, text, is empty) as documents are numbered.

    Nothing before the first ``---``, or between ``...`` and the next ``---``, counts as a
    document; every other chunk does, empty or not, so numbers match what people count.
    """
    number = 0
    first = True
    for offset, chunk, opener in split_documents(text):
        empty = not _has_content(chunk)
        if empty and (first or opener == "..."):
            first = False
            continue
        first = False
        number += 1
        yield number, offset, chunk, empty


def cut(text: str, pieces: int, limits: Limits = DEFAULT_LIMITS) -> list[tuple[int, Slice]]:
    """Where to cut ``text`` into about ``pieces`` slices of equal size, each read on its own.

    Returns ``(character offset, Slice)`` for each slice, the first at 0. Cuts fall only on
    the start of a ``---`` line, where the document before has ended whatever it holds (YAML
    forbids that marker inside content), so each slice reads as the same documents, with the
    same numbers and lines, as the whole file. A file that a whole read would refuse (over
    ``max_bytes`` or ``max_documents``, a lone surrogate) is not cut: one slice, so the
    refusal is the same. Counting mirrors :func:`numbered_chunks`.
    """
    whole = [(0, Slice())]
    if pieces < 2:
        return whole
    try:
        size = len(text) if text.isascii() else len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return whole
    if size > limits.max_bytes:
        return whole
    lead = len(text) - len(text := text.removeprefix("\ufeff"))  # as a whole read drops it
    share = len(text) / pieces
    cuts = whole.copy()
    number, line, start, opener, first = 0, 0, 0, "", True
    for match in _SEPARATOR.finditer(text):
        chunk_end = match.start()
        if not (first or opener == "...") or _has_content(text[start:chunk_end]):
            number += 1
        first = False
        line += text.count("\n", start, chunk_end)
        marker = match.group(0)
        if marker.startswith("---") and chunk_end >= share * len(cuts):
            cuts.append((lead + chunk_end, Slice(lines=line, documents=number)))
        opener = marker[:3]
        rest = marker[3:].strip()
        if rest and not rest.startswith("#"):
            start = chunk_end + 3
        else:
            start = match.end()
            line += marker.endswith("\n")
    if not (first or opener == "...") or _has_content(text[start:]):
        number += 1
    if number > limits.max_documents or len(cuts) < 2:
        return whole
    return cuts


class _AliasBudget:
    """Counts nodes created by expanding aliases, across all documents of one input."""

    __slots__ = ("left", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit


def _first_line(chunk: str, offset: int) -> int:
    match = _CONTENT.search(chunk)
    return offset + 1 + (chunk.count("\n", 0, match.start()) if match else 0)


def _load_one(
    chunk: str,
    *,
    number: int,
    offset: int,
    file: str,
    limits: Limits,
    budget: _AliasBudget,
    shallow: Callable[[str], bool] | None = None,
) -> Document:
    line = _first_line(chunk, offset)
    try:
        _check_nesting(chunk, offset=offset, max_depth=limits.max_depth)
        node = _compose(chunk)
        converter = _Converter(offset, limits.max_depth, budget, "&" in chunk, limits.max_digits)
        if shallow is not None and _is_shallow(node, shallow):
            node = _header_only(node)
        value = converter.convert(node, 0) if node is not None else None
    except InputError as exc:
        return Document(number, line, error=_locate(exc, file, number))
    except yaml.YAMLError as exc:
        fallback = _try_json(chunk)
        if fallback is not None:
            return Document(number, line, value=fallback)
        return Document(number, line, error=_yaml_error(exc, file, number, offset, chunk))
    return Document(number, line, value=value)


_HEADER_KEYS = ("apiVersion", "kind", "metadata")


def _is_shallow(node: yaml.Node | None, shallow: Callable[[str], bool]) -> bool:
    if not isinstance(node, yaml.MappingNode):
        return False
    for key, value in node.value:
        if key.value == "kind" and isinstance(value, yaml.ScalarNode):
            return shallow(value.value)
    return False


def _header_only(node: yaml.MappingNode) -> yaml.MappingNode:
    """A copy of a top-level mapping node with only apiVersion, kind and metadata."""
    kept = [
        (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value in _HEADER_KEYS
    ]
    return yaml.MappingNode(node.tag, kept, node.start_mark, node.end_mark, node.flow_style)


def _locate(exc: InputError, file: str, number: int) -> InputError:
    if isinstance(exc, BudgetExceeded):
        return BudgetExceeded(
            exc.limit, exc.value, file=file, document=number, line=exc.line, detail=exc.detail
        )
    return InputError(exc.message, file=file, document=number, line=exc.line)


class _FastLoader(yaml.CSafeLoader):
    """CSafeLoader with the same tag resolution, minus per-node work we never use.

    PyYAML's resolver is Python code the C composer calls for every node; path resolvers
    (``descend_resolver``/``ascend_resolver``) are unused here, and plain scalars are resolved
    through a table keyed by first character, the same rules as ``SafeLoader``'s.
    """

    # The C composer calls these for every node; builtins answer without a Python frame.
    descend_resolver = operator.is_  # (parent, index) -> ignored
    ascend_resolver = tuple  # () -> ignored

    @staticmethod
    @functools.lru_cache(maxsize=65536)
    def resolve(kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        """Resolve a node's tag as SafeLoader does; repeated keys and values hit the cache."""
        if kind is yaml.ScalarNode:
            if implicit[0]:
                tag = _WORDS.get(value)
                if tag is not None:
                    return tag
                for tag, regexp in _IMPLICIT.get(value[:1], ()):
                    if regexp.match(value):
                        return tag
            return STR
        return SEQ if kind is yaml.SequenceNode else MAP


SEQ = "tag:yaml.org,2002:seq"
MAP = "tag:yaml.org,2002:map"
# SafeLoader's bool and null resolvers match these exact words; the remaining resolvers
# (int, float, timestamp, merge, value) start with a digit, a sign, '.', '<' or '='.
_WORDS = dict.fromkeys(
    [
        "yes",
        "Yes",
        "YES",
        "no",
        "No",
        "NO",
        "true",
        "True",
        "TRUE",
        "false",
        "False",
        "FALSE",
        "on",
        "On",
        "ON",
        "off",
        "Off",
        "OFF",
    ],
    BOOL,
) | dict.fromkeys(["~", "null", "Null", "NULL", ""], NULL)
_IMPLICIT: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    first: [(tag, rx) for tag, rx in pairs if tag not in (BOOL, NULL)]
    for first, pairs in yaml.SafeLoader.yaml_implicit_resolvers.items()
    if first is not None and first in "0123456789+-.<="
}


def _compose(chunk: str) -> yaml.Node | None:
    loader = _FastLoader(chunk)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


_BREAK = re.compile(r"\r\n?|[\n\x85\u2028\u2029]")  # what libyaml counts as a line break


def _yaml_error(exc: yaml.YAMLError, file: str, number: int, offset: int, chunk: str) -> InputError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    # At the end of a text without a final line break libyaml marks the line after the last.
    last = len(_BREAK.findall(chunk))
    line = min(mark.line, last) + 1 + offset if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    return InputError(message, file=file, document=number, line=line)


def _try_json(chunk: str) -> Any:
    """Parse JSON that libyaml rejects (tabs, some escapes); no line numbers then."""
    if not chunk.lstrip().startswith(("{", "[")):
        return None
    try:
        return json.loads(chunk, object_pairs_hook=_ldict_from_pairs)
    except (ValueError, RecursionError):
        return None


def _ldict_from_pairs(pairs: list[tuple[str, Any]]) -> LDict:
    d = LDict(pairs)
    return d


def _check_nesting(chunk: str, *, offset: int, max_depth: int) -> None:
    """Refuse nesting deeper than ``max_depth`` before libyaml spends time on it.

    Block nesting costs libyaml linear time; only its recursion depth matters, and a chunk
    shorter than ``_SAFE_RECURSION * 2`` characters cannot nest deeper than the loader
    thread's stack allows (the converter then refuses anything past ``max_depth``).
    Flow nesting costs quadratic time, so it is bounded for every chunk.
    """
    # A run of max_depth "- " or "? " needs that many dashes or question marks: counting them
    # (a fast C loop) spares the regex scan, slow on a long document such as one big scalar.
    suspect = len(chunk) > 2 * _SAFE_RECURSION and chunk.count("-") + chunk.count("?") >= max_depth
    run = re.search(_COMPACT_RUN % max_depth, chunk) if suspect else None
    if run is not None:
        line = offset + chunk.count("\n", 0, run.start()) + 1
        raise _too_deep(max_depth, line)
    if chunk.count("[") + chunk.count("{") <= max_depth:
        return
    depth, line = _flow_depth(chunk, max_depth)
    if depth > max_depth:
        raise _too_deep(max_depth, offset + line)


def _too_deep(max_depth: int, line: int) -> BudgetExceeded:
    detail = f"nesting deeper than {max_depth} levels"
    return BudgetExceeded("max_depth", max_depth, line=line, detail=detail)


def _flow_depth(chunk: str, max_depth: int) -> tuple[int, int]:
    """Return (an upper bound of flow nesting depth, line where it passed ``max_depth``).

    Quoted text is skipped only where a quoted scalar can start, so brackets inside plain
    scalars and block scalars are counted: the bound errs on the side of refusing.
    """
    depth = 0
    line = 1
    pos = 0
    n = len(chunk)
    while pos < n:
        match = _FLOW_TOKEN.search(chunk, pos)
        if match is None:
            break
        ch = match.group()
        at = match.start()
        pos = at + 1
        if ch == "\n":
            line += 1
        elif ch in "[{":
            depth += 1
            if depth > max_depth:
                return depth, line
        elif ch in "]}":
            depth = max(0, depth - 1)
        elif ch == "#":
            if at == 0 or chunk[at - 1] in " \t\n":
                end = chunk.find("\n", at)
                pos = n if end < 0 else end
        elif ch in "\"'" and _quote_starts_scalar(chunk, at, depth > 0):
            end = _quote_end(chunk, at, ch)
            line += chunk.count("\n", at, end)
            pos = end
    return depth, line


def _quote_starts_scalar(chunk: str, at: int, in_flow: bool) -> bool:
    i = at - 1
    while i >= 0 and chunk[i] in " \t":
        i -= 1
    if i < 0 or chunk[i] == "\n":
        return True
    prev = chunk[i]
    if in_flow:
        return prev in "[{,:?"
    return i < at - 1 and prev in ":-?"


def _quote_end(chunk: str, at: int, quote: str) -> int:
    i = at + 1
    n = len(chunk)
    while i < n:
        ch = chunk[i]
        if quote == '"' and ch == "\\":
            i += 2
            continue
        if ch == quote:
            if quote == "'" and i + 1 < n and chunk[i + 1] == "'":
                i += 2
                continue
            return i + 1
        i += 1
    return n


_SAFE = yaml.constructor.SafeConstructor()
ScalarNode = yaml.ScalarNode


class _Converter:
    """Turn a composed node graph into LDicts and lists, counting alias expansion."""

    __slots__ = ("budget", "max_depth", "max_digits", "offset", "seen", "track")

    def __init__(
        self, offset: int, max_depth: int, budget: _AliasBudget, track: bool, max_digits: int
    ) -> None:
        self.offset = offset + 1
        self.max_depth = max_depth
        self.max_digits = max_digits
        self.budget = budget
        self.track = track
        self.seen: set[int] = set()

    def convert(self, node: yaml.Node, depth: int) -> Any:
        if self.track:
            self._count(node)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        if depth >= self.max_depth:
            raise _too_deep(self.max_depth, node.start_mark.line + self.offset)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, depth)
        if self.track:
            return [self.convert(item, depth + 1) for item in node.value]
        convert = self.convert
        return [
            item.value if item.tag == STR and type(item) is ScalarNode else convert(item, depth + 1)
            for item in node.value
        ]

    def _count(self, node: yaml.Node) -> None:
        key = id(node)
        if key in self.seen:
            self.budget.left -= 1
            if self.budget.left < 0:
                raise BudgetExceeded(
                    "max_nodes",
                    self.budget.limit,
                    line=node.start_mark.line + self.offset,
                    detail=f"anchors and aliases expand to more than {self.budget.limit:,} nodes; "
                    "refusing (alias or merge-key bomb?)",
                )
        else:
            self.seen.add(key)

    def _mapping(self, node: yaml.MappingNode, depth: int) -> LDict:
        result = LDict()
        offset = self.offset
        result.line = node.start_mark.line + offset
        lines = result.lines
        merges = []
        convert = self.convert
        track = self.track
        child_depth = depth + 1
        for key_node, value_node in node.value:
            tag = key_node.tag
            if tag == STR and not track and type(key_node) is ScalarNode:
                key = key_node.value  # the common case: a plain text key
            elif tag == MERGE:
                merges.append(value_node)
                continue
            else:
                key = self._key(key_node, depth)
            if key in lines:  # a repeated key: the later value wins, as in PyYAML
                (result.duplicates or _new_duplicates(result)).setdefault(key, []).append(
                    lines[key]
                )
            if not track and value_node.tag == STR and type(value_node) is ScalarNode:
                result[key] = value_node.value  # text: no number to check
            else:
                result[key] = convert(value_node, child_depth)
            lines[key] = key_node.start_mark.line + offset
        for merge in merges:
            self._merge(result, merge, depth)
        return result

    def _key(self, node: yaml.Node, depth: int) -> Any:
        if isinstance(node, yaml.ScalarNode):
            if self.track:
                self._count(node)
            key = self._scalar(node)
            return key if not isinstance(key, float) or key == key else str(key)
        return json.dumps(self.convert(node, depth + 1), sort_keys=True, default=str)

    def _merge(self, target: LDict, merge: yaml.Node, depth: int) -> None:
        """Apply a ``<<`` merge: explicit keys win, then earlier merged maps win."""
        sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise InputError(
                    "a merge key (<<) needs a mapping or a list of mappings",
                    line=source.start_mark.line + self.offset,
                )
            merged = self.convert(source, depth + 1)  # a merge counts as a level
            for key, value in merged.items():
                if key not in target:
                    target[key] = value
                    target.lines[key] = merged.lines.get(key, merged.line)

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        """Convert a scalar; a number longer than ``max_digits`` is refused before PyYAML's
        constructors see it (they are quadratic on base-60 and limited on long integers)."""
        if node.tag in _NUMBERS and len(node.value) > self.max_digits:
            raise BudgetExceeded(
                "max_digits",
                self.max_digits,
                line=node.start_mark.line + self.offset,
                detail=f"a number of {len(node.value):,} characters, longer than "
                f"{self.max_digits:,}; quote it if it is text",
            )
        return _scalar(node)


_NUMBERS = frozenset({INT, FLOAT})


def _new_duplicates(mapping: LDict) -> dict[Any, list[int]]:
    mapping.duplicates = {}
    return mapping.duplicates


def _scalar(node: yaml.ScalarNode) -> Any:
    tag = node.tag
    if tag == STR:
        return node.value
    if tag == INT:
        return _SAFE.construct_yaml_int(node)
    if tag == NULL:
        return None
    if tag == BOOL:
        return node.value.lower() in ("yes", "true", "on", "y")
    if tag == FLOAT:
        return _SAFE.construct_yaml_float(node)
    return node.value
