"""The ``analyze`` command: formats, exit codes, stdin, errors on stderr."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from advisor import cli
from advisor.core.rules import REGISTRY
from tests.conftest import CORPUS, ROOT

LEGACY_JOB = (
    CORPUS / "kubernetes__website__content__en__examples__application__job__job-sidecar-legacy.yaml"
)
NATIVE_JOB = (
    CORPUS / "kubernetes__website__content__en__examples__application__job__job-sidecar.yaml"
)


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_it_exits_1_when_a_finding_reaches_fail_on() -> None:
    code, out, _ = run(str(LEGACY_JOB))
    assert code == 1
    assert "classic-sidecar-blocks-job" in out


def test_it_exits_0_when_findings_are_below_fail_on() -> None:
    code, out, _ = run(str(NATIVE_JOB))
    assert code == 0, out
    assert run(str(LEGACY_JOB), "--fail-on", "never")[0] == 0


def test_it_fails_on_warnings_when_asked() -> None:
    code, _, _ = run(str(NATIVE_JOB), "--fail-on", "warning")
    assert code == 1


def test_it_reads_standard_input() -> None:
    code, out, _ = run("-", "--format", "json", stdin=LEGACY_JOB.read_text())
    document = json.loads(out)
    assert code == 1
    assert document["workloads"][0]["file"] == "stdin"


def test_it_prints_the_documented_json_shape() -> None:
    _, out, _ = run(str(LEGACY_JOB), "--format", "json", "--kubernetes-version", "1.30")
    document = json.loads(out)
    assert set(document) >= {
        "analyzer_version",
        "kubernetes_version",
        "api_defaults",
        "workloads",
        "skipped",
        "errors",
    }
    assert document["kubernetes_version"] == "1.30"
    workload = document["workloads"][0]
    assert set(workload) >= {
        "file",
        "document",
        "line",
        "kind",
        "name",
        "namespace",
        "containers",
        "effective",
        "qos_class",
        "startup",
        "shutdown",
        "recommendation",
        "findings",
    }
    assert set(workload["containers"][0]) >= {"name", "lifecycle", "role", "reason", "line"}
    assert set(workload["effective"]) >= {"requests", "limits"}
    assert set(workload["startup"][0]) == {"container", "lifecycle", "phase", "start", "end", "why"}
    finding = workload["findings"][0]
    assert set(finding) >= {"rule", "severity", "container", "line", "message", "fix"}


def test_it_writes_sarif_that_code_scanning_accepts() -> None:
    _, out, _ = run(str(LEGACY_JOB), "--format", "sarif")
    log = json.loads(out)
    assert log["version"] == "2.1.0"
    run_ = log["runs"][0]
    rule_ids = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    assert rule_ids == list(REGISTRY)
    for result in run_["results"]:
        assert result["ruleId"] in rule_ids
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"].endswith("job-sidecar-legacy.yaml")
        assert location["region"]["startLine"] >= 1


def test_it_exits_2_with_document_and_line_for_broken_yaml(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Pod\nspec: {containers: [{name: a}]}\n---\nkind: Pod\nspec: [oops\n")
    code, _, err = run(str(bad))
    assert code == 2
    assert "bad.yaml" in err and "document 2" in err and "line" in err


@pytest.mark.parametrize(
    "argv",
    [
        ("--kubernetes-version", "1.12", "x.yaml"),
        ("--assume", "nonsense", "x.yaml"),
        ("--assume", "init_run_seconds=-4", "x.yaml"),
        ("--format", "xml", "x.yaml"),
        ("missing-file.yaml",),
        (),
    ],
)
def test_it_exits_2_for_unusable_arguments(argv: tuple[str, ...], tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.yaml").write_text("kind: Pod\n")
    code, _, err = run(*argv)
    assert code == 2
    assert err


def test_it_applies_assumptions_from_the_command_line() -> None:
    _, out, _ = run(
        str(NATIVE_JOB),
        "--format",
        "json",
        "--assume",
        "exit_after_sigterm_seconds=7",
        "--assume",
        "logshipper.image_start_seconds=4",
    )
    details = json.loads(out)["workloads"][0]
    assumptions = " ".join(details["startup_details"]["assumptions"])
    assert "logshipper" in assumptions and "4s" in assumptions


def test_it_lists_every_rule_from_the_registry() -> None:
    code, out, _ = run("--list-rules")
    assert code == 0
    for rule_id in REGISTRY:
        assert rule_id in out
    listed = json.loads(run("--list-rules", "--format", "json")[1])
    assert [r["id"] for r in listed] == list(REGISTRY)


def test_it_runs_as_a_management_command() -> None:
    proc = subprocess.run(
        [sys.executable, "manage.py", "analyze", "--format", "json", str(LEGACY_JOB)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["workloads"][0]["name"] == "myjob"


def test_the_default_input_limit_is_the_cores() -> None:
    from advisor.core.yamlload import Limits

    assert Limits().max_bytes == cli.DEFAULT_MAX_BYTES


def test_version_and_schema_start_without_the_analysis_core() -> None:
    code = (
        "import sys\n"
        "from advisor import cli\n"
        "cli.main(['--version']); cli.main(['schema'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('advisor.core.') "
        "and m not in ('advisor.core.versions',)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines()[-1] == "[]"
    assert out.startswith("pod-advisor 0.1.0")


ENTRY_POINT = "from advisor.cli import entry_point; entry_point()"


def test_a_reader_that_leaves_early_gets_no_traceback() -> None:
    """`pod-advisor analyze DIR | head -1`: the closed pipe is not the user's problem."""
    proc = subprocess.Popen(
        [sys.executable, "-c", ENTRY_POINT, "analyze", str(CORPUS)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the report is written
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err
    assert proc.returncode == 141  # as for a command ended by SIGPIPE
