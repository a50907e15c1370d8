"""The debug panel's `kubectl get pods -l` picks the workload's pods by its selector."""

from __future__ import annotations

from advisor.core.debug import kubectl_commands
from advisor.core.intake import parse

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web, version: v2, team: checkout}
    spec:
      containers: [{name: app, image: web:2}]
"""
RC = """\
apiVersion: v1
kind: ReplicationController
metadata: {name: legacy}
spec:
  selector: {app: legacy}
  template:
    metadata:
      labels: {app: legacy, build: "7"}
    spec:
      containers: [{name: app, image: legacy:1}]
"""
JOB = """\
apiVersion: batch/v1
kind: Job
metadata: {name: nightly}
spec:
  template:
    metadata:
      labels: {team: data}
    spec:
      restartPolicy: Never
      containers: [{name: app, image: job:1}]
"""


def list_pods(text: str) -> str:
    (workload,) = parse(text).workloads
    return next(
        c.command for c in kubectl_commands(workload) if c.command.startswith("kubectl get")
    )


def test_a_deployment_lists_its_pods_by_its_selector_not_every_template_label() -> None:
    assert list_pods(DEPLOYMENT) == "kubectl get pods -n shop -l app=web"


def test_a_replication_controller_uses_its_plain_selector_map() -> None:
    assert list_pods(RC) == "kubectl get pods -l app=legacy"


def test_a_job_lists_the_pods_kubernetes_labels_with_its_name() -> None:
    assert list_pods(JOB) == "kubectl get pods -l job-name=nightly"
