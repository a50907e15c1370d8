"""Outputs for CI: SARIF (validated against the SARIF 2.1.0 schema), GitHub annotations, JUnit,
several reports in one run, and the published JSON Schema of the JSON report."""

from __future__ import annotations

import io
import json
import shutil
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from advisor import cli
from tests.conftest import CORPUS, FIXTURES, ROOT, corpus_files

SARIF_SCHEMA = json.loads((FIXTURES / "sarif" / "sarif-2.1.0-rtm.5.json").read_text())
LEGACY_JOB = (
    CORPUS / "kubernetes__website__content__en__examples__application__job__job-sidecar-legacy.yaml"
)
CORPUS_REL = CORPUS.relative_to(ROOT).as_posix()


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def corpus_sarif() -> dict:
    import os

    here = os.getcwd()
    os.chdir(ROOT)
    try:
        _, out, _ = run("analyze", "--format", "sarif", CORPUS_REL)
    finally:
        os.chdir(here)
    return json.loads(out)


def test_corpus_sarif_validates_against_the_sarif_2_1_0_schema(corpus_sarif) -> None:
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(corpus_sarif)
    assert len(corpus_sarif["runs"][0]["results"]) > 20


def test_sarif_locations_are_relative_to_the_working_directory(corpus_sarif) -> None:
    run_ = corpus_sarif["runs"][0]
    base = run_["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base == ROOT.as_uri() + "/"
    for result in run_["results"]:
        artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        assert artifact["uri"].startswith(CORPUS_REL + "/")
        assert (ROOT / artifact["uri"]).is_file()


def test_sarif_for_stdin_errors_and_outside_files_is_still_valid(tmp_path, at_root) -> None:
    outside = tmp_path / "broken.yaml"
    outside.write_text("kind: Pod\nspec: [oops\n")
    code, out, _ = run(
        "analyze", "--format", "sarif", str(outside), "-", stdin=LEGACY_JOB.read_text()
    )
    log = json.loads(out)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    assert code == 2
    run_ = log["runs"][0]
    (note,) = run_["invocations"][0]["toolExecutionNotifications"]
    artifact = note["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": outside.as_uri()}
    stdin_artifact = run_["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert stdin_artifact == {"uri": "stdin"}


def test_github_format_writes_one_workflow_command_per_finding(at_root) -> None:
    code, out, _ = run("analyze", "--format", "github", str(LEGACY_JOB.relative_to(ROOT)))
    lines = out.splitlines()
    assert code == 1
    assert lines and all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    blocker = next(line for line in lines if "title=classic-sidecar-blocks-job" in line)
    assert blocker.startswith(f"::error file={LEGACY_JOB.relative_to(ROOT)},line=")
    assert "::Job/myjob: " in blocker


def test_github_format_escapes_commas_colons_and_newlines(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a,b:c.yaml").write_text(LEGACY_JOB.read_text())
    (tmp_path / "bad.yaml").write_text("kind: Pod\nspec: [oops\n")
    _, out, _ = run("analyze", "--format", "github", ".")
    assert "file=a%2Cb%3Ac.yaml," in out
    bad = next(line for line in out.splitlines() if "bad.yaml" in line)
    assert bad.startswith("::error file=bad.yaml,line=") and "title=unreadable-input::" in bad
    assert all(line.startswith("::") for line in out.splitlines())


def test_junit_has_one_testcase_per_workload_and_one_failure_per_finding(at_root) -> None:
    code, out, _ = run("analyze", "--format", "junit", CORPUS_REL)
    _, json_out, _ = run("analyze", "--format", "json", CORPUS_REL)
    document = json.loads(json_out)
    root = ET.fromstring(out)
    cases = root.findall("./testsuite/testcase")
    assert code == 1
    assert len(cases) == len(document["workloads"])
    findings = sum(len(w["findings"]) for w in document["workloads"])
    assert len(root.findall(".//failure")) == findings == int(root.get("failures"))
    first = document["workloads"][0]
    case = cases[0]
    assert case.get("classname") == first["file"]
    assert case.get("name").startswith(f"{first['kind']}/{first['name']}")
    assert [f.get("type") for f in case.findall("failure")] == [
        f["rule"] for f in first["findings"]
    ]


def test_several_reports_in_one_run(tmp_path, at_root) -> None:
    sarif, junit = tmp_path / "a.sarif", tmp_path / "b.xml"
    code, out, _ = run(
        "analyze",
        str(LEGACY_JOB),
        "--format", "sarif", "--output", str(sarif),
        "--format", "junit", "--output", str(junit),
        "--format", "text",
    )  # fmt: skip
    assert code == 1
    assert json.loads(sarif.read_text())["version"] == "2.1.0"
    assert ET.fromstring(junit.read_text()).tag == "testsuites"
    assert "classic-sidecar-blocks-job" in out and out.startswith("Pod Pattern Advisor")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--format", "json", "--format", "sarif"), "would all go to standard output"),
        (("--output", "a", "--output", "b"), "give a --format for each --output"),
    ],
)
def test_formats_and_outputs_that_do_not_pair_are_refused(argv, message, tmp_path) -> None:
    code, _, err = run("analyze", str(LEGACY_JOB), *argv)
    assert code == 2 and message in err


def test_an_unwritable_output_is_a_clear_error(tmp_path) -> None:
    target = tmp_path / "missing-dir" / "out.sarif"
    code, _, err = run("analyze", str(LEGACY_JOB), "--format", "sarif", "--output", str(target))
    assert code == 2 and "cannot write" in err and str(target) in err


def test_the_published_schema_is_the_shipped_file_and_a_valid_schema() -> None:
    code, out, _ = run("schema")
    schema = json.loads(out)
    assert code == 0
    shipped = ROOT / "advisor" / "core" / "data" / "report.schema.json"
    assert schema == json.loads(shipped.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)


def test_every_corpus_report_matches_the_published_schema(at_root) -> None:
    validator = jsonschema.Draft202012Validator(json.loads(run("schema")[1]))
    for path in corpus_files():
        _, out, _ = run("analyze", "--format", "json", str(path.relative_to(ROOT)))
        errors = [e.message for e in validator.iter_errors(json.loads(out))]
        assert errors == [], f"{path.name}: {errors[:3]}"


def test_the_schema_rejects_a_report_with_a_wrong_severity(at_root) -> None:
    validator = jsonschema.Draft202012Validator(json.loads(run("schema")[1]))
    document = json.loads(run("analyze", "--format", "json", str(LEGACY_JOB))[1])
    document["workloads"][0]["findings"][0]["severity"] = "fatal"
    assert not validator.is_valid(document)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kustomize_sarif_validates(at_root) -> None:
    _, out, _ = run("analyze", "--format", "sarif", "tests/fixtures/kustomize")
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(json.loads(out))


TERMINAL_TRICKS = """\
apiVersion: v1
kind: Pod
metadata:
  name: "web\\e[2J\\e]0;owned\\a"
spec:
  containers:
  - name: app
    image: "nginx\\u202e:1.27\\x9b31m"
  - name: helper
    image: busybox
    command: ["sh", "-c", "tail -f /dev/null"]
"""


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_it_shows_terminal_control_characters_as_escapes(tmp_path, fmt) -> None:
    from advisor.cli import main

    path = tmp_path / "tricks.yaml"
    path.write_text(TERMINAL_TRICKS, encoding="utf-8")
    broken = tmp_path / "bad\x1b[31m.yaml"
    broken.write_text("kind: Pod\nspec: [\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    main(["analyze", "--format", fmt, str(path), str(broken)], stdout=out, stderr=err)
    for text in (out.getvalue(), err.getvalue()):
        assert not any(ch in text for ch in "\x1b\x07\x9b\u202e"), text
    assert "\\x1b" in err.getvalue()  # the broken file's name, in the error message
    if fmt == "text":
        assert "web\\x1b[2J\\x1b]0;owned\\x07" in out.getvalue()


def test_junit_stays_well_formed_xml_whatever_the_manifest_holds(tmp_path) -> None:
    from advisor.cli import main

    path = tmp_path / "tricks.yaml"
    path.write_text(TERMINAL_TRICKS.replace("busybox", '"busybox\\x01"'), encoding="utf-8")
    out = io.StringIO()
    main(["analyze", "--format", "junit", str(path)], stdout=out, stderr=io.StringIO())
    names = [
        c.get("name") for c in ET.fromstring(out.getvalue().split("\n", 1)[1]).iter("testcase")
    ]
    assert names == ["Pod/web\\u001b[2J\\u001b]0;owned\\u0007"]
