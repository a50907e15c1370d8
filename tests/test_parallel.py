"""``--jobs N`` changes how long a run takes, never what it reports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from advisor import parallel
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
    cut = parallel.groups(inputs, 2)
    assert [[name for name, _ in g] for g in cut] == [["f0", "f1", "f2", "f3"], ["f4", "f5"]]
    assert parallel.groups(inputs, 1) == [inputs]
