"""``pod-advisor analyze PATH``: files, directories, exclusions, stdin and Kustomize."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys

import pytest

from advisor import cli
from tests.conftest import CORPUS, ROOT

KUSTOMIZE = ROOT / "tests" / "fixtures" / "kustomize"
LEGACY_JOB = (
    CORPUS / "kubernetes__website__content__en__examples__application__job__job-sidecar-legacy.yaml"
)
needs_kubectl = pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl is not installed on this machine"
)


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def report(*argv: str) -> dict:
    code, out, err = run("analyze", "--format", "json", *argv)
    assert code in (0, 1), err
    return json.loads(out)


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A repository-like tree: manifests at several depths, a hidden folder, other files."""
    job = LEGACY_JOB.read_text()
    (tmp_path / "apps" / "jobs").mkdir(parents=True)
    (tmp_path / "apps" / "jobs" / "job.yaml").write_text(job)
    (tmp_path / "apps" / "copy.yml").write_text(job.replace("name: myjob", "name: copy"))
    (tmp_path / "apps" / "notes.txt").write_text(job)
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "third-party.yaml").write_text(job)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "hidden.yaml").write_text(job)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_directory_is_walked_for_yaml_and_json_skipping_hidden_folders(tree) -> None:
    files = {w["file"] for w in report(".")["workloads"]}
    assert files == {"apps/copy.yml", "apps/jobs/job.yaml", "vendor/third-party.yaml"}


def test_exclude_globs_skip_folders_and_files(tree) -> None:
    files = {
        w["file"] for w in report(".", "--exclude", "vendor", "--exclude", "*.yml")["workloads"]
    }
    assert files == {"apps/jobs/job.yaml"}


def test_files_directories_and_stdin_mix_in_one_run(tree) -> None:
    code, out, _ = run(
        "analyze", "--format", "json", "apps/jobs", "vendor/third-party.yaml", "-",
        stdin=LEGACY_JOB.read_text(),
    )  # fmt: skip
    files = [w["file"] for w in json.loads(out)["workloads"]]
    assert code == 1
    assert files == ["apps/jobs/job.yaml", "vendor/third-party.yaml", "stdin"]


def test_a_path_alone_means_analyze(tree) -> None:
    code, out, _ = run("apps/jobs")
    assert code == 1
    assert "classic-sidecar-blocks-job" in out


def test_an_empty_directory_says_so(tmp_path) -> None:
    code, out, err = run("analyze", str(tmp_path))
    assert code == 0
    assert "no .yaml, .yml or .json file found" in err
    assert "0 workload(s)" in out


def test_a_missing_path_is_a_clear_error(tree) -> None:
    code, _, err = run("analyze", "nowhere/")
    assert code == 2
    assert "nowhere" in err and "Traceback" not in err


@needs_kubectl
def test_a_kustomize_overlay_is_rendered_and_findings_name_the_patch(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    document = report("tests/fixtures/kustomize/overlays/sidecar")
    (workload,) = document["workloads"]
    assert workload["file"] == "tests/fixtures/kustomize/base/deployment.yaml"
    assert [c["name"] for c in workload["containers"]] == ["log-shipper", "web"]
    finding = next(f for f in workload["findings"] if f["container"] == "log-shipper")
    assert finding["file"] == "tests/fixtures/kustomize/overlays/sidecar/add-sidecar.yaml"
    patch_lines = (KUSTOMIZE / "overlays" / "sidecar" / "add-sidecar.yaml").read_text()
    # the line named is inside the sidecar's entry of the patch
    assert "log-shipper" in "".join(
        patch_lines.splitlines(True)[finding["line"] - 2 : finding["line"]]
    )


@needs_kubectl
def test_sarif_of_a_kustomize_overlay_points_at_the_users_files(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out, _ = run("analyze", "--format", "sarif", "tests/fixtures/kustomize/overlays/sidecar")
    assert code == 0  # a warning only
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for result in json.loads(out)["runs"][0]["results"]
        for loc in result["locations"]
    }
    assert uris == {"tests/fixtures/kustomize/overlays/sidecar/add-sidecar.yaml"}


@needs_kubectl
def test_the_text_report_names_the_patch_file_of_a_finding(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    _, out, _ = run("analyze", "tests/fixtures/kustomize/overlays/sidecar")
    assert "== Deployment/web  (tests/fixtures/kustomize/base/deployment.yaml:1" in out
    finding = next(line for line in out.splitlines() if "sidecar-missing-requests" in line)
    assert "(tests/fixtures/kustomize/overlays/sidecar/add-sidecar.yaml:" in finding


@needs_kubectl
def test_the_users_kustomization_is_not_edited(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    before = {p: p.read_bytes() for p in KUSTOMIZE.rglob("*") if p.is_file()}
    report("tests/fixtures/kustomize/overlays/sidecar")
    after = {p: p.read_bytes() for p in KUSTOMIZE.rglob("*") if p.is_file()}
    assert after == before


@needs_kubectl
def test_a_broken_kustomization_is_reported_with_its_file(tmp_path, monkeypatch) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - missing.yaml\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = run("analyze", ".")
    assert code == 2
    assert "kustomization.yaml" in err and "kubectl kustomize failed" in err


def test_without_kubectl_the_plain_files_are_read_with_a_note(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no kubectl there
    monkeypatch.chdir(ROOT)
    code, out, err = run("analyze", "--format", "json", "tests/fixtures/kustomize/overlays/sidecar")
    assert "kubectl is not on PATH" in err
    files = {w["file"] for w in json.loads(out)["workloads"]}
    assert files == {"tests/fixtures/kustomize/overlays/sidecar/add-sidecar.yaml"}
    assert code in (0, 1)


def test_no_kustomize_reads_plain_files_without_a_note(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    _, out, err = run("analyze", "--no-kustomize", "--format", "json", "tests/fixtures/kustomize")
    assert err == ""
    files = {w["file"] for w in json.loads(out)["workloads"]}
    assert files == {
        "tests/fixtures/kustomize/base/deployment.yaml",
        "tests/fixtures/kustomize/overlays/sidecar/add-sidecar.yaml",
    }


def test_the_checker_imports_neither_django_nor_the_api() -> None:
    code = (
        "import sys\n"
        "from advisor import cli\n"
        f"rc = cli.main(['analyze', '--format', 'sarif', {str(LEGACY_JOB)!r}])\n"
        "cli.main(['config']); cli.main(['rules']); cli.main(['schema'])\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('django', 'ninja', 'webui', 'plotly', 'psycopg'))\n"
        "print('BAD', ','.join(bad), rc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().endswith("BAD  1"), done.stdout[-300:]
