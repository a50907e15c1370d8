"""Answers kept for reuse are the answers worked out afresh."""

from __future__ import annotations

from pathlib import Path

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


def test_a_container_without_command_reads_as_an_empty_one() -> None:
    from advisor.core.model import Container
    from advisor.core.roles import _read_command

    bare = Container.from_raw({"name": "a"}, index=0, in_init_list=False)
    empty = Container.from_raw(
        {"name": "a", "command": [], "args": []}, index=0, in_init_list=False
    )
    assert _read_command(bare) == _read_command(empty)
    assert _read_command(bare).tokens == _read_command(empty).tokens == ()
    assert _read_command(bare).programs == ()


def test_schema_files_read_as_json_reads_them() -> None:
    import json

    from advisor.core import schema

    for version in (schema.SUPPORTED_VERSIONS[0], schema.SUPPORTED_VERSIONS[-1]):
        folder = schema._SCHEMA_DIRS[version]
        for name in ("_definitions.json", "pod-v1.json", "deployment-apps-v1.json"):
            path = folder / name
            assert schema._load_json(path) == json.loads(path.read_bytes())
    assert schema._load_json(folder / "no-such-file.json") is None


def test_a_schema_file_json_reads_but_orjson_refuses_is_still_read(tmp_path: Path) -> None:
    from advisor.core import schema

    odd = tmp_path / "odd.json"
    odd.write_text('{"a": NaN, "b": 123456789012345678901234567890}', encoding="utf-8")
    data = schema._load_json(odd)
    assert data["b"] == 123456789012345678901234567890 and data["a"] != data["a"]
    broken = tmp_path / "broken.json"
    broken.write_text('{"a": ', encoding="utf-8")
    assert schema._load_json(broken) is None


def test_chart_times_round_as_before() -> None:
    import math

    from advisor.core.lifecycle import _t

    values = [
        0,
        3,
        30,
        0.0,
        -0.0,
        1.0,
        2.5,
        1e-7,
        0.1 + 0.2,
        123456.0000004,
        2.0**60,
        -4.0,
        7.9999999,
    ]
    for v in [*values, math.inf]:
        expected = round(v, 6) + 0.0
        got = _t(v)
        assert (
            got == expected
            and type(got) is float
            and math.copysign(1, got) == math.copysign(1, expected)
        )
    assert math.isnan(_t(math.nan))
