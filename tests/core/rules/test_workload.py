"""Rules about the pod as a whole: containers present, names, Jobs."""

from __future__ import annotations

from advisor.core.analyze import analyze_text
from tests.core.rules.fixtures_test_helpers import (
    analyze_manifest,
    corpus_text,
    findings,
    manifest,
    suppressed,
)

LEGACY_JOB = "kubernetes__website__content__en__examples__application__job__job-sidecar-legacy.yaml"
NATIVE_JOB = "kubernetes__website__content__en__examples__application__job__job-sidecar.yaml"

JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: thumbnails
spec:
  template:
    spec:
      containers:
        - name: render
          image: registry.example.com/media/renderer:1.4.2
          resources:
            requests: {cpu: 500m, memory: 512Mi}
"""


def test_it_says_the_legacy_job_sidecar_of_the_kubernetes_docs_never_completes() -> None:
    report = analyze_text(corpus_text(LEGACY_JOB), file="job-sidecar-legacy.yaml")
    (finding,) = findings(report, "classic-sidecar-blocks-job")
    assert finding.severity == "error"
    assert finding.container == "logshipper"
    assert finding.line == 15
    assert "'logshipper'" in finding.message
    assert "never complete" in finding.message
    assert "restartPolicy: Always" in finding.fix


def test_it_lets_the_native_sidecar_job_of_the_kubernetes_docs_complete() -> None:
    report = analyze_text(corpus_text(NATIVE_JOB), file="job-sidecar.yaml")
    assert report.workloads
    assert findings(report, "classic-sidecar-blocks-job") == []


def test_it_names_the_blocking_helper_and_the_workload_kind() -> None:
    report = analyze_manifest("workload-classic-sidecar-blocks-cronjob.yaml")
    (finding,) = findings(report, "classic-sidecar-blocks-job")
    assert finding.container == "fluent-bit"
    assert "'fluent-bit'" in finding.message
    assert "CronJob" in finding.message


def test_it_moves_findings_of_ignored_rules_to_suppressed() -> None:
    text = manifest("workload-classic-sidecar-blocks-job.yaml").replace(
        "  name: orders-export\n",
        "  name: orders-export\n"
        "  annotations:\n"
        "    pod-advisor.io/ignore: classic-sidecar-blocks-job, job-restart-policy\n",
    )
    report = analyze_text(text)
    (workload,) = report.workloads
    assert workload.ignored_rules == ("classic-sidecar-blocks-job", "job-restart-policy")
    assert findings(report, "classic-sidecar-blocks-job") == []
    assert [f.container for f in suppressed(report, "classic-sidecar-blocks-job")] == [
        "cloud-sql-proxy"
    ]


def test_it_reads_the_ignore_annotation_on_the_pod_template_too() -> None:
    text = manifest("workload-job-restart-policy.yaml").replace(
        "        spec:\n          restartPolicy: Always\n",
        "        metadata:\n"
        "          annotations:\n"
        "            pod-advisor.io/ignore: job-restart-policy\n"
        "        spec:\n          restartPolicy: Always\n",
    )
    report = analyze_text(text)
    assert findings(report, "job-restart-policy") == []
    assert len(suppressed(report, "job-restart-policy")) == 1


def test_it_explains_that_a_missing_job_restart_policy_defaults_to_always() -> None:
    (finding,) = findings(analyze_text(JOB), "job-restart-policy")
    assert "not set (defaults to Always)" in finding.message
    assert "a Job needs OnFailure or Never" in finding.message
    assert finding.line == 8  # the pod spec: there is no restartPolicy line to point at


def test_it_accepts_never_for_a_job() -> None:
    text = JOB.replace("      containers:\n", "      restartPolicy: Never\n      containers:\n")
    assert findings(analyze_text(text), "job-restart-policy") == []


def test_it_rejects_an_empty_containers_list_at_its_line() -> None:
    text = JOB.replace(
        "      containers:\n        - name: render\n",
        "      restartPolicy: Never\n      containers: []\n"
        "      initContainers:\n        - name: render\n",
    )
    (finding,) = findings(analyze_text(text), "no-containers")
    assert finding.severity == "error"
    assert finding.line == 9
    assert "spec.template.spec.containers is empty or missing" in finding.message


def test_it_names_both_places_of_a_duplicate_container_name() -> None:
    report = analyze_manifest("workload-duplicate-container-name.yaml")
    (finding,) = findings(report, "duplicate-container-name")
    assert finding.container == "web"
    assert "'web' is used by initContainers[0] and containers[0]" in finding.message
