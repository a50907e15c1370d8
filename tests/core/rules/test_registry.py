"""The rule registry, and every rule against its firing and not-firing manifest fixtures."""

from __future__ import annotations

import re

import pytest

from advisor.core.rules import AREAS, REGISTRY, SEVERITIES, Rule
from tests.core.rules.fixtures_test_helpers import (
    Fixture,
    all_fixtures,
    dont_fire_fixtures,
    findings,
    firing_fixtures,
    suppressed,
)

KEBAB = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
AREA_NAMES = {a.__name__.rsplit(".", 1)[-1] for a in AREAS}
RULES = sorted(REGISTRY.values(), key=lambda r: r.id)


def _rule_id(rule: Rule) -> str:
    return rule.id


def _fixture_id(fixture: Fixture) -> str:
    return fixture.id


@pytest.mark.parametrize("rule", RULES, ids=_rule_id)
def test_it_has_a_firing_fixture_for_every_rule(rule: Rule) -> None:
    named = [f.path.name for f in firing_fixtures() if f.rule == rule.id]
    assert named, (
        f"rule {rule.id!r} has no firing fixture: add "
        f"tests/fixtures/manifests/{rule.area}-<scenario>.yaml with '# rule: {rule.id}'"
    )


@pytest.mark.parametrize("rule", RULES, ids=_rule_id)
def test_it_has_a_dont_fire_fixture_for_every_rule(rule: Rule) -> None:
    named = [f.path.name for f in dont_fire_fixtures() if f.rule == rule.id]
    assert named, (
        f"rule {rule.id!r} has no dont-fire fixture: add "
        f"tests/fixtures/manifests/dont-fire-{rule.area}-<scenario>.yaml with '# rule: {rule.id}'"
    )


def test_it_keeps_rule_ids_unique_and_kebab_case() -> None:
    ids = [r.id for area in AREAS for r in area.RULES]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"duplicate rule ids: {duplicates}"
    assert [i for i in ids if not KEBAB.fullmatch(i)] == []
    assert sorted(ids) == sorted(REGISTRY)


@pytest.mark.parametrize("rule", RULES, ids=_rule_id)
def test_it_documents_every_rule(rule: Rule) -> None:
    assert rule.title.strip(), f"{rule.id} has no title"
    assert rule.rationale.strip(), f"{rule.id} has no rationale"
    assert rule.fix.strip(), f"{rule.id} has no fix"
    assert rule.severity in SEVERITIES
    assert set(SEVERITIES) == {"error", "warning", "info"}
    assert rule.area in AREA_NAMES
    assert rule.scope in ("pod", "hpa")


@pytest.mark.parametrize("fixture", all_fixtures(), ids=_fixture_id)
def test_it_reads_a_well_formed_header_in_every_fixture(fixture: Fixture) -> None:
    assert fixture.rule in REGISTRY, f"{fixture.path.name} names unknown rule {fixture.rule!r}"
    assert fixture.area == REGISTRY[fixture.rule].area, (
        f"{fixture.path.name}: rule {fixture.rule} belongs to area {REGISTRY[fixture.rule].area}"
    )
    assert fixture.why, f"{fixture.path.name} has no '# why:' line"
    if fixture.fires:
        assert fixture.line is not None, f"{fixture.path.name} has no '# line:' header"
    else:
        assert fixture.line is None, f"{fixture.path.name}: dont-fire fixtures name no line"


@pytest.mark.parametrize("fixture", firing_fixtures(), ids=_fixture_id)
def test_it_fires_the_named_rule_on_the_named_line(fixture: Fixture) -> None:
    report = fixture.analyze()
    assert report.errors == ()
    fired = findings(report, fixture.rule)
    assert fired, (
        f"{fixture.rule} did not fire on {fixture.path.name}; found "
        f"{[(f.rule, f.line) for f in findings(report)]}"
    )
    assert fired[0].line == fixture.line, [(f.line, f.message) for f in fired]
    assert fired[0].message and fired[0].fix


@pytest.mark.parametrize("fixture", dont_fire_fixtures(), ids=_fixture_id)
def test_it_stays_quiet_on_the_dont_fire_fixture(fixture: Fixture) -> None:
    report = fixture.analyze()
    assert report.errors == ()
    assert report.workloads, f"{fixture.path.name} holds no workload: the test would prove nothing"
    assert [f.message for f in findings(report, fixture.rule)] == []
    assert suppressed(report, fixture.rule) == []
