"""``--jobs N`` changes how long a run takes, never what it reports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from advisor import parallel
from advisor.core.analyze import Options
from advisor.core.budget import Budget
from tests.conftest import ROOT, corpus_files

HPA = """\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: web-{i}}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web-{i}}}
  minReplicas: 1
  maxReplicas: 4
  metrics:
  - type: Resource
    resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 70}}}}
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web-{i}}}
spec:
  selector: {{matchLabels: {{app: web-{i}}}}}
  template:
    metadata: {{labels: {{app: web-{i}}}}}
    spec:
      containers:
      - {{name: app, image: "shop:{i}", resources: {{requests: {{cpu: 100m, memory: 64Mi}}}}}}
      - {{name: proxy, image: envoyproxy/envoy:v1.30, resources: {{requests: {{cpu: 1}}}}}}
"""


def _run(paths: list[str], *args: str) -> tuple[int, str, str]:
    # A process of its own, as a user runs it: forking the test process, which has threads
    # (live servers), could deadlock a worker.
    done = subprocess.run(
        [sys.executable, "-m", "advisor.cli", "analyze", *args, *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def files(tmp_path) -> list[str]:
    """Corpus files plus HPAs in a file before their targets' file, a broken file, and enough
    Deployments for the run to pass PARALLEL_MIN_BYTES, so that workers really start."""
    hpas = tmp_path / "00-hpas.yaml"
    hpas.write_text("---\n".join(HPA.format(i=i) for i in range(0, 30, 3)))
    apps = tmp_path / "99-apps.yaml"
    apps.write_text("---\n".join(DEPLOYMENT.format(i=i) for i in range(20)))
    filler = tmp_path / "98-filler.yaml"
    count = parallel.PARALLEL_MIN_BYTES // len(DEPLOYMENT.format(i=1000)) + 1
    filler.write_text("---\n".join(DEPLOYMENT.format(i=i) for i in range(1000, 1000 + count)))
    broken = tmp_path / "50-broken.yaml"
    broken.write_text("kind: Pod\nspec: [\n")
    return [str(hpas), *map(str, corpus_files()[:30]), str(broken), str(filler), str(apps)]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["json", "text"])
def test_it_reports_the_same_with_two_or_three_workers_as_with_one(files, fmt) -> None:
    serial = _run(files, "--format", fmt, "--jobs", "1")
    assert serial[0] == 2  # the broken file
    for jobs in ("2", "3"):
        assert _run(files, "--format", fmt, "--jobs", jobs) == serial


@pytest.mark.slow
def test_it_links_autoscalers_to_targets_in_another_workers_files(files) -> None:
    _, text, _ = _run(files, "--format", "text", "--jobs", "2")
    # HPAs for web-0 ... web-27 (step 3): web-21, 24, 27 have no Deployment in the input.
    unlinked = [line for line in text.splitlines() if line.startswith("skipped") and "web-" in line]
    assert len(unlinked) == 3
    assert "HorizontalPodAutoscaler web-21: its target Deployment 'web-21'" in text
    assert "HorizontalPodAutoscaler web-3:" not in text


def test_it_cuts_files_into_ordered_groups_of_about_equal_size() -> None:
    inputs = [(f"f{i}", b"x" * size) for i, size in enumerate([5, 5, 5, 5, 10, 10])]
    cut = parallel.groups(parallel.pieces(inputs, 2, Options()), 2)
    assert [[piece.file for piece in g] for g in cut] == [["f0", "f1", "f2", "f3"], ["f4", "f5"]]
    assert len(parallel.groups(parallel.pieces(inputs, 1, Options()), 1)) == 1


def test_it_cuts_one_large_file_into_slices_that_start_at_separators() -> None:
    text = "".join(DEPLOYMENT.format(i=i) + "---\n" for i in range(400)).encode()
    small = ("small.yaml", b"kind: Pod\n")
    items = parallel.pieces([small, ("big.yaml", text)], 2, Options())
    assert items[0].text() == b"kind: Pod\n" and items[0].part is None
    slices = items[1:]
    assert len(slices) == 8  # a quarter of each worker's share
    assert all(piece.data is text for piece in slices)  # sliced in the worker, not copied here
    assert b"".join(piece.text() for piece in slices) == text
    assert all(piece.text().startswith(b"---\n") for piece in slices[1:])
    documents = [piece.part.documents for piece in slices if piece.part]
    assert documents == sorted(documents) and documents[0] == 0 and documents[-1] > 300
    assert [len(g) for g in parallel.groups(items, 2)] == [5, 4]


def test_it_keeps_whole_a_file_it_cannot_cut_as_a_serial_run_reads_it() -> None:
    many = "".join(f"---\na: {i}\n" for i in range(2000))
    for data in (
        b"\xff\xfe" + many.encode("utf-16-le"),  # UTF-16: offsets differ
        many.encode() + b"\xff",  # invalid UTF-8: the worker reports it
    ):
        assert len(parallel.pieces([("f", data)], 2, Options())) == 1
    limited = Options(limits=Budget(max_documents=1999))
    assert len(parallel.pieces([("f", many.encode())], 2, limited)) == 1
    assert len(parallel.pieces([("f", many.encode())], 2, Options())) > 1


@pytest.fixture
def one_file(tmp_path) -> str:
    """One file over PARALLEL_MIN_BYTES: HPAs before and after their targets, one of them for
    a target that is missing, a broken document in the middle, and an alias in every
    Deployment (so per-file node counts add up across slices)."""
    count = parallel.PARALLEL_MIN_BYTES // len(DEPLOYMENT.format(i=1000)) + 50
    docs = [HPA.format(i=i) for i in (0, 1, 5000)]
    for i in range(count):
        name = f"name: web-{i}}}"
        doc = DEPLOYMENT.format(i=i).replace(name, name[:-1] + ", labels: &l {app: x}}")
        docs.append(doc + "      nodeSelector: *l\n")
        if i == count // 2:
            docs.append("kind: Pod\nspec: [\n")
    docs.extend(HPA.format(i=i) for i in (count - 1, count - 2))
    path = tmp_path / "one.yaml"
    path.write_text("---\n".join(docs))
    return str(path)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["json", "text"])
def test_one_large_file_reports_the_same_with_two_or_three_workers(one_file, fmt) -> None:
    serial = _run([one_file], "--format", fmt, "--jobs", "1")
    assert serial[0] == 2  # the broken document
    assert "web-5000" in serial[1]  # the HPA whose target is missing, reported once
    for jobs in ("2", "3"):
        assert _run([one_file], "--format", fmt, "--jobs", jobs) == serial


@pytest.mark.slow
@pytest.mark.parametrize("limit", ["--max-nodes", "--max-workloads"])
def test_a_limit_counted_across_slices_is_reported_where_a_serial_run_reports_it(
    one_file, limit
) -> None:
    # Each slice stays under the limit; the file, or the run, does not.
    value = "3000" if limit == "--max-nodes" else "1500"
    serial = _run([one_file], "--format", "json", limit, value, "--jobs", "1")
    assert f"({limit[2:].replace('-', '_')} = " in serial[1]
    assert _run([one_file], "--format", "json", limit, value, "--jobs", "2") == serial
