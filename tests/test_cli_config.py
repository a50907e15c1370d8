"""``.pod-advisor.yaml``: found upward, merged under flags, printed by ``pod-advisor config``."""

from __future__ import annotations

import io
import json

import pytest

from advisor import cli
from tests.conftest import CORPUS

LEGACY_JOB = (
    CORPUS / "kubernetes__website__content__en__examples__application__job__job-sidecar-legacy.yaml"
)
RULE = "classic-sidecar-blocks-job"  # an error on LEGACY_JOB


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdin=io.StringIO(""), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def effective(*argv: str) -> dict:
    code, out, err = run("config", "--format", "json", *argv)
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A repository with a config file at its top and the job two folders down."""
    (tmp_path / "deploy" / "jobs").mkdir(parents=True)
    (tmp_path / "deploy" / "jobs" / "job.yaml").write_text(LEGACY_JOB.read_text())
    monkeypatch.chdir(tmp_path / "deploy" / "jobs")
    return tmp_path


def write_config(project, text: str) -> None:
    (project / ".pod-advisor.yaml").write_text(text)


def test_without_a_file_the_defaults_apply(project) -> None:
    document = effective()
    assert document["config_file"] is None
    assert document["settings"]["fail-on"] == "error"
    assert set(document["sources"].values()) == {"default"}


def test_the_file_is_found_upward_and_its_values_are_used(project) -> None:
    write_config(project, f"kubernetes-version: '1.29'\ndisable: [{RULE}]\nfail-on: never\n")
    code, out, _ = run("analyze", "--format", "json", "job.yaml")
    document = json.loads(out)
    assert code == 0
    assert document["kubernetes_version"] == "1.29"
    rules = {f["rule"] for w in document["workloads"] for f in w["findings"]}
    assert RULE not in rules


def test_flags_win_over_the_file_and_config_says_where_values_came_from(project) -> None:
    write_config(project, "kubernetes-version: '1.29'\nfail-on: never\nexclude: [vendor]\n")
    document = effective("--fail-on", "warning", "--exclude", "*.json")
    assert document["settings"]["fail-on"] == "warning"
    assert document["sources"]["fail-on"] == "command line"
    assert document["settings"]["kubernetes-version"] == "1.29"
    assert document["sources"]["kubernetes-version"].endswith(".pod-advisor.yaml:1")
    assert document["settings"]["exclude"] == ["vendor", "*.json"]
    assert document["sources"]["exclude"].endswith("+ command line")
    code, _, _ = run("analyze", "job.yaml", "--fail-on", "error")
    assert code == 1  # the file says never; the flag wins


def test_severity_overrides_change_the_exit_code(project) -> None:
    write_config(project, f"severity:\n  {RULE}: info\n")
    code, out, _ = run("analyze", "--format", "json", "job.yaml")
    findings = json.loads(out)["workloads"][0]["findings"]
    assert next(f for f in findings if f["rule"] == RULE)["severity"] == "info"
    assert code == 0
    assert run("analyze", "job.yaml", "--severity", f"{RULE}=error")[0] == 1


def test_assumptions_and_catalogue_paths_come_from_the_file(project) -> None:
    (project / "catalogue.yaml").write_text(
        "- id: team-shipper\n  title: team shipper\n  role: adapter\n  match: [alpine]\n"
        "  long_running: true\n  description: the team's log adapter\n"
    )
    write_config(project, "assume:\n  myjob.image_start_seconds: 4\ncatalogue: [catalogue.yaml]\n")
    document = effective()
    assert document["settings"]["catalogue"] == [str(project / "catalogue.yaml")]
    _, out, _ = run("analyze", "--format", "json", "job.yaml")
    workload = json.loads(out)["workloads"][0]
    assert "4s" in " ".join(workload["startup_details"]["assumptions"])
    assert "adapter" in {c["role"] for c in workload["containers"]}


def test_an_explicit_config_file_is_used(project, tmp_path) -> None:
    other = tmp_path / "ci.yaml"
    other.write_text("fail-on: never\n")
    write_config(project, "fail-on: warning\n")
    assert effective("--config", str(other))["settings"]["fail-on"] == "never"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fail_on: never\n", "line 1: unknown setting 'fail_on'"),
        ("fail-on: sometimes\n", "fail-on: expected one of"),
        ("kubernetes-version: 1.30\n", "quote the version"),
        ("kubernetes-version: '1.12'\n", "kubernetes-version"),
        ("disable: [no-such-rule]\n", "unknown rule id(s) no-such-rule"),
        (f"severity: {{{RULE}: fatal}}\n", "expected error, warning or info"),
        ("assume: {warp_speed: 3}\n", "unknown assumption 'warp_speed'"),
        ("assume: {init_run_seconds: -4}\n", "assume"),
        ("catalogue: [nowhere.yaml]\n", "no such file"),
        ("api-defaults: maybe\n", "expected true or false"),
        ("- a list\n", "expected a mapping"),
        ("fail-on: [never\n", "line"),
    ],
)
def test_bad_config_is_a_clear_error_with_exit_2(project, text: str, expected: str) -> None:
    write_config(project, text)
    for argv in (("config",), ("analyze", "job.yaml")):
        code, out, err = run(*argv)
        assert code == 2
        assert ".pod-advisor.yaml" in err and expected in err, err
        assert "Traceback" not in err and out == ""


def test_bad_flags_are_clear_errors(project) -> None:
    code, _, err = run("analyze", "job.yaml", "--disable", "no-such-rule")
    assert code == 2 and "no-such-rule" in err
    code, _, err = run("analyze", "job.yaml", "--severity", "nonsense")
    assert code == 2 and "NAME=VALUE" in err
    code, _, err = run("config", "--config", "missing.yaml")
    assert code == 2 and "missing.yaml" in err


def test_config_text_names_the_file_and_every_setting(project) -> None:
    write_config(project, "fail-on: warning\n")
    code, out, _ = run("config")
    assert code == 0
    assert ".pod-advisor.yaml" in out.splitlines()[0]
    assert 'fail-on: "warning"  # ' in out
    for key in ("kubernetes-version", "disable", "severity", "assume", "exclude", "catalogue"):
        assert f"{key}:" in out


def test_every_budget_limit_is_a_flag_of_the_command_line() -> None:
    from advisor.cli import BUDGET_FLAGS
    from advisor.core.budget import DESCRIPTIONS

    assert set(BUDGET_FLAGS) == set(DESCRIPTIONS) - {"max_bytes"}
