"""Turn the command line's PATH arguments into analyser inputs.

A PATH is a file, ``-`` (standard input) or a directory. Directories are walked for ``.yaml``,
``.yml`` and ``.json`` files in a stable order, skipping hidden folders and anything matching an
``--exclude`` glob. A directory holding a Kustomization is rendered with ``kubectl kustomize``
instead of being walked; every rendered object is traced back to the file Kustomize says it came
from (its ``config.kubernetes.io/origin`` annotation, switched on in a temporary wrapper
kustomization so the user's files are never edited), and to the patch that added a field when
the field is not in that file. Without kubectl the directory is walked as plain files, with a
note on stderr.

This module runs programs and reads the file system, so it lives outside ``advisor.core``.
"""

from __future__ import annotations

import bisect
import fnmatch
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from advisor.core.analyze import Report, WorkloadReport
from advisor.core.errors import InputError
from advisor.core.model import Problem, Skipped
from advisor.core.source import LDict, get_list, get_map, get_str
from advisor.core.yamlload import Document, decode, load_documents

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
ORIGIN_ANNOTATION = "config.kubernetes.io/origin"
TRANSFORMATIONS_ANNOTATION = "alpha.config.kubernetes.io/transformations"
KUSTOMIZE_TIMEOUT_SECONDS = 120

# (file, line) in the user's files for a line of rendered output.
Location = tuple[str, int | None]


@dataclass
class Inputs:
    """What to analyse, how to name rendered lines back, and what the user should be told."""

    texts: list[tuple[str, str | bytes]] = field(default_factory=list)
    # input name -> maps a line of that input to the user's file and line
    remaps: dict[str, Callable[[int | None], Location]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def display(path: Path) -> str:
    """Name ``path`` relative to the working directory when it is below it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def excluded(path: str, patterns: Sequence[str]) -> bool:
    """True when ``path`` (as displayed) or its last part matches one of ``patterns``."""
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(name, p) for p in patterns)


def kustomization_of(directory: Path) -> Path | None:
    for name in KUSTOMIZATION_NAMES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def collect(
    paths: Sequence[str],
    *,
    stdin: TextIO,
    exclude: Sequence[str] = (),
    kustomize: bool = True,
) -> Inputs:
    """Read every PATH into :class:`Inputs`; raise ``OSError`` for a path that does not exist."""
    out = Inputs()
    kubectl = shutil.which("kubectl") if kustomize else None
    warned = False
    for arg in paths:
        if arg == "-":
            buffer = getattr(stdin, "buffer", None)
            out.texts.append(("stdin", buffer.read() if buffer is not None else stdin.read()))
            continue
        path = Path(arg)
        if not path.is_dir():
            out.texts.append((arg, path.read_bytes()))  # a missing file raises with its name
            continue
        before = (len(out.texts), len(out.problems))
        for kind, item in _walk(path, exclude):
            if kind == "file":
                out.texts.append((display(item), item.read_bytes()))
            elif kubectl:
                _render(item, kubectl, out)
            else:
                if kustomize and not warned:
                    out.notes.append(
                        "note: kubectl is not on PATH, so Kustomize directories are read as plain "
                        "files (patches are not applied); install kubectl to render them"
                    )
                    warned = True
                for sub_kind, sub in _walk(item, exclude, render=False):
                    if sub_kind == "file" and sub.name not in KUSTOMIZATION_NAMES:
                        out.texts.append((display(sub), sub.read_bytes()))
        if (len(out.texts), len(out.problems)) == before:
            out.notes.append(f"note: {arg}: no .yaml, .yml or .json file found")
    return out


def _walk(root: Path, exclude: Sequence[str], *, render: bool = True) -> Iterator[tuple[str, Path]]:
    """Yield ("file", path) and ("kustomize", directory) in sorted order."""
    if render and kustomization_of(root):
        yield "kustomize", root
        return
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        keep = []
        for d in sorted(dirnames):
            sub = here / d
            if d.startswith(".") or excluded(display(sub), exclude):
                continue
            if render and kustomization_of(sub):
                yield "kustomize", sub
                continue
            keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            file = here / name
            if name.startswith(".") or not name.endswith(MANIFEST_SUFFIXES):
                continue
            if excluded(display(file), exclude):
                continue
            yield "file", file


def _render(directory: Path, kubectl: str, out: Inputs) -> None:
    """Render one Kustomization with origin annotations and record how to map lines back."""
    label = f"{display(directory)} (kustomize)"
    kustomization = display(kustomization_of(directory) or directory)
    with tempfile.TemporaryDirectory(prefix="pod-advisor-kustomize-") as tmp:
        wrapper = Path(tmp)
        target = os.path.relpath(directory.resolve(), wrapper.resolve())
        (wrapper / "kustomization.yaml").write_text(
            "# Written by pod-advisor: renders the user's kustomization with origin annotations.\n"
            f"resources:\n  - {_yaml_string(target)}\n"
            "buildMetadata: [originAnnotations, transformerAnnotations]\n",
            encoding="utf-8",
        )
        try:
            done = subprocess.run(
                [kubectl, "kustomize", str(wrapper)],
                capture_output=True,
                text=True,
                timeout=KUSTOMIZE_TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            out.problems.append(Problem(kustomization, None, None, f"kubectl kustomize: {exc}"))
            return
        if done.returncode != 0:
            message = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
            out.problems.append(
                Problem(
                    kustomization,
                    None,
                    None,
                    f"kubectl kustomize failed (exit {done.returncode}): {message}",
                )
            )
            return
        out.texts.append((label, done.stdout))
        out.remaps[label] = _line_map(done.stdout, wrapper.resolve())


def _yaml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _line_map(rendered: str, wrapper: Path) -> Callable[[int | None], Location]:
    """Map each line of ``rendered`` to the user's file and line that produced it."""
    known: dict[int, Location] = {}
    cache: dict[Path, list[Document]] = {}
    for doc in load_documents(rendered, file="kustomize"):
        value = doc.value
        if not isinstance(value, LDict):
            continue
        annotations = get_map(get_map(value, "metadata"), "annotations")
        origin = _origin_path(annotations.get(ORIGIN_ANNOTATION), wrapper)
        if origin is None:
            continue
        kind, name = get_str(value, "kind"), get_str(get_map(value, "metadata"), "name")
        sources = [(display(origin), n) for n in _matching(origin, kind, name, cache)]
        for patch in _patches(annotations.get(TRANSFORMATIONS_ANNOTATION), wrapper):
            sources.extend((display(patch), n) for n in _matching(patch, kind, name, cache))
        if not sources:
            continue
        _pair(value, sources, known, (sources[0][0], sources[0][1].line))
    lines = sorted(known)

    def remap(line: int | None) -> Location:
        if line is None or not lines:
            return (known[lines[0]][0] if lines else "", None)
        at = bisect.bisect_right(lines, line) - 1
        return known[lines[max(at, 0)]]

    return remap


def _origin_path(raw: Any, wrapper: Path) -> Path | None:
    """The file an object came from, from Kustomize's origin annotation (a small YAML text)."""
    if not isinstance(raw, str):
        return None
    for line in raw.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "path" and value.strip():
            path = (wrapper / value.strip()).resolve()
            return path if path.is_file() else None
    return None


def _patches(raw: Any, wrapper: Path) -> list[Path]:
    """Patch files of the kustomizations that transformed an object, last applied first."""
    if not isinstance(raw, str):
        return []
    found: list[Path] = []
    for line in raw.splitlines():
        key, _, value = line.strip().lstrip("- ").partition(":")
        if key.strip() != "configuredIn" or not value.strip():
            continue
        kustomization = (wrapper / value.strip()).resolve()
        try:
            docs = load_documents(decode(kustomization.read_bytes()), file=str(kustomization))
        except (OSError, InputError):
            continue
        spec = docs[0].value if docs and isinstance(docs[0].value, dict) else {}
        entries = [*get_list(spec, "patches"), *get_list(spec, "patchesStrategicMerge")]
        for entry in entries:
            rel = entry if isinstance(entry, str) else get_str(entry, "path")
            candidate = kustomization.parent / rel if rel else None
            if candidate is not None and candidate.is_file():
                found.append(candidate.resolve())
    return list(reversed(dict.fromkeys(found)))


def _matching(path: Path, kind: str, name: str, cache: dict[Path, list[Document]]) -> list[LDict]:
    if path not in cache:
        try:
            cache[path] = load_documents(decode(path.read_bytes()), file=str(path))
        except (OSError, InputError):
            cache[path] = []
    out = []
    for doc in cache[path]:
        value = doc.value
        if (
            isinstance(value, LDict)
            and get_str(value, "kind") == kind
            and get_str(get_map(value, "metadata"), "name") == name
        ):
            out.append(value)
    return out


def _pair(
    rendered: Any, sources: list[tuple[str, Any]], known: dict[int, Location], here: Location
) -> None:
    """Walk a rendered value and the same place in its source files side by side."""
    if isinstance(rendered, list):
        for index, item in enumerate(rendered):
            subs = [(f, _same_item(n, item, index)) for f, n in sources if isinstance(n, list)]
            _pair(item, [(f, n) for f, n in subs if n is not None], known, here)
        return
    if not isinstance(rendered, LDict):
        return
    if rendered.line is not None:
        own = next(((f, n.line) for f, n in sources if isinstance(n, LDict) and n.line), here)
        known.setdefault(rendered.line, own)
        here = own
    for key, value in rendered.items():
        subs = [(f, n) for f, n in sources if isinstance(n, dict) and key in n]
        at = next(((f, n.lines.get(key)) for f, n in subs if isinstance(n, LDict)), here)
        if key in rendered.lines:
            known[rendered.lines[key]] = at
        _pair(value, [(f, n[key]) for f, n in subs], known, at)


def _same_item(items: list, item: Any, index: int) -> Any:
    """The source list's entry for a rendered entry: same ``name`` (containers, volumes...)."""
    name = item.get("name") if isinstance(item, dict) else None
    if name is not None:
        return next((i for i in items if isinstance(i, dict) and i.get("name") == name), None)
    return items[index] if index < len(items) and type(items[index]) is type(item) else None


def remap_report(report: Report, remaps: dict[str, Callable[[int | None], Location]]) -> Report:
    """Name the user's files and lines instead of lines of rendered Kustomize output."""
    if not remaps:
        return report
    workloads = tuple(_remap_workload(w, remaps) for w in report.workloads)
    skipped = tuple(remap_skipped(s, remaps) for s in report.skipped)
    return replace(report, workloads=workloads, skipped=skipped)


def remap_item(item: Any, remaps: dict[str, Callable[[int | None], Location]]) -> Any:
    """:func:`remap_report` for one item of a streamed analysis."""
    if not remaps:
        return item
    if isinstance(item, WorkloadReport):
        return _remap_workload(item, remaps)
    if isinstance(item, Skipped):
        return remap_skipped(item, remaps)
    return item


def remap_skipped(s: Skipped, remaps: dict[str, Callable[[int | None], Location]]) -> Skipped:
    if s.file in remaps:
        file, line = remaps[s.file](s.line)
        s = replace(s, file=file or s.file, line=line)
    return s


def _remap_workload(
    w: WorkloadReport, remaps: dict[str, Callable[[int | None], Location]]
) -> WorkloadReport:
    remap = remaps.get(w.workload.file)
    if remap is None:
        return w
    file, line = remap(w.workload.line)
    file = file or w.workload.file
    findings = []
    for f in w.findings:
        if f.file and f.file != w.workload.file and f.file not in remaps:
            findings.append(f)
            continue
        f_file, f_line = remap(f.line) if f.line is not None else (file, None)
        findings.append(replace(f, file=f_file if f_file and f_file != file else None, line=f_line))
    containers = tuple(replace(c, line=remap(c.line)[1]) for c in w.containers)
    return replace(
        w,
        workload=replace(w.workload, file=file, line=line),
        findings=tuple(findings),
        containers=containers,
    )
