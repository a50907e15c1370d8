"""The checker as users install it: the wheel in a fresh virtual environment, the pre-commit
hook through ``pre-commit try-repo``, the GitHub Action's steps run as a script, and the
``manage.py analyze`` alias.

The slow tests install the package with its dependencies from the machine's pip configuration
(the same index ``./dev`` installs from); each builds from a copy of the checkout so no build
directory is left in the working tree.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.conftest import CORPUS, ROOT, corpus_files

LEGACY_JOB = (
    CORPUS / "kubernetes__website__content__en__examples__application__job__job-sidecar-legacy.yaml"
)
NATIVE_JOB = (
    CORPUS / "kubernetes__website__content__en__examples__application__job__job-sidecar.yaml"
)
INSTALL_TIMEOUT = 900


def source_copy(target: Path) -> Path:
    """Copy the files git would ship (tracked, and new files not ignored) to ``target``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        src = ROOT / rel
        if src.is_file():
            dst = target / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    return target


def fresh_venv(where: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(where)
    return where / "bin"


def sh(*argv: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"{argv}: {done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without this test run's virtual environment or Django settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(ROOT))
    )
    env.update(extra)
    return env


def test_manage_py_analyze_is_an_alias_with_the_same_options(tmp_path) -> None:
    sarif = tmp_path / "out.sarif"
    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "analyze",
            str(LEGACY_JOB.relative_to(ROOT)),
            "--format",
            "sarif",
            "--output",
            str(sarif),
            "--format",
            "github",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "title=classic-sidecar-blocks-job" in done.stdout
    uri = json.loads(sarif.read_text())["runs"][0]["results"][0]["locations"][0]
    assert uri["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"


@pytest.mark.slow
def test_the_wheel_installs_in_a_fresh_venv_and_analyses_the_corpus(tmp_path) -> None:
    src = source_copy(tmp_path / "src")
    dist = tmp_path / "dist"
    sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, src, cwd=tmp_path)
    (wheel,) = dist.glob("pod_pattern_advisor-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"advisor/core/data/catalogue.yaml", "advisor/core/data/report.schema.json"} <= names
    assert any(n.endswith("entry_points.txt") for n in names)

    bin_dir = fresh_venv(tmp_path / "venv")
    sh(bin_dir / "python", "-m", "pip", "install", "-q", wheel, cwd=tmp_path, env=clean_env())
    work = tmp_path / "work"
    shutil.copytree(CORPUS, work / "corpus")
    env = clean_env()
    out = sh(bin_dir / "pod-advisor", "version", cwd=work, env=env)
    assert out.startswith("pod-advisor ")
    done = subprocess.run(
        [bin_dir / "pod-advisor", "analyze", "--format", "json", "corpus"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr  # the corpus holds error-level findings
    document = json.loads(done.stdout)
    files = {w["file"] for w in document["workloads"]}
    assert len(document["workloads"]) >= 50
    assert files <= {f"corpus/{p.name}" for p in corpus_files()}
    schema = json.loads(sh(bin_dir / "pod-advisor", "schema", cwd=work, env=env))
    assert schema["title"] == "Pod Pattern Advisor report"


@pytest.mark.slow
def test_the_pre_commit_hook_runs_with_try_repo(tmp_path) -> None:
    hook_repo = source_copy(tmp_path / "hook")
    git_env = clean_env(
        GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
        GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com",
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-cache"),
    )  # fmt: skip
    sh("git", "init", "-q", cwd=hook_repo, env=git_env)
    sh("git", "add", "-A", cwd=hook_repo, env=git_env)
    sh("git", "commit", "-q", "-m", "hook", cwd=hook_repo, env=git_env)

    user = tmp_path / "user"
    (user / "k8s").mkdir(parents=True)
    shutil.copy(LEGACY_JOB, user / "k8s" / "job.yaml")
    shutil.copy(NATIVE_JOB, user / "k8s" / "native.yaml")
    (user / "README.md").write_text("not a manifest\n")
    sh("git", "init", "-q", cwd=user, env=git_env)
    sh("git", "add", "-A", cwd=user, env=git_env)
    pre_commit = Path(sys.executable).parent / "pre-commit"
    done = subprocess.run(
        [pre_commit, "try-repo", hook_repo, "pod-advisor", "--all-files", "--verbose"],
        cwd=user,
        env=git_env,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    assert "classic-sidecar-blocks-job" in done.stdout
    assert "k8s/job.yaml" in done.stdout
    # fixed: the native sidecar alone passes
    sh("git", "rm", "-q", "-f", "k8s/job.yaml", cwd=user, env=git_env)
    passed = subprocess.run(
        [pre_commit, "try-repo", hook_repo, "pod-advisor", "--all-files"],
        cwd=user,
        env=git_env,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    assert passed.returncode == 0, passed.stdout[-3000:]
    assert "Passed" in passed.stdout


def test_the_hook_definition_is_what_the_readme_promises() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "pod-advisor" and hook["language"] == "python"
    assert hook["entry"] == "pod-advisor analyze"
    pattern = re.compile(hook["files"])
    assert all(pattern.search(n) for n in ("a.yaml", "k8s/b.yml", "c.json"))
    assert not any(pattern.search(n) for n in ("README.md", "yaml.txt"))
    readme = (ROOT / "README.md").read_text()
    assert "id: pod-advisor" in readme


EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def _evaluate(text: str, inputs: dict[str, str], outputs: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        expr = match.group(1)
        if expr == "github.action_path":
            return str(inputs["__action_path"])
        if expr.startswith("inputs."):
            return inputs[expr.removeprefix("inputs.")]
        if expr.startswith("steps.") and ".outputs." in expr:
            return outputs[expr.rsplit(".", 1)[1]]
        raise AssertionError(f"the test does not know the expression {expr!r}")

    return EXPRESSION.sub(value, text)


@pytest.mark.slow
def test_the_actions_steps_run_as_a_script_and_write_sarif(tmp_path) -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    inputs = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    workspace = tmp_path / "workspace"
    (workspace / "k8s").mkdir(parents=True)
    shutil.copy(LEGACY_JOB, workspace / "k8s" / "job.yaml")
    inputs.update(paths="k8s", python=sys.executable, args="--kubernetes-version 1.31")
    inputs["__action_path"] = str(source_copy(tmp_path / "action"))
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    files = {n: tmp_path / n for n in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH")}
    for f in files.values():
        f.write_text("")
    outputs: dict[str, str] = {}
    exported: dict[str, str] = {}
    uploads = []
    results = []
    for step in action["runs"]["steps"]:
        if "uses" in step:
            assert step["uses"].startswith("github/codeql-action/upload-sarif@")
            uploads.append(_evaluate(step["with"]["sarif_file"], inputs, outputs))
            continue
        assert step["shell"] == "bash"
        env = clean_env(
            RUNNER_TEMP=str(runner_temp),
            **{k: str(v) for k, v in files.items()},
            **exported,
            **{k: _evaluate(str(v), inputs, outputs) for k, v in step.get("env", {}).items()},
        )
        script = _evaluate(step["run"], inputs, outputs)
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
        results.append((step["name"], done))
        for line in files["GITHUB_OUTPUT"].read_text().splitlines():
            key, _, val = line.partition("=")
            outputs[key] = val
        for line in files["GITHUB_ENV"].read_text().splitlines():
            key, _, val = line.partition("=")
            exported[key] = val
    install, analyse, fail = (done for _, done in results)
    assert install.returncode == 0, install.stderr[-3000:]
    assert analyse.returncode == 0, analyse.stderr[-3000:]
    assert "::error file=k8s/job.yaml" in analyse.stdout  # annotations in the job log
    sarif = workspace / "pod-advisor.sarif"
    log = json.loads(sarif.read_text())
    results_uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert results_uris == {"k8s/job.yaml"}
    assert uploads == ["pod-advisor.sarif"]
    assert outputs["exit-code"] == "1"
    assert fail.returncode == 1  # the last step fails the job on the error-level finding
