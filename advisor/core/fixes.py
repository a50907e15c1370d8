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
import io
import itertools
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from advisor.core.analyze import Report, WorkloadReport, analyze_text
from advisor.core.intake import HPA_KIND, POD_PATHS
from advisor.core.rules import Finding
from advisor.core.versions import feature_state, format_version
from advisor.core.yamlload import _has_content, split_documents

CLASSIC_SIDECAR = "classic-sidecar-blocks-job"
STARTUP_PROBE = "sidecar-without-startup-probe"
HPA_RESOURCE = "hpa-resource-metric-on-multi-container-pod"
FIXABLE_RULES: frozenset[str] = frozenset({CLASSIC_SIDECAR, STARTUP_PROBE, HPA_RESOURCE})

PLACEHOLDER = "placeholder: replace with a real readiness check"
SHELLS = frozenset({"sh", "bash", "ash", "dash", "ksh", "zsh"})
PROBE_PERIOD_SECONDS = 2
PROBE_FAILURE_THRESHOLD = 30
V1_DEFAULT_CPU_UTILIZATION = 80  # what autoscaling/v1 uses when no target is set
MAX_LIST_DEPTH = 5


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
    kubernetes_version: tuple[int, int] = (1, 37),
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
    if rule == HPA_RESOURCE:
        app = container or _app_container(text, hpa=hpa, file=file, version=kubernetes_version)

        def patch(data: Any, codec: _Codec) -> _Outcome:
            return _fix_hpa(data, codec, hpa=hpa, container=app)
    else:
        if not container:
            raise FixError(f"name the container to fix for rule '{rule}'")
        name = container

        def patch(data: Any, codec: _Codec) -> _Outcome:
            return _fix_sidecar(data, codec, rule=rule, container=name, workload=workload)

    return _apply(text, rule=rule, document=document, file=file, patch=patch)


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
    version = report.kubernetes_version
    if finding.rule != HPA_RESOURCE:
        return fix(
            text,
            rule=finding.rule,
            document=workload.workload.document,
            container=finding.container,
            workload=workload.workload.name,
            file=file,
            kubernetes_version=version,
        )
    document = _document_at_line(text, finding.line)
    apps = [c.name for c in workload.containers if c.role == "app" and c.lifecycle != "init"]
    return fix(
        text,
        rule=finding.rule,
        document=document,
        container=apps[0] if apps else None,
        hpa=workload.hpas[0] if len(workload.hpas) == 1 else None,
        file=file,
        kubernetes_version=version,
    )


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
) -> Fix:
    """Patch document ``document`` of ``text`` with ``patch`` and build the :class:`Fix`."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text[len(bom) :]
    span = _find_span(body, document, file=file)
    chunk = body[span.start : span.end]
    newline = "\r\n" if "\r\n" in chunk else "\n"
    source = chunk.replace("\r\n", "\n")
    codec = _codec_for(source)
    data = codec.load(source, where=f"{file}: document {document}")
    before = codec.dump(data)
    outcome = patch(data, codec)
    after = codec.dump(data)
    merged = _merge(source, before, after)
    notes = outcome.notes
    if merged is None:
        merged = after
        notes += ("the YAML library also re-formatted other lines of this document: review them",)
    replacement = _restore_ends(merged, source=source, newline=newline)
    if span.start > 0 and body[span.start - 1] != "\n" and not replacement[:1].isspace():
        replacement = newline + replacement  # the document began on its '---' line
    patched = bom + body[: span.start] + replacement + body[span.end :]
    return Fix(rule, outcome.title, text, patched, unified_diff(text, patched, file=file), notes)


def _restore_ends(merged: str, *, source: str, newline: str) -> str:
    """Give the patched text the original's line ends and final-newline state."""
    if not source.endswith("\n"):
        merged = merged.removesuffix("\n")
    return merged.replace("\n", newline) if newline != "\n" else merged


def _spans(body: str) -> Iterator[_Span]:
    """Yield the documents of ``body``, numbered as the analyser numbers them."""
    starts = [0, *itertools.accumulate(len(line) for line in body.splitlines(keepends=True))]
    number, first = 0, True
    for offset, chunk, opener in split_documents(body):
        empty = not _has_content(chunk)
        if empty and (first or opener == "..."):
            first = False
            continue
        first = False
        number += 1
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
    raise FixError(f"{file} has no document {document}: it has {count} document(s)")


def _document_at_line(text: str, line: int | None) -> int:
    """Return the number of the document holding 1-based ``line`` of ``text``."""
    body = text.removeprefix("\ufeff")
    for span in _spans(body):
        last = span.first_line + body.count("\n", span.start, span.end)
        if not span.empty and line is not None and span.first_line <= line <= last:
            return span.number
    raise FixError(f"no document of the text holds line {line}")


# -- round trip: YAML with ruamel, JSON with json ----------------------------------------------


class _Codec:
    """Load and dump one document, and build nodes that dump in its style."""

    def load(self, source: str, *, where: str) -> Any:
        raise NotImplementedError

    def dump(self, data: Any) -> str:
        raise NotImplementedError

    def node(self, value: Any) -> Any:
        """Convert plain dicts and lists into this codec's nodes."""
        return value

    def comment(self, mapping: Any, key: str, text: str) -> bool:
        """Put ``text`` as a comment on ``key``'s line; False when the format has none."""
        return False


class _YamlCodec(_Codec):
    def __init__(self, source: str) -> None:
        self.yaml = YAML(typ="rt")
        self.yaml.preserve_quotes = True
        self.yaml.width = 4096  # never fold a long line the user wrote on one
        mapping, sequence, offset = infer_indentation(source)
        self.yaml.indent(mapping=mapping, sequence=sequence, offset=offset)

    def load(self, source: str, *, where: str) -> Any:
        try:
            return self.yaml.load(source)
        except Exception as exc:  # ruamel raises many types for input it cannot round-trip
            raise FixError(f"{where}: the YAML cannot be round-tripped: {_brief(exc)}") from exc

    def dump(self, data: Any) -> str:
        out = io.StringIO()
        try:
            self.yaml.dump(data, out)
        except Exception as exc:  # e.g. a tag or anchor it read but cannot write back
            raise FixError(f"the patched YAML cannot be written: {_brief(exc)}") from exc
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
    def __init__(self, source: str) -> None:
        match = re.search(r"\n( +)\S", source)
        self.indent = len(match.group(1)) if match else None

    def load(self, source: str, *, where: str) -> Any:
        try:
            return json.loads(source)
        except (ValueError, RecursionError) as exc:
            raise FixError(f"{where}: the JSON cannot be read: {exc}") from exc

    def dump(self, data: Any) -> str:
        return json.dumps(data, indent=self.indent, ensure_ascii=False) + "\n"


def _codec_for(source: str) -> _Codec:
    """Use JSON for a document that is JSON (its layout can then be kept), else YAML."""
    if source.lstrip().startswith(("{", "[")):
        try:
            json.loads(source)
        except (ValueError, RecursionError):
            return _YamlCodec(source)
        return _JsonCodec(source)
    return _YamlCodec(source)


def _brief(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return "; ".join(lines[:3]) or type(exc).__name__


_KEY_LINE = re.compile(r"^( *)((?:- +)*)[^\s#\-\"'{\[][^#]*?:[ \t]*(?:#.*)?$")
_CONTENT_LINE = re.compile(r"^( *)(- )?\S")


def infer_indentation(source: str) -> tuple[int, int, int]:
    """Guess ruamel's (mapping, sequence, offset) indents from how ``source`` nests blocks."""
    mappings: Counter[int] = Counter()
    offsets: Counter[int] = Counter()
    lines = [line for line in source.splitlines() if line.strip() and not _is_comment(line)]
    for line, nxt in itertools.pairwise(lines):
        key = _KEY_LINE.match(line)
        child = _CONTENT_LINE.match(nxt)
        if key is None or child is None:
            continue
        key_column = len(key.group(1)) + len(key.group(2))
        step = len(child.group(1)) - key_column
        if child.group(2):
            offsets[step] += 1
        elif step > 0:
            mappings[step] += 1
    mapping = mappings.most_common(1)[0][0] if mappings else 2
    offset = offsets.most_common(1)[0][0] if offsets else 0
    return mapping, offset + 2, offset


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _merge(original: str, before: str, after: str) -> str | None:
    """Apply the changes from ``before`` to ``after`` onto ``original``; None if they clash.

    ``before`` is the loader's rendering of the untouched document. Where it differs from
    ``original`` only in lines the fix does not change, those lines stay as written.
    """
    o, a, b = (s.splitlines(keepends=True) for s in (original, before, after))
    if o == a:
        return after
    a_to_o: dict[int, int] = {}
    for block in difflib.SequenceMatcher(None, o, a, autojunk=False).get_matching_blocks():
        a_to_o.update((block.b + k, block.a + k) for k in range(block.size))
    out: list[str] = []
    pos = 0
    opcodes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            continue
        where = _original_range(a_to_o, i1, i2, len(a))
        if where is None or where[0] < pos:
            return None
        out += o[pos : where[0]] + b[j1:j2]
        pos = where[1]
    return "".join(out + o[pos:])


def _original_range(a_to_o: dict[int, int], i1: int, i2: int, a_len: int) -> tuple[int, int] | None:
    """Map lines ``i1:i2`` of the rendering onto the original's lines, if unambiguous."""
    if i1 < i2:
        if not all(i in a_to_o for i in range(i1, i2)):
            return None
        start, end = a_to_o[i1], a_to_o[i2 - 1] + 1
        return (start, end) if end - start == i2 - i1 else None
    left = a_to_o[i1 - 1] + 1 if i1 - 1 in a_to_o else None
    right = a_to_o.get(i1)
    if i1 == 0 or i1 == a_len:  # at the very start or end the outer edge decides
        left, right = (right, right) if i1 == 0 else (left, left)
    elif left is None or right is None:
        left = right = left if right is None else right
    if left is None or left != right:
        return None
    return left, left


def unified_diff(original: str, patched: str, *, file: str) -> str:
    """Return a unified diff (3 lines of context) from ``a/<file>`` to ``b/<file>``."""
    lines = difflib.unified_diff(
        original.splitlines(keepends=True),
        patched.splitlines(keepends=True),
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


def _names(containers: Any) -> list[str]:
    if not isinstance(containers, list):
        return []
    return [str(c.get("name")) for c in containers if isinstance(c, dict) and "name" in c]


# -- sidecar fixes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Place:
    """Where a container is declared: its object, pod spec, list and index."""

    obj: dict
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
            for index, name in enumerate(_names(spec.get(list_name))):
                if name == container:
                    places.append(_Place(obj, spec, list_name, index))
    if len(places) == 1:
        return places[0]
    if not seen:
        raise FixError("the document holds no workload with a pod template")
    where = ", ".join(_label(o) for o in seen)
    if places:
        raise FixError(f"several workloads of the document declare '{container}': {where}")
    raise FixError(f"no container named '{container}' in {where}")


def _name_of(obj: dict) -> str | None:
    metadata = obj.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else None


def _fix_sidecar(
    data: Any, codec: _Codec, *, rule: str, container: str, workload: str | None
) -> _Outcome:
    """Make ``container`` a native sidecar, or give a native sidecar a startupProbe."""
    place = _find_container(data, container=container, workload=workload)
    if place.list_name == "containers":
        return _make_native(place, codec, name=container)
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
    spec, containers = place.spec, place.spec["containers"]
    if len(containers) < 2:
        raise FixError(f"'{name}' is the only regular container; a pod needs at least one")
    init = spec.get("initContainers")
    earlier = _names(init)
    if name in earlier:
        raise FixError(f"initContainers already has a container named '{name}'")
    if not isinstance(init, list) or not init:
        init = codec.node([])
        if "initContainers" in spec:
            del spec["initContainers"]
        _insert(spec, list(spec).index("containers"), "initContainers", init)
    sidecar = containers.pop(place.index)
    init.append(sidecar)
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
    return None


def _shell(container: dict) -> str | None:
    """Return the shell a container's command runs (so the image has it), if any."""
    command = container.get("command")
    if not isinstance(command, list) or not command or not isinstance(command[0], str):
        return None
    program = str(command[0])
    return program if program.rsplit("/", 1)[-1] in SHELLS else None


def _tcp_probe(port: int) -> dict:
    return {
        "tcpSocket": {"port": port},
        "periodSeconds": PROBE_PERIOD_SECONDS,
        "failureThreshold": PROBE_FAILURE_THRESHOLD,
    }


def _tcp_note(name: str, port: int) -> str:
    wait = PROBE_PERIOD_SECONDS * PROBE_FAILURE_THRESHOLD
    return (
        f"the startupProbe of '{name}' waits up to {wait} s for TCP port {port} to accept "
        "connections; point it at a health endpoint (httpGet) instead if the sidecar has one"
    )


# -- HPA fix ---------------------------------------------------------------------------------


def _app_container(text: str, *, hpa: str | None, file: str, version: tuple[int, int]) -> str:
    """Find the app container of the workload the HPA scales, when it is in ``text``."""
    report = analyze_text(text, file=file, kubernetes_version=version)
    for w in report.workloads:
        if w.hpas and (hpa is None or hpa in w.hpas):
            apps = [c.name for c in w.containers if c.role == "app" and c.lifecycle != "init"]
            if len(apps) == 1:
                return apps[0]
            raise FixError(
                f"name the container to scale on: {w.workload.name} has {len(apps)} app containers"
            )
    raise FixError("name the container to scale on: the HPA's target is not in this text")


def _fix_hpa(data: Any, codec: _Codec, *, hpa: str | None, container: str) -> _Outcome:
    """Scale the HPA on ``container``'s usage only (ContainerResource metrics)."""
    obj = _find_hpa(data, hpa)
    name = _name_of(obj) or "?"
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        raise FixError(f"HPA '{name}' has no spec")
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
