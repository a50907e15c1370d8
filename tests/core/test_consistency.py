"""The tool agrees with itself: starters, fixes, fix texts and severities, checked exhaustively.

* every starter manifest the questionnaire can produce (all answer combinations, every supported
  version) analyses without errors or warnings, and the analyser names the recommended pattern;
* "Show the fix" is offered only where the patched manifest analyses without that finding at
  the same version, over the corpus and the fixtures;
* no fix text or container advice suggests native sidecars where the version cannot run them;
* every finding's severity is one its rule declares (so /rules/ shows the real range).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from advisor.core.analyze import Report, analyze_text
from advisor.core.fixes import FixError, fix_finding, offers_fix
from advisor.core.matrix import recommend
from advisor.core.patterns import starter_manifest
from advisor.core.rules import REGISTRY
from advisor.core.versions import SUPPORTED
from tests.conftest import FIXTURES, corpus_files
from tests.core.test_matrix import ALL_ANSWERS

IN_POD_PATTERNS = ("init-container", "native-sidecar", "ambassador", "adapter", "classic-sidecar")
VERSIONS = ((1, 27), (1, 28), (1, 29), (1, 33), SUPPORTED[-1])


def _inputs() -> list[Path]:
    return sorted(corpus_files()) + sorted((FIXTURES / "manifests").glob("*.yaml"))


@cache
def _report(path: Path, version: tuple[int, int]) -> Report:
    return analyze_text(
        path.read_text(encoding="utf-8"), file=path.name, kubernetes_version=version
    )


def _starters() -> dict[tuple[str, str, tuple[int, int]], str]:
    """One starter per distinct (pattern, workload kind, version) the questionnaire reaches."""
    out: dict[tuple[str, str, tuple[int, int]], str] = {}
    for answers in ALL_ANSWERS:
        pattern = recommend(answers).pattern
        out.setdefault((pattern, answers.manifest_kind, answers.kubernetes_version), "")
    return out


def test_every_questionnaire_starter_analyses_cleanly_and_shows_its_pattern() -> None:
    starters = _starters()
    assert len(starters) > 100  # every pattern, both workload kinds, every version
    problems = []
    for pattern, kind, version in starters:
        text = starter_manifest(pattern, workload=kind, kubernetes_version=version)
        report = analyze_text(text, kubernetes_version=version)
        where = f"{pattern} / {kind} / 1.{version[1]}"
        if report.errors:
            problems.append(f"{where}: unreadable {report.errors}")
        loud = [f.rule for w in report.workloads for f in w.findings if f.severity != "info"]
        if loud:
            problems.append(f"{where}: {loud}")
        found = {p for w in report.workloads for p in w.advice.patterns}
        if pattern in IN_POD_PATTERNS and pattern not in found:
            problems.append(f"{where}: the analyser sees {sorted(found)}")
        if pattern not in IN_POD_PATTERNS and found:
            problems.append(f"{where}: separate workloads, yet the analyser sees {sorted(found)}")
    assert problems == []


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"1.{v[1]}")
def test_show_the_fix_only_where_the_patched_manifest_loses_the_finding(
    version: tuple[int, int],
) -> None:
    checked, problems = 0, []
    for path in _inputs():
        text = path.read_text(encoding="utf-8")
        report = _report(path, version)
        for w, f in report.findings():
            if not offers_fix(f.rule, version) or (f.file or w.workload.file) != path.name:
                continue
            try:
                patched = fix_finding(text, finding=f, workload=w, report=report, file=path.name)
            except FixError:
                continue  # refused with a message: the page says why instead of a patch
            checked += 1
            after = analyze_text(patched.patched, file=path.name, kubernetes_version=version)
            same = [
                g
                for v in after.workloads
                for g in v.findings
                if v.workload.name == w.workload.name
                and g.rule == f.rule
                and g.container == f.container
            ]
            if same or after.errors:
                problems.append(f"{path.name} {f.rule} {f.container}: {same or after.errors}")
    assert problems == []
    if version >= (1, 29):
        assert checked > 5


def test_no_fix_is_offered_where_the_version_cannot_run_it() -> None:
    for rule in ("classic-sidecar-blocks-job", "sidecar-without-startup-probe"):
        assert not offers_fix(rule, (1, 28)) and offers_fix(rule, (1, 29))
    assert not offers_fix("hpa-resource-metric-on-multi-container-pod", (1, 26))


@pytest.mark.parametrize("version", [v for v in SUPPORTED if v < (1, 29)], ids=str)
def test_no_text_recommends_native_sidecars_before_they_exist(version: tuple[int, int]) -> None:
    for path in _inputs():
        report = _report(path, version)
        for w in report.workloads:
            texts = [f.fix for f in w.findings] + [a for _, a in w.advice.per_container]
            for text in texts:
                assert "restartPolicy: Always" not in text or "1.29" in text, (path.name, text)


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"1.{v[1]}")
def test_every_finding_has_a_severity_its_rule_declares(version: tuple[int, int]) -> None:
    for path in _inputs():
        for _, f in _report(path, version).findings():
            assert f.severity in REGISTRY[f.rule].severities, (path.name, f.rule, f.severity)
