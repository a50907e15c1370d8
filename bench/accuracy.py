"""Measure how often the analyser gives a container the role a careful reviewer would give it.

    .venv/bin/python bench/accuracy.py [--out bench/results/accuracy-latest.md]

The labels are written by hand in ``tests/fixtures/wild/labels.yaml`` (and, when someone writes
one, ``tests/fixtures/corpus/labels.yaml`` in the same shape) from each manifest and its project's
documentation, not from the analyser's output. For every labelled file this analyses the file
once and compares, container by container:

* role accuracy over the containers whose role is a judgement (regular containers and native
  sidecars; a plain init container is ``init`` by definition and is reported apart so that it
  cannot inflate the figure), overall and per expected role (recall) and per given role
  (precision);
* the confusion pairs (expected -> given) and every mismatch with the reviewer's ``why:``;
* lifecycles, which are mechanical and must all match;
* the warnings and errors raised on ``clean: true`` controls (plain workloads on served APIs).

The report goes to stdout and to ``bench/results/accuracy-latest.md`` with date and commit.
``tests/core/test_wild_corpus.py`` imports :func:`evaluate` to hold the analyser to a floor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advisor.core.analyze import Report, analyze  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
LABEL_FILES = (FIXTURES / "wild" / "labels.yaml", FIXTURES / "corpus" / "labels.yaml")
# Labelled before the roles were changed against it and never used to tune them: the honest
# figure on manifests nobody has seen. Reported apart, never pooled with the files above.
HELDOUT_LABEL_FILES = (FIXTURES / "heldout" / "labels.yaml",)
RESULTS = ROOT / "bench" / "results"
ROLE_ORDER = ("app", "sidecar", "ambassador", "adapter", "config-helper", "init")


@dataclass(frozen=True)
class Mismatch:
    """One container whose role (or lifecycle) differs from the reviewer's label."""

    file: str
    workload: str
    container: str
    expected: str
    given: str
    why: str = ""


@dataclass
class Evaluation:
    """Everything measured over the labelled files."""

    files: int = 0
    workloads: int = 0
    judged: int = 0  # regular containers and native sidecars
    judged_right: int = 0
    multi_judged: int = 0  # judged containers of pods with two or more of them
    multi_right: int = 0
    init_total: int = 0
    init_right: int = 0
    expected: Counter[str] = field(default_factory=Counter)
    expected_right: Counter[str] = field(default_factory=Counter)
    given: Counter[str] = field(default_factory=Counter)
    given_right: Counter[str] = field(default_factory=Counter)
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    mismatches: list[Mismatch] = field(default_factory=list)
    lifecycle_mismatches: list[Mismatch] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # labelled workloads or containers not found
    clean_findings: list[str] = field(default_factory=list)  # warning/error on a clean control
    clean_workloads: int = 0
    crashes: list[str] = field(default_factory=list)

    @property
    def role_accuracy(self) -> float:
        """Share of judged containers (not plain init) given the reviewer's role."""
        return self.judged_right / self.judged if self.judged else 0.0

    @property
    def overall_accuracy(self) -> float:
        """Share of all labelled containers, plain init containers included."""
        total = self.judged + self.init_total
        return (self.judged_right + self.init_right) / total if total else 0.0


def load_labels(paths: tuple[Path, ...] = LABEL_FILES) -> dict[Path, dict[str, list[dict]]]:
    """Return {folder: {file name: [workload label, ...]}} for every label file that exists."""
    out: dict[Path, dict[str, list[dict]]] = {}
    for path in paths:
        if path.is_file():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            out[path.parent] = data.get("files") or {}
    return out


def _key(kind: str, name: str) -> str:
    return f"{kind}/{name}"


def evaluate(labels: dict[Path, dict[str, list[dict]]] | None = None) -> Evaluation:
    """Analyse every labelled file once and compare the result with its labels."""
    labels = load_labels() if labels is None else labels
    ev = Evaluation()
    for folder, files in labels.items():
        for name, workloads in sorted(files.items()):
            path = folder / name
            ev.files += 1
            try:
                report = analyze([(name, path.read_bytes())])
            except Exception as exc:  # the test asserts there are none; the report says which
                ev.crashes.append(f"{name}: {type(exc).__name__}: {exc}")
                continue
            _compare(ev, name, report, workloads)
    return ev


def _compare(ev: Evaluation, name: str, report: Report, workloads: list[dict]) -> None:
    found = {_key(w.workload.kind, w.workload.name): w for w in report.workloads}
    for label in workloads:
        key = _key(label["kind"], label.get("name") or "")
        ev.workloads += 1
        got = found.get(key)
        if got is None:
            ev.missing.append(f"{name}: workload {key}")
            continue
        containers = {c.name: c for c in got.containers}
        wanted = label.get("containers") or {}
        multi = sum(1 for w in wanted.values() if w["lifecycle"] != "init") >= 2
        for cname, want in wanted.items():
            have = containers.get(cname)
            if have is None:
                ev.missing.append(f"{name}: {key} container {cname}")
                continue
            role, lifecycle, why = want["role"], want["lifecycle"], want.get("why", "")
            if have.lifecycle != lifecycle:
                ev.lifecycle_mismatches.append(
                    Mismatch(name, key, cname, lifecycle, have.lifecycle, why)
                )
            right = have.role == role
            if lifecycle == "init":
                ev.init_total += 1
                ev.init_right += right
            else:
                ev.judged += 1
                ev.judged_right += right
                ev.multi_judged += multi
                ev.multi_right += right and multi
                ev.expected[role] += 1
                ev.expected_right[role] += right
                ev.given[have.role] += 1
                ev.given_right[have.role] += right
            if not right:
                ev.confusion[(role, have.role)] += 1
                ev.mismatches.append(Mismatch(name, key, cname, role, have.role, why))
        if label.get("clean"):
            ev.clean_workloads += 1
            for f in got.findings:
                if f.severity in ("warning", "error"):
                    ev.clean_findings.append(f"{name}: {key}: {f.severity} {f.rule}: {f.message}")


def _pct(num: int, den: int) -> str:
    return f"{100 * num / den:.1f}% ({num}/{den})" if den else "n/a"


def _commit() -> str:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{sha}+dirty" if dirty else sha or "unknown"


def render(ev: Evaluation) -> str:
    """The Markdown report."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    sources = ", ".join(f"`{p.relative_to(ROOT)}`" for p in LABEL_FILES if p.is_file())
    lines = [
        "# Role accuracy on hand-labelled real manifests",
        "",
        f"{now}, commit {_commit()}. Labels: {sources} (written from the manifests and their",
        "projects' documentation, not from the analyser; the corpus is included once it has a",
        "`labels.yaml` of its own).",
        "",
    ]
    return "\n".join(lines + _body(ev, "##")) + "\n"


def render_heldout(ev: Evaluation) -> str:
    """The held-out set's section, appended after the main report."""
    sources = ", ".join(f"`{p.relative_to(ROOT)}`" for p in HELDOUT_LABEL_FILES if p.is_file())
    lines = [
        "",
        "## Held-out set",
        "",
        f"Labels: {sources}, written before any change was made against these files; they are",
        "never used to tune the roles, so this is the figure to trust on unseen manifests.",
        "",
    ]
    return "\n".join(lines + _body(ev, "###")) + "\n"


def _body(ev: Evaluation, h: str) -> list[str]:
    lines = [
        f"* files: {ev.files}, labelled workloads: {ev.workloads}",
        f"* **role accuracy** (regular containers and native sidecars): "
        f"**{_pct(ev.judged_right, ev.judged)}**",
        "* of which in pods with two or more such containers (the helpers' neighbours): "
        f"{_pct(ev.multi_right, ev.multi_judged)}",
        f"* plain init containers called `init`: {_pct(ev.init_right, ev.init_total)}",
        "* all labelled containers: "
        f"{_pct(ev.judged_right + ev.init_right, ev.judged + ev.init_total)}",
        f"* lifecycle mismatches: {len(ev.lifecycle_mismatches)}",
        f"* labelled workloads or containers not found: {len(ev.missing)}",
        f"* clean controls: {ev.clean_workloads}, warnings or errors raised on them: "
        f"{len(ev.clean_findings)}",
        f"* files that crashed the analyser: {len(ev.crashes)}",
        "",
        f"{h} Per role",
        "",
        "| role | expected | recall | given | precision |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    roles = [r for r in ROLE_ORDER if r in ev.expected or r in ev.given]
    roles += sorted((set(ev.expected) | set(ev.given)) - set(roles))
    for role in roles:
        lines.append(
            f"| {role} | {ev.expected[role]} | {_pct(ev.expected_right[role], ev.expected[role])}"
            f" | {ev.given[role]} | {_pct(ev.given_right[role], ev.given[role])} |"
        )
    lines += ["", f"{h} Confusion pairs (expected -> given)", ""]
    if ev.confusion:
        lines += ["| expected | given | count |", "| --- | --- | ---: |"]
        for (want, got), n in ev.confusion.most_common():
            lines.append(f"| {want} | {got} | {n} |")
    else:
        lines.append("none")
    lines += ["", f"{h} Mismatches", ""]
    if ev.mismatches:
        lines += ["| file | workload | container | expected | given | reviewer's note |"]
        lines += ["| --- | --- | --- | --- | --- | --- |"]
        for m in ev.mismatches:
            lines.append(
                f"| {m.file} | {m.workload} | {m.container} | {m.expected} | {m.given} | {m.why} |"
            )
    else:
        lines.append("none")
    for title, items in (
        (
            "Lifecycle mismatches",
            [
                f"{m.file}: {m.workload} {m.container}: expected {m.expected}, given {m.given}"
                for m in ev.lifecycle_mismatches
            ],
        ),
        ("Labelled but not found", ev.missing),
        ("Warnings and errors on clean controls", ev.clean_findings),
        ("Crashes", ev.crashes),
    ):
        lines += ["", f"{h} {title}", ""]
        lines += [f"* {item}" for item in items] or ["none"]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS / "accuracy-latest.md")
    args = parser.parse_args(argv)
    text = render(evaluate())
    heldout = load_labels(HELDOUT_LABEL_FILES)
    if heldout:
        text += render_heldout(evaluate(heldout))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
