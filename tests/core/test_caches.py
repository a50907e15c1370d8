"""Answers kept for reuse are the answers worked out afresh."""

from __future__ import annotations

from advisor.core import versions


def test_feature_states_are_remembered_per_feature_and_version() -> None:
    for _ in range(2):  # the second round is answered from the memo
        for name in versions.FEATURES:
            for version in versions.SUPPORTED:
                state = versions.feature_state(name, version)
                fresh = versions._feature_state(name, version)
                assert state == fresh and state.version == version and state.feature.name == name
    assert versions.feature_state("SidecarContainers", (1, 28)).stage == "alpha"
    assert versions.feature_state("SidecarContainers", (1, 29)).stage == "beta"
    # a version given as a list is answered (not remembered: it cannot be a key)
    assert versions.feature_state("SidecarContainers", [1, 33]).stage == "ga"  # type: ignore[arg-type]
