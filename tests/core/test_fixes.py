"""Fix-it: the patched manifest, its diff and notes, and what the analyser says afterwards."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from advisor.core.analyze import Report, analyze, analyze_text
from advisor.core.fixes import FIXABLE_RULES, FixError, fix, fix_finding, fixes_for
from tests.conftest import CORPUS, ROOT, corpus_files

CLASSIC = "classic-sidecar-blocks-job"
PROBE = "sidecar-without-startup-probe"
HPA_RULE = "hpa-resource-metric-on-multi-container-pod"
LEGACY_JOB = (
    CORPUS / "kubernetes__website__content__en__examples__application__job__job-sidecar-legacy.yaml"
)

PROXY_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: example.com/migrate:1.0
          command: ["/migrate", "--db=127.0.0.1:5432"]
        # the database proxy the migration connects through
        - name: cloud-sql-proxy
          image: gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.0
          args: ["--port=5432", "project:region:db"]  # keeps running
          ports:
            - containerPort: 5432
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          resources:
            requests: {cpu: 200m}
        - name: fluent-bit
          image: fluent/fluent-bit:3.1
          resources:
            requests: {cpu: 50m}
"""

HPA_V2 = """\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 10
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70  # tuned in load tests
"""

HPA_V1 = """\
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 5
  targetCPUUtilizationPercentage: 60
"""

HPA_V2BETA1 = """\
apiVersion: autoscaling/v2beta1
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 5
  metrics:
    - type: Resource
      resource:
        name: cpu
        targetAverageUtilization: 60
    - type: Pods
      pods:
        metricName: packets-per-second
        targetAverageValue: 1k
"""


def rules_of(report: Report) -> list[str]:
    return [f.rule for _, f in report.findings()]


def errors_of(report: Report) -> set[tuple[str, str, str | None]]:
    return {
        (w.workload.name, f.rule, f.container)
        for w, f in report.findings()
        if f.severity == "error"
    }


def test_it_makes_the_legacy_log_shipper_a_native_sidecar() -> None:
    text = LEGACY_JOB.read_text()
    result = fix(text, rule=CLASSIC, document=1, container="logshipper")
    assert result.title == "Make 'logshipper' a native sidecar"
    assert (
        "      initContainers:\n"
        "        - name: logshipper # legacy-style sidecar container\n"
        "          restartPolicy: Always\n"
    ) in result.patched
    assert "+      initContainers:\n" in result.diff
    assert "-        - name: logshipper # legacy-style sidecar container\n" in result.diff
    assert result.diff.startswith("--- a/manifest.yaml\n+++ b/manifest.yaml\n")
    before, after = analyze_text(text), analyze_text(result.patched)
    assert CLASSIC in rules_of(before)
    assert CLASSIC not in rules_of(after)
    assert errors_of(after) <= errors_of(before)


def test_it_marks_a_startup_probe_it_cannot_derive_as_a_placeholder() -> None:
    result = fix(LEGACY_JOB.read_text(), rule=CLASSIC, document=1, container="logshipper")
    assert "startupProbe: # placeholder: replace with a real readiness check" in result.patched
    assert "command: [sh, -c, 'true']" in result.patched
    assert any("placeholder" in note for note in result.notes)


def test_it_gives_a_proxy_with_a_port_a_tcp_startup_probe() -> None:
    result = fix(PROXY_JOB, rule=CLASSIC, document=1, container="cloud-sql-proxy")
    assert (
        "          restartPolicy: Always\n"
        "          startupProbe:\n"
        "            tcpSocket:\n"
        "              port: 5432\n"
        "            periodSeconds: 2\n"
        "            failureThreshold: 30\n"
    ) in result.patched
    assert any("TCP port 5432" in note for note in result.notes)
    after = analyze_text(result.patched)
    assert CLASSIC not in rules_of(after)
    assert PROBE not in rules_of(after)


def test_it_keeps_the_comments_of_the_patched_document() -> None:
    result = fix(PROXY_JOB, rule=CLASSIC, document=1, container="cloud-sql-proxy")
    patched = result.patched
    assert patched.count("# the database proxy the migration connects through") == 1
    assert '"project:region:db"]  # keeps running' in patched
    # the comment above the proxy moves with it, into initContainers
    init, regular = patched.split("      containers:\n")
    assert "# the database proxy the migration connects through" in init
    assert "cloud-sql-proxy" not in regular
    assert not any("dropped" in note for note in result.notes)


def test_it_leaves_the_other_documents_byte_for_byte() -> None:
    header = (
        "# rendered by helm\n---\napiVersion: v1\nkind: ConfigMap   # untouched\n"
        "metadata:\n  name: a\n"
    )
    trailer = "--- # the service\napiVersion: v1\nkind: Service\nmetadata: {name: b}\n...\n"
    text = header + "---\n" + PROXY_JOB + trailer
    result = fix(text, rule=CLASSIC, document=2, container="cloud-sql-proxy")
    assert result.patched.startswith(header + "---\napiVersion: batch/v1\n")
    assert result.patched.endswith("\n" + trailer)
    assert result.original == text


def test_it_keeps_crlf_line_ends_and_the_byte_order_mark() -> None:
    text = "\ufeff" + PROXY_JOB.replace("\n", "\r\n")
    result = fix(text, rule=CLASSIC, document=1, container="cloud-sql-proxy")
    assert result.patched.startswith("\ufeffapiVersion: batch/v1\r\n")
    assert "\n" not in result.patched.replace("\r\n", "")
    assert "+      initContainers:\r\n" in result.diff
    assert CLASSIC not in rules_of(analyze_text(result.patched))


def test_it_keeps_lines_the_fix_does_not_touch_as_written() -> None:
    text = PROXY_JOB.replace("  name: migrate\n", "  name: migrate\n  creationTimestamp: null\n")
    result = fix(text, rule=CLASSIC, document=1, container="cloud-sql-proxy")
    assert "  creationTimestamp: null\n" in result.patched
    assert 'command: ["/migrate", "--db=127.0.0.1:5432"]' in result.patched
    assert not any("re-formatted" in note for note in result.notes)


def test_it_appends_the_sidecar_after_existing_init_containers_and_says_so() -> None:
    text = PROXY_JOB.replace(
        "      containers:\n",
        "      initContainers:\n        - name: wait-for-db\n          image: busybox\n"
        "      containers:\n",
    )
    result = fix(text, rule=CLASSIC, document=1, container="cloud-sql-proxy")
    assert result.patched.index("- name: wait-for-db") < result.patched.index(
        "- name: cloud-sql-proxy"
    )
    assert any("after the existing init containers (wait-for-db)" in n for n in result.notes)


def test_it_scales_an_hpa_on_the_app_container_only() -> None:
    text = DEPLOYMENT + "---\n" + HPA_V2
    assert HPA_RULE in rules_of(analyze_text(text))
    result = fix(text, rule=HPA_RULE, document=2, hpa="web", container="web")
    assert result.title == "Scale HPA 'web' on container 'web' only"
    assert (
        "    - type: ContainerResource\n"
        "      containerResource:\n"
        "        name: cpu\n"
        "        container: web\n"
        "        target:\n"
        "          type: Utilization\n"
        "          averageUtilization: 70  # tuned in load tests\n"
    ) in result.patched
    assert result.patched.startswith(DEPLOYMENT + "---\n")
    after = analyze_text(result.patched)
    assert HPA_RULE not in rules_of(after)
    assert not errors_of(after)


def test_it_finds_the_app_container_of_the_hpa_target_itself() -> None:
    result = fix(DEPLOYMENT + "---\n" + HPA_V2, rule=HPA_RULE, document=2)
    assert "        container: web\n" in result.patched


def test_it_converts_an_autoscaling_v1_hpa_to_v2() -> None:
    result = fix(DEPLOYMENT + "---\n" + HPA_V1, rule=HPA_RULE, document=2, container="web")
    assert "apiVersion: autoscaling/v2\n" in result.patched
    assert "targetCPUUtilizationPercentage" not in result.patched
    assert (
        "  metrics:\n"
        "    - type: ContainerResource\n"
        "      containerResource:\n"
        "        name: cpu\n"
        "        container: web\n"
        "        target:\n"
        "          type: Utilization\n"
        "          averageUtilization: 60\n"
    ) in result.patched
    assert "apiVersion changed from autoscaling/v1 to autoscaling/v2" in result.notes
    after = analyze_text(result.patched)
    assert HPA_RULE not in rules_of(after)
    assert not after.skipped


def test_it_rewrites_v2beta1_targets_in_the_v2_shape() -> None:
    result = fix(DEPLOYMENT + "---\n" + HPA_V2BETA1, rule=HPA_RULE, document=2, container="web")
    assert "targetAverage" not in result.patched
    assert "        target:\n          type: Utilization\n          averageUtilization: 60\n" in (
        result.patched
    )
    assert (
        "      pods:\n"
        "        metric:\n"
        "          name: packets-per-second\n"
        "        target:\n"
        "          type: AverageValue\n"
        "          averageValue: 1k\n"
    ) in result.patched
    assert HPA_RULE not in rules_of(analyze_text(result.patched))


def test_it_fixes_an_hpa_in_its_own_file_from_the_report() -> None:
    report = analyze([("deploy.yaml", DEPLOYMENT), ("hpa.yaml", HPA_V2)])
    (fixable,) = fixes_for(HPA_V2, report, file="hpa.yaml")
    finding, workload = fixable
    result = fix_finding(HPA_V2, finding=finding, workload=workload, report=report, file="hpa.yaml")
    assert result.diff.startswith("--- a/hpa.yaml\n+++ b/hpa.yaml\n")
    assert "container: web" in result.patched
    after = analyze([("deploy.yaml", DEPLOYMENT), ("hpa.yaml", result.patched)])
    assert HPA_RULE not in rules_of(after)


def test_it_adds_a_tcp_startup_probe_to_a_native_sidecar() -> None:
    text = """\
apiVersion: v1
kind: Pod
metadata:
  name: api
spec:
  initContainers:
  - name: envoy
    image: envoyproxy/envoy:v1.31.0
    restartPolicy: Always
    ports:
    - containerPort: 15001
  containers:
  - name: api
    image: example.com/api:2
    env:
    - name: HTTP_PROXY
      value: http://127.0.0.1:15001
"""
    assert PROBE in rules_of(analyze_text(text))
    result = fix(text, rule=PROBE, document=1, container="envoy")
    assert result.title == "Add a startupProbe to 'envoy'"
    assert "    restartPolicy: Always\n    startupProbe:\n      tcpSocket:\n" in result.patched
    assert PROBE not in rules_of(analyze_text(result.patched))


def test_it_keeps_a_json_document_json() -> None:
    text = (
        '{\n  "apiVersion": "batch/v1",\n  "kind": "Job",\n  "metadata": {"name": "j"},\n'
        '  "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [\n'
        '    {"name": "main", "image": "busybox", "command": ["sh", "-c", "echo done"]},\n'
        '    {"name": "proxy", "image": "envoyproxy/envoy:v1.31.0",\n'
        '     "ports": [{"containerPort": 15001}]}\n'
        "  ]}}}\n}\n"
    )
    result = fix(text, rule=CLASSIC, document=1, container="proxy")
    assert '"initContainers": [' in result.patched
    assert '"restartPolicy": "Always"' in result.patched
    assert CLASSIC not in rules_of(analyze_text(result.patched))


def test_it_opens_a_list_to_find_the_workload() -> None:
    body = PROXY_JOB.replace("\n", "\n    ")
    text = "apiVersion: v1\nkind: List\nitems:\n  - " + body.rstrip() + "\n"
    result = fix(text, rule=CLASSIC, document=1, container="cloud-sql-proxy")
    assert CLASSIC in rules_of(analyze_text(text))
    assert CLASSIC not in rules_of(analyze_text(result.patched))


def test_it_lists_the_findings_it_can_fix() -> None:
    text = LEGACY_JOB.read_text()
    report = analyze_text(text)
    fixable = fixes_for(text, report)
    assert [(f.rule, f.container) for f, _ in fixable] == [(CLASSIC, "logshipper")]
    assert {CLASSIC, PROBE, HPA_RULE} <= FIXABLE_RULES


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rule": "no-containers"}, "rule 'no-containers' has no mechanical fix"),
        ({"document": 3}, "manifest.yaml has no document 3: it has 1 document"),
        ({"container": "ghost"}, "no container named 'ghost' in Job 'myjob'"),
        ({"container": "myjob"}, "'myjob' is the app container of Job 'myjob'"),
        ({"kubernetes_version": (1, 28)}, "this fix needs Kubernetes 1.29 or newer"),
    ],
)
def test_it_explains_why_a_fix_cannot_be_applied(kwargs: dict, message: str) -> None:
    arguments = {"rule": CLASSIC, "document": 1, "container": "logshipper"} | kwargs
    with pytest.raises(FixError, match=re.escape(message)):
        fix(LEGACY_JOB.read_text(), **arguments)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: Job\nspec: [unclosed\n", "document 1: the YAML cannot be round-tripped"),
        ("kind: Job\nkind: Pod\n", "found duplicate key"),
        ("- just\n- a list\n", "no workload with a pod template"),
        ("---\n---\nkind: Pod\n", "document 1 is empty"),
    ],
)
def test_it_refuses_input_it_cannot_patch_with_a_fix_error(text: str, message: str) -> None:
    with pytest.raises(FixError, match=re.escape(message)):
        fix(text, rule=CLASSIC, document=1, container="x")


def test_it_refuses_a_probe_it_would_have_to_invent_for_a_native_sidecar() -> None:
    text = LEGACY_JOB.read_text()
    native = fix(text, rule=CLASSIC, document=1, container="logshipper").patched
    stripped = native.replace(
        "          startupProbe: # placeholder: replace with a real readiness check\n"
        "            exec:\n"
        "              command: [sh, -c, 'true']\n",
        "",
    )
    with pytest.raises(FixError, match="declares no TCP containerPort"):
        fix(stripped, rule=PROBE, document=1, container="logshipper")


def test_it_fixes_every_fixable_corpus_finding_without_adding_errors() -> None:
    fixed = 0
    for path in corpus_files():
        text = path.read_text(encoding="utf-8")
        report = analyze_text(text, file=path.name)
        for finding, workload in fixes_for(text, report, file=path.name):
            result = fix_finding(
                text, finding=finding, workload=workload, report=report, file=path.name
            )
            after = analyze_text(result.patched, file=path.name)
            remaining = [
                (w.workload.name, f.container, f.severity)
                for w, f in after.findings()
                if f.rule == finding.rule
            ]
            assert (workload.workload.name, finding.container, finding.severity) not in remaining
            assert errors_of(after) <= errors_of(report), path.name
            assert len(after.errors) == len(report.errors), path.name
            fixed += 1
    assert fixed >= 10


def test_it_moves_a_classic_proxy_of_a_cronjob_and_keeps_the_next_comment_in_place() -> None:
    text = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: envoy
            image: envoyproxy/envoy:v1.31.0
            ports:
            - containerPort: 15001
          # the report job itself
          - name: report
            image: example.com/report:3
"""
    result = fix(text, rule=CLASSIC, document=1, container="envoy")
    assert (
        "          containers:\n          # the report job itself\n          - name: report\n"
        in (result.patched)
    )
    assert "          initContainers:\n          - name: envoy\n" in result.patched
    assert CLASSIC not in rules_of(analyze_text(result.patched))


def test_it_patches_a_flow_document_that_starts_on_its_separator_line() -> None:
    job = (
        "{apiVersion: batch/v1, kind: Job, metadata: {name: j}, spec: {template: {spec: {"
        "restartPolicy: Never, containers: [{name: main, image: busybox}, "
        "{name: proxy, image: envoyproxy/envoy:v1.31.0, ports: [{containerPort: 15001}]}]}}}}\n"
    )
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n--- " + job
    assert CLASSIC in rules_of(analyze_text(text))
    result = fix(text, rule=CLASSIC, document=2, container="proxy")
    assert result.patched.startswith("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---")
    assert "      initContainers:\n      - name: proxy\n        restartPolicy: Always\n" in (
        result.patched
    )
    assert any("flow style" in note for note in result.notes)
    assert CLASSIC not in rules_of(analyze_text(result.patched))


def test_it_imports_without_django_or_plotly() -> None:
    code = (
        "import sys, advisor.core.fixes\n"
        "bad = ('django', 'plotly', 'webui')\n"
        "print(','.join(m for m in sys.modules if m.split('.')[0] in bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""
