"""Mechanical fixes ("fix-it"): patch one document of a manifest and show the diff.

A fix rewrites only the document it targets. That document is read with ruamel.yaml's
round-trip loader (comments, quotes and key order survive) or, when it is JSON, with ``json``;
the result is spliced back between the untouched documents, ``---`` lines and comments around
it. Lines the loader would re-format without being asked (``null`` shown as nothing, a folded
scalar) are left as the user wrote them: only the lines the fix changes are replaced, see
:func:`_merge`. CRLF line ends and a byte-order mark are kept.

Fixable rules:

* ``classic-sidecar-blocks-job``: move the helper from ``containers`` to the end of
  ``initContainers`` with ``restartPolicy: Always`` (a native sidecar) and a ``startupProbe``.
* ``sidecar-without-startup-probe``: give a native sidecar a ``tcpSocket`` startupProbe on its
  port; a classic sidecar (the informational finding) becomes a native sidecar as above.
* ``hpa-resource-metric-on-multi-container-pod``: turn ``Resource`` metrics into
  ``ContainerResource`` metrics for the app container, upgrading the HPA to autoscaling/v2.
"""

from __future__ import annotations

import difflib
import functools
import io
import itertools
import json
import re
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

from advisor.core.analyze import Report, WorkloadReport, analyze_text
from advisor.core.budget import DEFAULT_BUDGET, Budget, BudgetExceeded
from advisor.core.intake import HPA_KIND, MAX_LIST_DEPTH, POD_PATHS
from advisor.core.lazy import lazy_re
from advisor.core.records import dataclass
from advisor.core.rules import Finding
from advisor.core.versions import NEWEST, feature_state, format_version
from advisor.core.yamlload import load_documents, numbered_chunks

CLASSIC_SIDECAR = "classic-sidecar-blocks-job"
STARTUP_PROBE = "sidecar-without-startup-probe"
HPA_RESOURCE = "hpa-resource-metric-on-multi-container-pod"
FIXABLE_RULES: frozenset[str] = frozenset({CLASSIC_SIDECAR, STARTUP_PROBE, HPA_RESOURCE})

PLACEHOLDER = "placeholder: replace with a real readiness check"
SHELLS = frozenset({"sh", "bash", "ash", "dash", "ksh", "zsh"})
PROBE_PERIOD_SECONDS = 2
PROBE_FAILURE_THRESHOLD = 30
V1_DEFAULT_CPU_UTILIZATION = 80  # what autoscaling/v1 uses when no target is set
MAX_TAIL_DEPTH = 100
# ruamel's round trip runs at a few thousand lines a second, and keeping the user's layout pairs
# lines with difflib, quadratic when many lines are alike (4,900 alike lines: 9 s). A longer
# document would hold a web worker for seconds, up to a minute for 2 MiB: it is edited by hand.
MAX_FIX_LINES = 2_000


class FixError(ValueError):
    """A fix cannot be applied to this input; the message says why."""


@dataclass(frozen=True)
class Fix:
    """A patched manifest: the whole text before and after, the diff, and what to check."""

    rule: str
    title: str
    original: str
    patched: str
    diff: str
    notes: tuple[str, ...]


@dataclass(frozen=True)
class _Outcome:
    """What a rule's patch did to the loaded document."""

    title: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Span:
    """One document: its number, whether it is empty, and where its text is."""

    number: int
    empty: bool
    start: int
    end: int
    first_line: int  # 1-based


# -- entry points ----------------------------------------------------------------------------


def fix(
    text: str,
    *,
    rule: str,
    document: int,
    container: str | None = None,
    hpa: str | None = None,
    workload: str | None = None,
    file: str = "manifest.yaml",
    kubernetes_version: tuple[int, int] = NEWEST,
    budget: Budget = DEFAULT_BUDGET,
) -> Fix:
    """Apply the mechanical fix for ``rule`` to document ``document`` of ``text``.

    ``container`` names the helper (sidecar rules) or the app container to scale on (HPA rule;
    found from the HPA's target in ``text`` when omitted); ``hpa`` names the autoscaler and
    ``workload`` the object, when a document (a List) holds several.
    """
    if rule not in FIXABLE_RULES:
        known = ", ".join(sorted(FIXABLE_RULES))
        raise FixError(f"rule '{rule}' has no mechanical fix (fixable rules: {known})")
    _check_version(rule, kubernetes_version)
    version = kubernetes_version
    patch: Callable[[Any, _Codec], _Outcome]
    if rule == HPA_RESOURCE:
        app = _scaled_container(text, container=container, hpa=hpa, file=file, version=version)
        patch = functools.partial(_fix_hpa, hpa=hpa, container=app)
    else:
        if not container:
            raise FixError(f"name the container to fix for rule '{rule}'")
        _refuse_app_container(
            text, document, container=container, workload=workload, file=file, version=version
        )
        patch = functools.partial(_fix_sidecar, rule=rule, container=container, workload=workload)
    return _apply(text, rule=rule, document=document, file=file, patch=patch, budget=budget)


def fixes_for(
    report_text: str, report: Report, *, file: str = "manifest.yaml"
) -> list[tuple[Finding, WorkloadReport]]:
    """List the findings of ``report`` in ``file`` whose fix applies cleanly to its text."""
    found = []
    for w in report.workloads:
        for f in w.findings:
            if f.rule not in FIXABLE_RULES or (f.file or w.workload.file) != file:
                continue
            try:
                fix_finding(report_text, finding=f, workload=w, file=file, report=report)
            except FixError:
                continue
            found.append((f, w))
    return found


def fix_finding(
    text: str,
    *,
    finding: Finding,
    workload: WorkloadReport,
    report: Report,
    file: str = "manifest.yaml",
) -> Fix:
    """Apply the fix for one finding of ``report`` (as listed by :func:`fixes_for`)."""
    target: dict[str, Any]
    if finding.rule == HPA_RESOURCE:  # the finding sits on the workload, its line in the HPA
        apps = [c.name for c in workload.containers if c.role == "app" and c.lifecycle != "init"]
        target = {
            "document": _document_at_line(text, finding.line),
            "container": apps[0] if apps else None,
            "hpa": workload.hpas[0] if len(workload.hpas) == 1 else None,
        }
    else:
        w = workload.workload
        target = {"document": w.document, "container": finding.container, "workload": w.name}
    version = report.kubernetes_version
    return fix(text, rule=finding.rule, file=file, kubernetes_version=version, **target)


def offers_fix(rule: str, version: tuple[int, int]) -> bool:
    """Tell whether ``rule`` has a mechanical fix the target ``version`` can run."""
    if rule not in FIXABLE_RULES:
        return False
    try:
        _check_version(rule, version)
    except FixError:
        return False
    return True


def _check_version(rule: str, version: tuple[int, int]) -> None:
    """Refuse a fix whose result the target Kubernetes version would not run."""
    if rule == HPA_RESOURCE:
        state, needs = feature_state("HPAContainerMetrics", version), "1.27"
    else:
        state, needs = feature_state("SidecarContainers", version), "1.29"
    if not state.enabled_by_default:
        raise FixError(
            f"this fix needs Kubernetes {needs} or newer: in Kubernetes "
            f"{format_version(version)} {state.describe()}"
        )


# -- documents: find one, patch it, splice it back -------------------------------------------


def _apply(
    text: str,
    *,
    rule: str,
    document: int,
    file: str,
    patch: Callable[[Any, _Codec], _Outcome],
    budget: Budget = DEFAULT_BUDGET,
) -> Fix:
    """Patch document ``document`` of ``text`` with ``patch`` and build the :class:`Fix`."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text[len(bom) :]
    span = _find_span(body, document, file=file)
    chunk = body[span.start : span.end]
    newline = "\r\n" if "\r\n" in chunk else "\n"
    source = chunk.replace("\r\n", "\n")
    where = f"{file}: document {document}"
    merged, outcome = _patch_document(
        source, patch, where=where, first_line=span.first_line, context=body, budget=budget
    )
    replacement = _restore_ends(merged, source=source, newline=newline)
    if span.start > 0 and body[span.start - 1] != "\n" and not replacement[:1].isspace():
        replacement = newline + replacement  # the document began on its '---' line
    patched = bom + body[: span.start] + replacement + body[span.end :]
    diff = unified_diff(text, patched, file=file)
    return Fix(rule, outcome.title, text, patched, diff, outcome.notes)


def _patch_document(
    source: str,
    patch: Callable[[Any, _Codec], _Outcome],
    *,
    where: str,
    first_line: int,
    context: str,
    budget: Budget = DEFAULT_BUDGET,
) -> tuple[str, _Outcome]:
    """Load one document, patch it, and return its new text (LF line ends) and the outcome."""
    _within_budget(source, where=where, first_line=first_line, budget=budget)
    codec = _codec_for(source, context=context)
    data = codec.load(source, where=where, first_line=first_line)
    reflowed = isinstance(codec, _YamlCodec) and _to_block_style(data)
    before = codec.dump(data)
    try:
        outcome = patch(data, codec)
    except FixError as exc:
        raise FixError(f"{where}: {exc}") from None
    after = codec.dump(data)
    merged = None if reflowed else _merge(source, before, after)
    if merged is not None and not codec.same(merged, after):
        merged = None  # the line-level merge went astray: take the whole new rendering
    notes = [*outcome.notes, *_layout_notes(source, merged or after, reflowed, merged is None)]
    return merged or after, _Outcome(outcome.title, tuple(notes))


def _layout_notes(source: str, patched: str, reflowed: bool, rewritten: bool) -> Iterator[str]:
    """Say what changed beyond the fix itself: a re-formatted document, dropped comments."""
    if reflowed:
        yield "the document was written in flow style ({...}); the patched one is block YAML"
    elif rewritten:
        yield "other lines of this document were re-formatted as well: review the whole diff"
    lost = _lost_comments(source, patched)
    if lost:
        more = " ..." if len(lost) > 3 else ""
        yield (
            f"the YAML library dropped {len(lost)} comment(s) it cannot place (comments "
            f"inside a [...] or {{...}} list are one such case): {'; '.join(lost[:3])}{more}"
        )


_COMMENT = lazy_re(r"(?:^|[ \t])(#.*)$", re.MULTILINE)


def _lost_comments(original: str, patched: str) -> list[str]:
    """List the comments of ``original`` that ``patched`` no longer has."""
    missing = Counter(m.group(1).strip() for m in _COMMENT.finditer(original))
    missing.subtract(m.group(1).strip() for m in _COMMENT.finditer(patched))
    return list((+missing).elements())


def _to_block_style(data: Any) -> bool:
    """Switch a document written as one flow collection to block style; tell if it was."""
    if not isinstance(data, (CommentedMap, CommentedSeq)) or not data.fa.flow_style():
        return False
    stack: list[Any] = [data]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if isinstance(node, (CommentedMap, CommentedSeq)) and id(node) not in seen:
            seen.add(id(node))  # an alias may point back up the tree
            node.fa.set_block_style()
            stack.extend(node.values() if isinstance(node, CommentedMap) else node)
    return True


def _restore_ends(merged: str, *, source: str, newline: str) -> str:
    """Give the patched text the original's line ends and final-newline state."""
    if not source.endswith("\n"):
        merged = merged.removesuffix("\n")
    return merged.replace("\n", newline) if newline != "\n" else merged


def _spans(body: str) -> Iterator[_Span]:
    """Yield the documents of ``body``, numbered as the analyser numbers them."""
    starts = [0, *(m.end() for m in re.finditer("\n", body))]
    for number, offset, chunk, empty in numbered_chunks(body):
        start = starts[min(offset, len(starts) - 1)]
        if chunk and not body.startswith(chunk, start):
            start += 3  # content on the '---' line itself
        yield _Span(number, empty, start, start + len(chunk), offset + 1)


def _find_span(body: str, document: int, *, file: str) -> _Span:
    """Return document ``document``, or explain why there is no such document to fix."""
    count = 0
    for span in _spans(body):
        if span.number == document and span.empty:
            raise FixError(f"{file}: document {document} is empty; there is nothing to fix")
        if span.number == document:
            return span
        count = span.number
    plural = "" if count == 1 else "s"
    raise FixError(f"{file} has no document {document}: it has {count} document{plural}")


def _document_at_line(text: str, line: int | None) -> int:
    """Return the number of the document holding 1-based ``line`` of ``text``."""
    body = text.removeprefix("\ufeff")
    for span in _spans(body):
        last = span.first_line + body.count("\n", span.start, span.end)
        if not span.empty and line is not None and span.first_line <= line <= last:
            return span.number
    raise FixError(f"no document of the text holds line {line}")


# -- round trip: YAML with ruamel, JSON with json ----------------------------------------------


class _Codec(ABC):
    """Load and dump one document, and build nodes that dump in its style."""

    @abstractmethod
    def load(self, source: str, *, where: str, first_line: int) -> Any:
        """Parse one document's text."""

    @abstractmethod
    def dump(self, data: Any) -> str:
        """Render one document's data in this codec's style."""

    def node(self, value: Any) -> Any:
        """Convert plain dicts and lists into this codec's nodes."""
        return value

    def same(self, one: str, other: str) -> bool:
        """Tell whether two texts hold the same data (and key order).

        Compared through the core loader's bounded representation, never by comparing
        round-trip documents: their aliases share nodes, and ``==`` walks every path through
        them (exponential in the nesting of aliases).
        """
        first, second = _canonical(one), _canonical(other)
        return first is not None and first == second

    def comment(self, mapping: Any, key: str, text: str) -> bool:
        """Put ``text`` as a comment on ``key``'s line; False when the format has none."""
        return False


def _canonical(text: str) -> str | None:
    """The data of a one-document text as JSON (key order kept), or None if it cannot load."""
    documents = [d for d in load_documents(text) if d.error is not None or d.value is not None]
    if len(documents) != 1 or documents[0].error is not None:
        return None
    return json.dumps(documents[0].value, default=str)


def _within_budget(source: str, *, where: str, first_line: int, budget: Budget) -> None:
    """Refuse a document the core loader refuses (alias bombs, depth, long numbers) before any
    round-trip work: ruamel keeps aliases as shared nodes, and walking them is unbounded."""
    lines = source.count("\n") + 1
    if lines > MAX_FIX_LINES:
        raise FixError(
            f"{where} has {lines:,} lines; the fix-it rewrites documents of up to "
            f"{MAX_FIX_LINES:,} lines (its round trip would take too long): apply the fix by hand"
        )
    for document in load_documents(source, limits=budget):
        if isinstance(document.error, BudgetExceeded):  # syntax errors: ruamel says its own way
            err = document.error
            line = f", line {err.line + first_line - 1}" if err.line is not None else ""
            raise FixError(f"{where}{line}: {err.message}")


class _YamlCodec(_Codec):
    """ruamel.yaml round trip, indented the way the document already is."""

    def __init__(self, source: str, *, context: str) -> None:
        self.yaml = YAML(typ="rt")
        self.yaml.preserve_quotes = True
        self.yaml.width = 4096  # never fold a long line the user wrote on one
        self.yaml.brace_single_entry_mapping_in_flow_sequence = True  # [{a: 1}], not [a: 1]
        mapping, sequence, offset = _infer_indentation(source, context=context)
        self.yaml.indent(mapping=mapping, sequence=sequence, offset=offset)

    def load(self, source: str, *, where: str, first_line: int) -> Any:
        try:
            return self.yaml.load(source)
        except Exception as exc:  # ruamel raises many types for input it cannot round-trip
            why = _brief(exc, first_line=first_line)
            raise FixError(f"{where}: the YAML cannot be round-tripped: {why}") from exc

    def dump(self, data: Any) -> str:
        out = io.StringIO()
        try:
            self.yaml.dump(data, out)
        except Exception as exc:  # e.g. a tag or anchor it read but cannot write back
            why = _brief(exc, first_line=1)
            raise FixError(f"the patched YAML cannot be written: {why}") from exc
        return out.getvalue()

    def node(self, value: Any) -> Any:
        if isinstance(value, dict):
            return CommentedMap((k, self.node(v)) for k, v in value.items())
        if isinstance(value, list):
            seq = CommentedSeq(self.node(v) for v in value)
            if value and not any(isinstance(v, (dict, list)) for v in value):
                seq.fa.set_flow_style()  # a command reads best on one line
            return seq
        return value

    def comment(self, mapping: Any, key: str, text: str) -> bool:
        if not isinstance(mapping, CommentedMap):
            return False
        mapping.yaml_add_eol_comment(f"# {text}", key, column=0)
        return True


class _JsonCodec(_Codec):
    """``json`` for JSON documents, indented like the document's first nested line."""

    def __init__(self, source: str) -> None:
        match = re.search(r"\n( +)\S", source)
        self.indent = len(match.group(1)) if match else None

    def load(self, source: str, *, where: str, first_line: int) -> Any:
        try:
            return json.loads(source)
        except (ValueError, RecursionError) as exc:
            raise FixError(f"{where}: the JSON cannot be read: {exc}") from exc

    def dump(self, data: Any) -> str:
        return json.dumps(data, indent=self.indent, ensure_ascii=False) + "\n"


def _codec_for(source: str, *, context: str) -> _Codec:
    """Use JSON for a document that is JSON (its layout can then be kept), else YAML.

    ``context`` (the whole manifest) shows the indentation when the document has no sample.
    """
    if source.lstrip().startswith(("{", "[")):
        try:
            json.loads(source)
        except (ValueError, RecursionError):
            return _YamlCodec(source, context=context)
        return _JsonCodec(source)
    return _YamlCodec(source, context=context)


def _brief(exc: Exception, *, first_line: int) -> str:
    """Say what ruamel objects to, with the line in the whole manifest when it tells one."""
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if not isinstance(problem, str):
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    line = getattr(mark, "line", None)
    return problem + (f" (line {first_line + line})" if isinstance(line, int) else "")


_KEY_LINE = lazy_re(r"^( *)((?:- +)*)[^\s#\-\"'{\[][^#]*?:[ \t]*(?:#.*)?$")
_CONTENT_LINE = lazy_re(r"^( *)(- )?\S")


def _infer_indentation(source: str, *, context: str = "") -> tuple[int, int, int]:
    """Guess ruamel's (mapping, sequence, offset) indents from how ``source`` nests blocks.

    The most common indent wins; ``context`` decides what ``source`` shows no example of.
    """
    mappings, offsets = _indent_votes(source)
    if not (mappings and offsets) and context:
        more_mappings, more_offsets = _indent_votes(context)
        mappings, offsets = mappings or more_mappings, offsets or more_offsets
    mapping = mappings.most_common(1)[0][0] if mappings else 2
    offset = offsets.most_common(1)[0][0] if offsets else 0
    return mapping, offset + 2, offset


def _indent_votes(text: str) -> tuple[Counter[int], Counter[int]]:
    """Count the indents of nested mappings and the offsets of sequence dashes in ``text``."""
    mappings: Counter[int] = Counter()
    offsets: Counter[int] = Counter()
    lines = [line for line in text.splitlines() if line.strip() and not _is_comment(line)]
    for line, nxt in itertools.pairwise(lines):
        key = _KEY_LINE.match(line)
        child = _CONTENT_LINE.match(nxt)
        if key is None or child is None:
            continue
        step = len(child.group(1)) - len(key.group(1)) - len(key.group(2))
        if child.group(2) and step >= 0:
            offsets[step] += 1
        elif step > 0:
            mappings[step] += 1
    return mappings, offsets


def _is_comment(line: str) -> bool:
    """Tell whether a line holds only a comment."""
    return line.lstrip().startswith("#")


def _merge(original: str, before: str, after: str) -> str | None:
    """Apply the changes from ``before`` to ``after`` onto ``original``; None if they clash.

    ``before`` is the loader's rendering of the untouched document. Where it differs from
    ``original`` only in lines the fix does not change, those lines stay as written.
    """
    o, a, b = (_split_lines(s) for s in (original, before, after))
    if o == a:
        return after
    a_to_o = _line_map(o, a)
    out: list[str] = []
    pos = 0
    for tag, i1, i2, j1, j2 in _matcher(a, b).get_opcodes():
        if tag == "equal":
            continue
        where = _original_range(a_to_o, i1, i2, a_len=len(a), o_len=len(o))
        if where is None or not pos <= where[0] <= where[1]:
            return None
        out += o[pos : where[0]] + b[j1:j2]
        pos = where[1]
    return "".join(out + o[pos:])


def _matcher(x: list[str], y: list[str]) -> difflib.SequenceMatcher[str]:
    """A line matcher that pairs the common first and last lines directly.

    ``SequenceMatcher`` without autojunk is quadratic in lines that repeat (a list of 1,900
    aliases took 2 s); the lines a fix leaves alone before and after its change are paired
    here, and only the lines between go through it.
    """
    start = 0
    limit = min(len(x), len(y))
    while start < limit and x[start] == y[start]:
        start += 1
    end = 0
    while end < limit - start and x[-1 - end] == y[-1 - end]:
        end += 1
    inner = difflib.SequenceMatcher(
        None, x[start : len(x) - end], y[start : len(y) - end], autojunk=False
    )
    blocks = [difflib.Match(0, 0, start)] if start else []
    blocks += [
        difflib.Match(m.a + start, m.b + start, m.size)
        for m in inner.get_matching_blocks()
        if m.size
    ]
    if end:
        blocks.append(difflib.Match(len(x) - end, len(y) - end, end))
    blocks.append(difflib.Match(len(x), len(y), 0))
    matcher = difflib.SequenceMatcher(None, x, y, autojunk=False)
    matcher.matching_blocks = _joined(blocks)  # type: ignore[attr-defined]  # its cache
    return matcher


def _joined(blocks: list[difflib.Match]) -> list[difflib.Match]:
    """Merge adjacent blocks, as ``get_matching_blocks`` returns them."""
    out: list[difflib.Match] = []
    for block in blocks:
        last = out[-1] if out else None
        if block.size and last and last.a + last.size == block.a and last.b + last.size == block.b:
            out.pop()
            block = difflib.Match(last.a, last.b, last.size + block.size)
        out.append(block)
    return out


def _split_lines(text: str) -> list[str]:
    """Split ``text`` after each LF only (YAML's other line breaks stay inside their lines)."""
    return _LINE.findall(text)


_LINE = lazy_re(r"[^\n]*\n|[^\n]+\Z")


def _line_map(original: list[str], rendered: list[str]) -> dict[int, int]:
    """Pair lines of the rendering with the same lines of the original (trailing blanks aside)."""
    keys_o = [line.rstrip() for line in original]
    keys_r = [line.rstrip() for line in rendered]
    pairs: dict[int, int] = {}
    for block in _matcher(keys_o, keys_r).get_matching_blocks():
        pairs.update((block.b + k, block.a + k) for k in range(block.size))
    return pairs


def _original_range(
    a_to_o: dict[int, int], i1: int, i2: int, *, a_len: int, o_len: int
) -> tuple[int, int] | None:
    """Find the original lines that rendered lines ``i1:i2`` stand for (empty: an insertion).

    The range is bounded by the nearest rendered lines that have an original counterpart, so
    lines re-formatted inside it (a sequence indented differently) are replaced as a whole.
    """
    after_previous = a_to_o[i1 - 1] + 1 if i1 - 1 in a_to_o else (0 if i1 == 0 else None)
    before_next = a_to_o.get(i2, o_len if i2 == a_len else None)
    if i1 == i2:
        at = after_previous if after_previous is not None else before_next
        return None if at is None else (at, at)
    start = a_to_o.get(i1, after_previous)
    end = a_to_o[i2 - 1] + 1 if i2 - 1 in a_to_o else before_next
    return None if start is None or end is None else (start, end)


def unified_diff(original: str, patched: str, *, file: str) -> str:
    """Return a unified diff (3 lines of context) from ``a/<file>`` to ``b/<file>``."""
    lines = difflib.unified_diff(
        _split_lines(original),
        _split_lines(patched),
        fromfile=f"a/{file}",
        tofile=f"b/{file}",
        n=3,
    )
    marker = "\n\\ No newline at end of file\n"
    return "".join(line if line.endswith("\n") else line + marker for line in lines)


# -- objects inside a document ---------------------------------------------------------------


def _objects(value: Any, depth: int = 0) -> Iterator[dict]:
    """Yield the Kubernetes objects of a document, opening Lists and top-level sequences."""
    if isinstance(value, list) and depth < MAX_LIST_DEPTH:
        for item in value:
            yield from _objects(item, depth + 1)
    elif isinstance(value, dict):
        kind = value.get("kind")
        items = value.get("items")
        if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
            if depth < MAX_LIST_DEPTH:
                yield from _objects(items, depth + 1)
        else:
            yield value


def _label(obj: dict) -> str:
    """Name an object for a message: "Job 'myjob'"."""
    metadata = obj.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return f"{obj.get('kind') or 'object'} '{name or '?'}'"


def _pod_spec(obj: dict) -> dict | None:
    """Return the pod spec of a workload object, or None for other kinds."""
    kind = obj.get("kind")
    path = POD_PATHS.get(kind) if isinstance(kind, str) else None
    if path is None:
        return None
    holder: Any = obj
    for key in (*path, "spec"):
        holder = holder.get(key) if isinstance(holder, dict) else None
    return holder if isinstance(holder, dict) else None


def _insert(mapping: dict, position: int, key: str, value: Any) -> None:
    """Insert ``key`` at ``position`` of ``mapping`` (a CommentedMap or a plain dict)."""
    if isinstance(mapping, CommentedMap):
        mapping.insert(position, key, value)
        return
    items = list(mapping.items())
    items.insert(position, (key, value))
    mapping.clear()
    mapping.update(items)


def _rename(mapping: dict, old: str, new: str, value: Any) -> None:
    """Replace ``old`` by ``new: value`` at the same place, keeping ``old``'s comment."""
    position = list(mapping).index(old)
    comment = mapping.ca.items.pop(old, None) if isinstance(mapping, CommentedMap) else None
    del mapping[old]
    _insert(mapping, position, new, value)
    if comment is not None and isinstance(mapping, CommentedMap):
        mapping.ca.items[new] = comment
        if isinstance(comment[2], CommentToken):  # the old key's column no longer fits
            comment[2] = CommentToken(comment[2].value, CommentMark(0), None)


def _names(containers: Any) -> list[str]:
    """Return the names in a containers list (tolerating any shape)."""
    if not isinstance(containers, list):
        return []
    return [str(c.get("name")) for c in containers if isinstance(c, dict) and "name" in c]


# -- sidecar fixes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Place:
    """Where a container is declared: its pod spec, list and index."""

    spec: dict
    list_name: str
    index: int

    @property
    def container(self) -> dict:
        return self.spec[self.list_name][self.index]


def _find_container(data: Any, *, container: str, workload: str | None) -> _Place:
    """Find the single declaration of ``container`` in the document's workloads."""
    places, seen = [], []
    for obj in _objects(data):
        spec = _pod_spec(obj)
        if spec is None or (workload is not None and _name_of(obj) != workload):
            continue
        seen.append(obj)
        for list_name in ("initContainers", "containers"):
            items = spec.get(list_name)
            # Indexes into the list itself: _names() skips entries that are not containers.
            for index, item in enumerate(items if isinstance(items, list) else []):
                if _names([item]) == [container]:
                    places.append(_Place(spec, list_name, index))
    if len(places) == 1:
        return places[0]
    if not seen:
        raise FixError("the document holds no workload with a pod template")
    where = ", ".join(_label(o) for o in seen)
    if places:
        raise FixError(f"several workloads of the document declare '{container}': {where}")
    raise FixError(f"no container named '{container}' in {where}")


def _name_of(obj: dict) -> str | None:
    """Return an object's metadata.name, if it has one."""
    metadata = obj.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else None


def _refuse_app_container(
    text: str,
    document: int,
    *,
    container: str,
    workload: str | None,
    file: str,
    version: tuple[int, int],
) -> None:
    """Refuse to turn the container the analyser sees as the app into a sidecar."""
    report = analyze_text(text, file=file, kubernetes_version=version)
    for w in report.workloads:
        if w.workload.document != document or workload not in (None, w.workload.name):
            continue
        for c in w.containers:
            if c.name == container and c.role == "app" and c.lifecycle == "regular":
                raise FixError(
                    f"'{container}' is the app container of {w.workload.kind} "
                    f"'{w.workload.name}' ({c.reason}); only a helper becomes a native sidecar"
                )


def _fix_sidecar(
    data: Any, codec: _Codec, *, rule: str, container: str, workload: str | None
) -> _Outcome:
    """Make ``container`` a native sidecar, or give a native sidecar a startupProbe."""
    place = _find_container(data, container=container, workload=workload)
    if place.list_name == "containers":
        outcome = _make_native(place, codec, name=container)
        if rule == STARTUP_PROBE and "startupProbe" not in place.spec["initContainers"][-1]:
            # a native sidecar without a startupProbe still races the app: no fix at all
            raise FixError(
                f"'{container}' declares no port and runs no shell to build a startupProbe "
                "from; move it to initContainers with restartPolicy: Always and write its "
                "startupProbe by hand"
            )
        return outcome
    sidecar = place.container
    if sidecar.get("restartPolicy") != "Always":
        raise FixError(
            f"'{container}' is a plain init container: it runs to completion, so it can have "
            "no startupProbe and keeps no Job running"
        )
    if rule == CLASSIC_SIDECAR:
        raise FixError(f"'{container}' is already a native sidecar")
    if "startupProbe" in sidecar:
        raise FixError(f"native sidecar '{container}' already has a startupProbe")
    port = _tcp_port(sidecar)
    if port is None:
        raise FixError(
            f"'{container}' declares no TCP containerPort to check; write its startupProbe by "
            "hand (a probe that always succeeds would hide the race, not fix it)"
        )
    _insert_after(sidecar, "restartPolicy", "startupProbe", codec.node(_tcp_probe(port)))
    return _Outcome(f"Add a startupProbe to '{container}'", (_tcp_note(container, port),))


def _make_native(place: _Place, codec: _Codec, *, name: str) -> _Outcome:
    """Move a regular container to the end of initContainers with restartPolicy: Always."""
    spec = place.spec
    if len(spec["containers"]) < 2:
        raise FixError(f"'{name}' is the only regular container; a pod needs at least one")
    earlier = _names(spec.get("initContainers"))
    if name in earlier:
        raise FixError(f"initContainers already has a container named '{name}'")
    init = _init_list(spec, codec)
    _move_item(spec, "containers", place.index, "initContainers")
    sidecar = init[-1]
    if "restartPolicy" in sidecar:
        sidecar["restartPolicy"] = "Always"
    else:
        _insert_after(sidecar, "name", "restartPolicy", "Always")
    notes = [*_add_startup_probe(sidecar, codec, name=name)]
    if earlier:
        notes.append(
            f"'{name}' comes after the existing init containers ({', '.join(earlier)}), so it "
            "starts when it did before: after them, before the app. Move it up if one of "
            "them needs it running."
        )
    return _Outcome(f"Make '{name}' a native sidecar", tuple(notes))


def _init_list(spec: dict, codec: _Codec) -> list:
    """Return the pod's initContainers list, creating it (just before containers) if needed."""
    init = spec.get("initContainers")
    if isinstance(init, list) and init:
        return init
    if init is not None and not isinstance(init, list):
        raise FixError("initContainers is not a list")
    init = codec.node([])
    spec.pop("initContainers", None)  # null or [] (a flow list would keep its style)
    _insert(spec, list(spec).index("containers"), "initContainers", init)
    return init


def _move_item(owner: dict, source_key: str, index: int, target_key: str) -> None:
    """Move ``owner[source_key][index]`` to the end of ``owner[target_key]`` with its comments.

    ruamel keeps the comment lines between two items on the first one (or, above the first
    item, on the list); the lines above the moved item go with it, those below it stay put.
    """
    source, target = owner[source_key], owner[target_key]
    last = index == len(source) - 1
    above = _take_lines_above(owner, source_key, index)
    stays = not last or (index > 0 and _tail_slot(source[index - 1]) is not None)
    below = _take_tail_lines(source[index]) if stays else ""
    item = source.pop(index)
    if index == 0 and isinstance(source, CommentedSeq) and 0 in source.ca.items:
        # ruamel shifted the next item's comment slot to 0, where it cannot write it
        _add_lines_above(owner, source_key, 0, _pop_tokens(source.ca.items[0], 1))
    if below and last:
        _add_tail_lines(source[index - 1], below)
    elif below:
        _add_lines_above(owner, source_key, index, _tokens(below))
    if above and not (target and _add_tail_lines(target[-1], above)):
        _add_lines_above(owner, target_key, len(target), _tokens(above))
    target.append(item)


def _take_lines_above(owner: dict, key: str, index: int) -> str:
    """Remove and return the comment lines between an item and the one before it."""
    seq = owner[key]
    if not isinstance(seq, CommentedSeq) or not isinstance(owner, CommentedMap):
        return ""
    lines = _take_tail_lines(seq[index - 1]) if index else ""
    tokens = _pop_tokens(seq.ca.items.get(index), 1)
    if index == 0:  # ruamel may keep the same lines on the list and on its key
        for more in (_pop_tokens(owner.ca.items.get(key), 3), _pop_tokens(seq.ca.comment, 1)):
            tokens += [t for t in more if all(t is not seen for seen in tokens)]
    return lines + "".join(" " * t.column + t.value if t.value.strip() else t.value for t in tokens)


def _pop_tokens(slots: list | None, position: int) -> list:
    """Remove and return the comment tokens at ``slots[position]`` (a list of tokens)."""
    if not slots or len(slots) <= position or not isinstance(slots[position], list):
        return []
    tokens, slots[position] = slots[position], None
    return list(tokens)


def _add_lines_above(owner: dict, key: str, index: int, tokens: list) -> None:
    """Write comment ``tokens`` right above item ``index`` of ``owner[key]``."""
    seq = owner[key]
    if not tokens or not isinstance(seq, CommentedSeq) or not isinstance(owner, CommentedMap):
        return
    if index > 0:
        slots = seq.ca.items.setdefault(index, [None, None, None, None])
        slots[1] = tokens + (slots[1] or [])
        return
    slots = owner.ca.items.setdefault(key, [None, None, None, None])
    slots[3] = tokens + (slots[3] or [])
    seq.ca.comment = [seq.ca.comment[0] if seq.ca.comment else None, slots[3]]


def _tokens(lines: str) -> list:
    """Turn comment lines, as written, into ruamel comment tokens."""
    tokens = []
    for line in lines.splitlines(keepends=True):
        text = line.lstrip(" ")
        tokens.append(CommentToken(text, CommentMark(len(line) - len(text)), None))
    return tokens


def _tail_slot(node: Any) -> tuple[list, int] | None:
    """Find the comment slot after the last scalar of a block node: ``(slots, position)``."""
    for _ in range(MAX_TAIL_DEPTH):  # an alias may point back up the tree
        if isinstance(node, CommentedMap) and node:
            key: Any = next(reversed(node))
            position = 2
        elif isinstance(node, CommentedSeq) and node:
            key, position = len(node) - 1, 0
        else:
            return None
        value = node[key]
        if isinstance(value, (CommentedMap, CommentedSeq)) and value:
            if value.fa.flow_style():
                return None  # ruamel puts what follows a flow collection elsewhere
            node = value
            continue
        return node.ca.items.setdefault(key, [None, None, None, None]), position
    return None


def _take_tail_lines(node: Any) -> str:
    """Remove and return the full comment lines after a node's last line (its own stays)."""
    found = _tail_slot(node)
    token = found[0][found[1]] if found else None
    if found is None or not isinstance(token, CommentToken) or "\n" not in token.value:
        return ""
    own, rest = token.value.split("\n", 1)
    if own.strip():
        token.value = own + "\n"
    else:
        found[0][found[1]] = None
    return rest


def _add_tail_lines(node: Any, lines: str) -> bool:
    """Append comment lines after a node's last line; False when there is no place for them."""
    found = _tail_slot(node)
    if found is None:
        return False
    slots, position = found
    token = slots[position]
    if isinstance(token, CommentToken):
        token.value = token.value + lines
    else:
        slots[position] = CommentToken("\n" + lines, CommentMark(0), None)
    return True


def _insert_after(mapping: dict, anchor: str, key: str, value: Any) -> None:
    """Insert ``key`` right after ``anchor`` (or first), so no comment splits the two."""
    keys = list(mapping)
    position = keys.index(anchor) + 1 if anchor in keys else 0
    _insert(mapping, position, key, value)


def _add_startup_probe(sidecar: dict, codec: _Codec, *, name: str) -> list[str]:
    """Give a new native sidecar a startupProbe when one can be derived; return the notes."""
    if "startupProbe" in sidecar:
        return []
    port = _tcp_port(sidecar)
    if port is not None:
        _insert_after(sidecar, "restartPolicy", "startupProbe", codec.node(_tcp_probe(port)))
        return [_tcp_note(name, port)]
    shell = _shell(sidecar)
    if shell is None:
        return [
            f"no startupProbe was added: '{name}' declares no containerPort and runs no shell "
            "to build one from; add one if the containers after it need it ready"
        ]
    probe = {"exec": {"command": [shell, "-c", "true"]}}
    _insert_after(sidecar, "restartPolicy", "startupProbe", codec.node(probe))
    commented = codec.comment(sidecar, "startupProbe", PLACEHOLDER)
    where = "marked with a comment" if commented else f"'{shell} -c true'"
    return [
        f"the startupProbe of '{name}' is a placeholder ({where}) that always succeeds: "
        "replace its command with a check that the sidecar is ready"
    ]


def _tcp_port(container: dict) -> int | None:
    """Return the first TCP containerPort of ``container``."""
    ports = container.get("ports")
    for entry in ports if isinstance(ports, list) else []:
        if not isinstance(entry, dict) or entry.get("protocol", "TCP") != "TCP":
            continue
        number = entry.get("containerPort")
        if isinstance(number, int) and not isinstance(number, bool):
            return int(number)
    # no declared port: one the wiring sees it listen on (--port=5432, --listen=:8080, ...)
    from advisor.core.model import Container
    from advisor.core.wiring import listeners_of

    heard = listeners_of(Container.from_raw(container, index=0, in_init_list=False))
    return heard[0].port if heard else None


def _shell(container: dict) -> str | None:
    """Return the shell a container's command runs (so the image has it), if any."""
    command = container.get("command")
    if not isinstance(command, list) or not command or not isinstance(command[0], str):
        return None
    program = str(command[0])
    return program if program.rsplit("/", 1)[-1] in SHELLS else None


def _tcp_probe(port: int) -> dict:
    """Build a startupProbe that waits for ``port`` to accept TCP connections."""
    return {
        "tcpSocket": {"port": port},
        "periodSeconds": PROBE_PERIOD_SECONDS,
        "failureThreshold": PROBE_FAILURE_THRESHOLD,
    }


def _tcp_note(name: str, port: int) -> str:
    """Explain the tcpSocket startupProbe the fix wrote."""
    wait = PROBE_PERIOD_SECONDS * PROBE_FAILURE_THRESHOLD
    return (
        f"the startupProbe of '{name}' waits up to {wait} s for TCP port {port} to accept "
        "connections; point it at a health endpoint (httpGet) instead if the sidecar has one"
    )


# -- HPA fix ---------------------------------------------------------------------------------


def _scaled_container(
    text: str, *, container: str | None, hpa: str | None, file: str, version: tuple[int, int]
) -> str:
    """Check ``container`` (or find the app container) in the workload the HPA scales."""
    report = analyze_text(text, file=file, kubernetes_version=version)
    targets = [w for w in report.workloads if w.hpas and (hpa is None or hpa in w.hpas)]
    if len(targets) != 1:
        if container:
            return container  # the target is elsewhere: trust the caller
        raise FixError("name the container to scale on: the HPA's target is not in this text")
    target = targets[0]
    running = [c.name for c in target.containers if c.lifecycle != "init"]
    where = f"{target.workload.kind} '{target.workload.name}'"
    if container and container not in running:
        raise FixError(
            f"'{container}' is not a running container of {where} ({', '.join(running)})"
        )
    if container:
        return container
    apps = [c.name for c in target.containers if c.role == "app" and c.name in running]
    if len(apps) != 1:
        raise FixError(f"name the container to scale on: {where} has {len(apps)} app containers")
    return apps[0]


def _fix_hpa(data: Any, codec: _Codec, *, hpa: str | None, container: str) -> _Outcome:
    """Scale the HPA on ``container``'s usage only (ContainerResource metrics)."""
    obj = _find_hpa(data, hpa)
    name = _name_of(obj) or "?"
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        raise FixError(f"HPA '{name}' has no spec")
    if not isinstance(spec.get("metrics") or [], list):
        raise FixError(f"HPA '{name}' has metrics that are not a list")
    api_version = str(obj.get("apiVersion", ""))
    notes = list(_to_v2(obj, spec, codec))
    changed = 0
    for metric in spec.get("metrics") or []:
        if isinstance(metric, dict) and metric.get("type") == "Resource":
            _to_container_resource(metric, container, codec)
            changed += 1
    if not changed:
        raise FixError(f"HPA '{name}' has no Resource metric to turn into ContainerResource")
    if api_version != "autoscaling/v2":
        notes.insert(0, f"apiVersion changed from {api_version or '(none)'} to autoscaling/v2")
    notes.append(
        f"the HPA now divides the usage of '{container}' alone by its requests: make sure "
        f"'{container}' sets requests for the resources it scales on"
    )
    return _Outcome(f"Scale HPA '{name}' on container '{container}' only", tuple(notes))


def _find_hpa(data: Any, name: str | None) -> dict:
    """Find the HorizontalPodAutoscaler ``name`` (or the only one) in the document."""
    hpas = [o for o in _objects(data) if o.get("kind") == HPA_KIND]
    chosen = [o for o in hpas if name is None or _name_of(o) == name]
    if len(chosen) == 1:
        return chosen[0]
    found = ", ".join(f"'{_name_of(o)}'" for o in hpas) or "none"
    if not chosen:
        raise FixError(f"no HorizontalPodAutoscaler '{name}' in the document (found: {found})")
    raise FixError(f"the document holds several HorizontalPodAutoscalers ({found}); name one")


def _to_v2(obj: dict, spec: dict, codec: _Codec) -> Iterator[str]:
    """Rewrite an autoscaling/v1, v2beta1 or v2beta2 HPA as autoscaling/v2."""
    api_version = obj.get("apiVersion")
    if api_version == "autoscaling/v1":
        yield from _v1_metrics(spec, codec)
    elif api_version == "autoscaling/v2beta1":
        for metric in spec.get("metrics") or []:
            if isinstance(metric, dict):
                _v2beta1_metric(metric, codec)
    if api_version != "autoscaling/v2":
        obj["apiVersion"] = "autoscaling/v2"


def _v1_metrics(spec: dict, codec: _Codec) -> Iterator[str]:
    """Replace targetCPUUtilizationPercentage by the equivalent metrics list."""
    target = spec.get("targetCPUUtilizationPercentage")
    if target is None:
        target = V1_DEFAULT_CPU_UTILIZATION
        yield f"the autoscaling/v1 HPA set no target, so its default ({target}% cpu) is written"
    metric = {
        "type": "Resource",
        "resource": {
            "name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": target},
        },
    }
    if "targetCPUUtilizationPercentage" in spec:
        _rename(spec, "targetCPUUtilizationPercentage", "metrics", codec.node([metric]))
    else:
        spec["metrics"] = codec.node([metric])


_V2BETA1_TARGETS = (
    ("targetAverageUtilization", "Utilization", "averageUtilization"),
    ("targetAverageValue", "AverageValue", "averageValue"),
    ("averageValue", "AverageValue", "averageValue"),
    ("targetValue", "Value", "value"),
)


def _v2beta1_metric(metric: dict, codec: _Codec) -> None:
    """Rewrite one autoscaling/v2beta1 metric in the v2 shape (target: {type, ...})."""
    key = {
        "Resource": "resource",
        "ContainerResource": "containerResource",
        "Pods": "pods",
        "Object": "object",
        "External": "external",
    }.get(str(metric.get("type")))
    old = metric.get(key) if key else None
    if key is None or not isinstance(old, dict):
        return
    new: dict[str, Any] = {}
    if key == "object" and "target" in old:
        new["describedObject"] = old.pop("target")
    if key in ("resource", "containerResource"):
        new.update((k, old.pop(k)) for k in ("name", "container") if k in old)
    else:
        selector = old.pop("metricSelector" if key == "external" else "selector", None)
        identifier = {"name": old.pop("metricName", None)}
        new["metric"] = identifier | ({"selector": selector} if selector is not None else {})
    for old_key, kind, new_key in _V2BETA1_TARGETS:
        if old_key in old:
            new["target"] = {"type": kind, new_key: old.pop(old_key)}
            break
    _rename(metric, key, key, codec.node(new))


def _to_container_resource(metric: dict, container: str, codec: _Codec) -> None:
    """Turn ``type: Resource`` into ``type: ContainerResource`` for ``container``."""
    resource = metric.get("resource")
    body = resource if isinstance(resource, dict) else codec.node({})
    metric["type"] = "ContainerResource"
    if "container" in body:
        body["container"] = container
    else:
        _insert_after(body, "name", "container", container)
    if "resource" in metric:
        _rename(metric, "resource", "containerResource", body)
    else:
        metric["containerResource"] = body
