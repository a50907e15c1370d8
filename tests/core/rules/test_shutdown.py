"""Rules about pod termination."""

from __future__ import annotations

from advisor.core.analyze import analyze_text
from advisor.core.lifecycle import Assumptions
from tests.core.rules.fixtures_test_helpers import analyze_manifest, findings, manifest

RULE = "shutdown-exceeds-grace-period"


def test_it_rejects_a_pre_stop_sleep_longer_than_the_grace_period() -> None:
    (finding,) = findings(analyze_manifest("shutdown-exceeds-grace-period.yaml"), RULE)
    assert finding.severity == "error"
    assert finding.container == "nginx"
    assert "'nginx' has a preStop sleep of 45s, more than the 30s grace period" in finding.message


def test_it_accepts_a_pre_stop_sleep_as_long_as_the_grace_period() -> None:
    text = manifest("shutdown-exceeds-grace-period.yaml").replace("seconds: 45", "seconds: 30")
    assert findings(analyze_text(text), RULE) == []


def test_it_measures_the_sleep_against_the_default_grace_of_30_seconds() -> None:
    text = manifest("shutdown-exceeds-grace-period.yaml").replace(
        "      terminationGracePeriodSeconds: 30\n", ""
    )
    (finding,) = findings(analyze_text(text), RULE)
    assert "more than the 30s grace period" in finding.message


def test_it_warns_when_the_assumed_exit_time_gets_a_container_sigkilled() -> None:
    text = manifest("dont-fire-shutdown-exceeds-grace-period.yaml")
    slow = Assumptions(per_container={"nginx": {"exit_after_sigterm_seconds": 55}})
    (finding,) = findings(analyze_text(text, assumptions=slow), RULE)
    assert finding.severity == "warning"
    assert finding.line == 17  # terminationGracePeriodSeconds
    assert "'nginx' is still running when the 60s grace period runs out" in finding.message
    assert "SIGKILL" in finding.message
    assert findings(analyze_text(text), RULE) == []
