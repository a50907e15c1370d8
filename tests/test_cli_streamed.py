"""Every format, and several at once, is written as the analysis runs: the same bytes, exit code
and messages as rendering the whole report at the end (:func:`advisor.cli.render`, kept as the
reference), in one process and on ``--jobs`` workers."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from advisor import cli, parallel
from tests.conftest import FIXTURES, ROOT

FORMATS = ("text", "json", "sarif", "github", "junit")
ODD = r"""apiVersion: v1
kind: Pod
metadata:
  name: "odd-\x01-\u202e-\x7f-é-\ufffe-<&>\"'\t]]>-\r-\u2063pod-advisor-spooled-list\u2063"
  namespace: "ns-ü"
spec:
  containers:
  - name: "app-\x02-\r-ñ"
    image: "shop:1"
  - name: "istio-proxy"
    image: "docker.io/istio/proxyv2:1.20"
---
kind: Pod
spec: [
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: "lonely-\x03-\u202e"}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: "nobody-é"}
  minReplicas: 1
  maxReplicas: 3
---
apiVersion: batch/v1
kind: Job
metadata: {name: "job-日本"}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: busybox}
      - {name: "log-\x1b[31m-shipper", image: fluent/fluent-bit}
---
apiVersion: v1
kind: Pod
metadata: {name: "ascii-but-del-\x7f"}
spec:
  containers:
  - {name: app, image: "shop:2"}
  - {name: envoy, image: envoyproxy/envoy}
---
a: "\x04"
  b: [
"""
ROOT_ODD = "\u2063pod-advisor-spooled-list\u2063 \x05 odd.yaml"


def whole(argv: list[str], stdin: str = "") -> tuple[int, str, str, dict[str, str]]:
    """What ``analyze`` wrote before every format was streamed: the whole report, analysed
    first, then rendered once per output (the command line's code until issue 11)."""
    from advisor.config import apply_policy, resolve
    from advisor.core.analyze import analyze
    from advisor.inputs import collect, remap_report

    args = cli.build_parser().parse_args(["analyze", *argv])
    err = io.StringIO()
    destinations = cli._destinations(args)
    settings = resolve(args)
    options = cli._options(settings, args.max_bytes, args)
    inputs = collect(
        args.paths, stdin=io.StringIO(stdin), exclude=settings.exclude, kustomize=settings.kustomize
    )
    for note in inputs.notes:
        err.write(cli.printable(note + "\n"))
    report = analyze(inputs.texts, options=options)
    report = remap_report(report, inputs.remaps)
    report = replace(report, errors=(*report.errors, *inputs.problems))
    report = apply_policy(report, settings)
    out, files = io.StringIO(), {}
    for fmt, output in destinations:
        text = cli.render(report, fmt)
        if fmt in ("text", "github"):
            text = cli.printable(text)
        if output is None:
            out.write(text)
        else:
            files[output] = text
    for problem in report.errors:
        where = f"document {problem.document}, " if problem.document else ""
        err.write(
            cli.printable(
                f"error: {problem.file}: {where}line {problem.line or '?'}: {problem.message}\n"
            )
        )
    return cli.exit_code(report, settings.fail_on), out.getvalue(), err.getvalue(), files


def streamed(argv: list[str], stdin: str = "") -> tuple[int, str, str, dict[str, str]]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["analyze", *argv], stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue(), _files(argv)


def _files(argv: list[str]) -> dict[str, str]:
    args = cli.build_parser().parse_args(["analyze", *argv])
    outputs = getattr(args, "output", None) or []
    # Bytes decoded, not read_text: a carriage return must not read as a new line.
    return {name: Path(name).read_bytes().decode() for name in outputs}


def several(tmp_path: Path, count: int = 5) -> list[str]:
    """Every format at once: all but the last to files, the last to standard output."""
    argv: list[str] = []
    for fmt in FORMATS[:count]:
        argv += ["--format", fmt]
    for fmt in FORMATS[: count - 1]:
        argv += ["--output", str(tmp_path / f"report.{fmt}")]
    return argv


@pytest.fixture
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.fixture
def odd(tmp_path) -> str:
    """Unreadable documents, an autoscaler without a target, non-ASCII, XML-invalid and
    terminal control characters, in a file whose name is not plain either."""
    path = tmp_path / ROOT_ODD
    path.write_text(ODD, encoding="utf-8")
    (tmp_path / "plain.yaml").write_text(ODD.replace("odd-", "plain-"), encoding="utf-8")
    return str(path)


def _variants(tmp_path: Path) -> list[list[str]]:
    return [*(["--format", fmt] for fmt in FORMATS), several(tmp_path, 2), several(tmp_path)]


def _same(argv: list[str], stdin: str = "") -> None:
    reference = whole(argv, stdin)
    assert streamed(argv, stdin) == reference


@pytest.mark.parametrize("inputs", ["corpus", "wild"])
def test_every_format_streams_the_fixtures_as_the_whole_report_reads(
    inputs, tmp_path, at_root
) -> None:
    path = (FIXTURES / inputs).relative_to(ROOT).as_posix()
    for argv in _variants(tmp_path):
        _same([*argv, path])


def test_every_format_streams_odd_text_and_unreadable_documents_alike(
    odd, tmp_path, at_root
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for argv in _variants(out):
        _same([*argv, odd, str(Path(odd).parent / "plain.yaml"), "-"], stdin=ODD)
        # Pods over the limit are errors that quote their names, before SARIF's results.
        _same([*argv, "--max-containers", "1", odd])
    for fmt in ("text", "github"):  # no control character reaches a terminal
        code, stdout, stderr, _ = streamed(["--format", fmt, odd])
        assert code == 2 and "Job/job-日本" in stdout
        for text in (stdout, stderr):
            assert not {"\x1b", "\u202e", "\x01", "\x05"} & set(text)


def test_every_format_streams_with_the_policy_applied_alike(tmp_path, at_root) -> None:
    policy = ["--disable", "sidecar-missing-requests", "--severity", "memory-backed-emptydir=error"]
    for argv in _variants(tmp_path):
        _same([*argv, *policy, "--fail-on", "warning", "tests/fixtures/corpus"])


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_every_format_streams_a_kustomize_overlay_with_the_users_lines_alike(
    tmp_path, at_root
) -> None:
    for argv in _variants(tmp_path):
        _same([*argv, "tests/fixtures/kustomize/overlays/sidecar", "tests/fixtures/kustomize"])


def test_every_format_streams_an_empty_run_alike(tmp_path, at_root) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    (tmp_path / "cm.yaml").write_text("kind: ConfigMap\nmetadata: {name: x}\n")
    for argv in _variants(tmp_path):
        _same([*argv, str(empty)])
        _same([*argv, str(empty), str(tmp_path / "cm.yaml")])


def test_the_output_limit_bounds_the_bytes_written_to_each_output(tmp_path, at_root) -> None:
    argv = ["--format", "sarif", "tests/fixtures/corpus"]
    code, out, _, _ = whole(argv)
    size = len(out.encode())
    assert streamed([*argv, "--max-output-bytes", str(size)])[:2] == (code, out)
    target = tmp_path / "report.sarif"
    limit = size // 2
    code, _, err, files = streamed(
        [*argv, "--output", str(target), "--max-output-bytes", str(limit)]
    )
    written = len(files[str(target)].encode())
    assert code == 2
    assert err == (
        f"error: the sarif report to {target} stopped after {written:,} bytes "
        f"(max_output_bytes = {limit:,} bytes of output)\n"
    )
    assert 0 < written <= limit
    assert out.startswith(files[str(target)])


def test_manage_py_analyze_writes_what_pod_advisor_writes(odd, at_root) -> None:
    for fmt in ("text", "junit"):
        argv = ["--format", fmt, "tests/fixtures/corpus", odd]
        done = subprocess.run(
            [sys.executable, "manage.py", "analyze", *argv],
            cwd=ROOT,
            capture_output=True,
            timeout=300,
            check=False,
        )
        code, out, err, _ = whole(argv)
        assert (done.returncode, done.stdout.decode(), done.stderr.decode()) == (code, out, err)


# --jobs: workers start only on input over PARALLEL_MIN_BYTES, and fork only outside the test
# process (which has threads): run the command line as a user does.


def _run(argv: list[str]) -> tuple[int, str, str, dict[str, str]]:
    done = subprocess.run(
        [sys.executable, "-m", "advisor.cli", "analyze", *argv],
        cwd=ROOT,
        capture_output=True,
        timeout=600,
        check=False,
    )
    return done.returncode, done.stdout.decode(), done.stderr.decode(), _files(argv)


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> list[str]:
    """The wild corpus, the odd file, and enough of the corpus, repeated, to pass
    PARALLEL_MIN_BYTES in one file (cut into slices) and in several."""
    tmp = tmp_path_factory.mktemp("large")
    (tmp / "odd.yaml").write_text(ODD, encoding="utf-8")
    corpus = sorted((FIXTURES / "corpus").glob("*.yaml"))
    texts = [p.read_text(encoding="utf-8") for p in corpus]
    body, copies = "", 0
    while len(body.encode()) < parallel.PARALLEL_MIN_BYTES:
        body += "".join(f"---\n{t.replace('name: ', f'name: c{copies}-', 1)}\n" for t in texts)
        copies += 1
    (tmp / "big.yaml").write_text(body, encoding="utf-8")
    (tmp / "zz-odd.yaml").write_text(ODD.replace("odd-", "last-"), encoding="utf-8")
    return [
        str(tmp / "odd.yaml"),
        "tests/fixtures/wild",
        str(tmp / "big.yaml"),
        str(tmp / "zz-odd.yaml"),
    ]


@pytest.mark.slow
@pytest.mark.parametrize("variant", [*FORMATS, "two", "all"])
def test_every_format_streams_alike_on_two_workers(variant, large, tmp_path, at_root) -> None:
    if variant == "two":
        argv = several(tmp_path, 2)
    elif variant == "all":
        argv = several(tmp_path)
    else:
        argv = ["--format", variant]
    argv += ["--disable", "sidecar-missing-requests", *large]
    reference = whole(argv)
    assert reference[0] == 2 and reference[1]
    assert _run([*argv, "--jobs", "2"]) == reference


def test_one_file_cannot_take_two_reports(tmp_path, at_root) -> None:
    first, second = str(tmp_path / "r"), str(tmp_path / "." / "r")
    argv = ["--format", "json", "--format", "junit", "--output", first, "--output", second]
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["analyze", *argv, "x.yaml"], stdout=out, stderr=err) == 2
    assert (out.getvalue(), err.getvalue()) == (
        "",
        f"error: --output {second} and --output {first} are the same file\n",
    )
    assert not (tmp_path / "r").exists()
