"""Role accuracy over the corpus, through the whole analysis (wiring and workload kind included).

The labels are the roles the corpus tests of test_roles.py assert, plus the cases issue 9 names
(a Job's test runner beside Selenium, Dapr beside its app, several unrelated apps). Each row is
what a careful reviewer would say; the test reports the accuracy and requires every label.
"""

from __future__ import annotations

from advisor.core.analyze import analyze_text
from tests.conftest import FIXTURES, corpus_files

# (file name fragment, workload name or "", container, expected role)
LABELS: tuple[tuple[str, str, str, str], ...] = (
    ("inject__native-sidecar.yaml.injected", "", "istio-proxy", "ambassador"),
    ("inject__native-sidecar.yaml.injected", "", "other-sidecar", "sidecar"),
    ("inject__native-sidecar.yaml.injected", "", "hello", "app"),
    ("inject__cronjob.yaml.injected", "", "istio-init", "init"),
    ("inject__cronjob.yaml.injected", "", "hello", "app"),
    ("multi-container__adapter.yaml", "", "adapter", "adapter"),
    ("multi-container__adapter.yaml", "", "main-app", "app"),
    ("multi-container__ambassador.yaml", "", "ambassador-sidecar", "ambassador"),
    ("multi-container__ambassador.yaml", "", "main-app", "app"),
    ("samples__addons__prometheus.yaml", "", "prometheus-server-configmap-reload", "config-helper"),
    ("samples__addons__prometheus.yaml", "", "prometheus-server", "app"),
    ("blackboxExporter-deployment.yaml", "", "module-configmap-reloader", "config-helper"),
    ("blackboxExporter-deployment.yaml", "", "kube-rbac-proxy", "ambassador"),
    ("blackboxExporter-deployment.yaml", "", "blackbox-exporter", "app"),
    ("kubernetes__git-sync__demo__deployment.yaml", "", "git-sync", "config-helper"),
    ("kubernetes__git-sync__demo__deployment.yaml", "", "http", "app"),
    ("job__job-sidecar-legacy.yaml", "", "logshipper", "sidecar"),
    ("job__job-sidecar-legacy.yaml", "", "myjob", "app"),
    ("pods__two-container-pod.yaml", "", "debian-container", "config-helper"),
    ("pods__two-container-pod.yaml", "", "nginx-container", "app"),
    ("multi-container__startup-coordination.yaml", "", "config-sidecar", "config-helper"),
    ("k8s-redis-and-exporter-deployment.yaml", "", "redis-exporter", "adapter"),
    ("k8s-redis-and-exporter-deployment.yaml", "", "redis", "app"),
    ("two-files-counter-pod-agent-sidecar.yaml", "", "count-agent", "sidecar"),
    ("two-files-counter-pod-streaming-sidecar.yaml", "", "count-log-1", "sidecar"),
    ("csi-hostpath-plugin.yaml", "", "hostpath", "app"),
    ("csi-hostpath-plugin.yaml", "", "node-driver-registrar", "sidecar"),
    # It turns the driver's gRPC Probe into the HTTP healthz the driver's livenessProbe reads
    # (the convention of tests/fixtures/wild/labels.yaml).
    ("csi-hostpath-plugin.yaml", "", "liveness-probe", "adapter"),
    ("csi-hostpath-plugin.yaml", "", "csi-provisioner", "sidecar"),
    ("k8s-service__pgbouncer_deployment.yaml", "", "pgbouncer", "app"),
    ("k8s-service__pgbouncer_deployment.yaml", "", "cloud-sql-proxy", "ambassador"),
    ("application__mysql__mysql-statefulset.yaml", "", "init-mysql", "init"),
    ("application__mysql__mysql-statefulset.yaml", "", "clone-mysql", "init"),
    ("application__mysql__mysql-statefulset.yaml", "", "xtrabackup", "sidecar"),
    ("application__mysql__mysql-statefulset.yaml", "", "mysql", "app"),
    ("vault-agent-k8s-demo__example-k8s-spec.yaml", "", "vault-agent", "init"),
    ("inject_emojivoto_already_injected.input.yml", "web2", "linkerd-proxy", "ambassador"),
    ("pods__share-process-namespace.yaml", "", "shell", "sidecar"),
    ("spire-quickstart.yaml", "spire-server", "spire-controller-manager", "sidecar"),
    ("k8s-sidecar__job_with_sidecar.yaml", "", "cloud-sql-proxy", "ambassador"),
    ("k8s-sidecar__job_with_sidecar.yaml", "", "my-application", "app"),
)

# issue 9's scenarios, as fixtures: (fixture, container, expected role)
FIXTURE_LABELS = (
    ("versions-restart-policy-on-regular-container.yaml", "tests", "app"),
    ("versions-restart-policy-on-regular-container.yaml", "selenium", "sidecar"),
    ("ports-local-port-typo.yaml", "checkout", "app"),
    ("isolation-unrelated-containers.yaml", "billing", "app"),
)


def _roles(text: str, name: str = "") -> dict[str, str]:
    report = analyze_text(text)
    workloads = [w for w in report.workloads if not name or w.workload.name == name]
    return {c.name: c.role for c in workloads[0].containers}


def test_role_accuracy_on_the_labelled_corpus() -> None:
    files = {p.name: p for p in corpus_files()}
    right, wrong = 0, []
    for fragment, workload, container, expected in LABELS:
        (name,) = [n for n in files if fragment in n]
        got = _roles(files[name].read_text(encoding="utf-8"), workload).get(container)
        if got == expected:
            right += 1
        else:
            wrong.append(f"{name} {container}: {got} (expected {expected})")
    for fixture, container, expected in FIXTURE_LABELS:
        text = (FIXTURES / "manifests" / fixture).read_text(encoding="utf-8")
        got = _roles(text).get(container)
        if got == expected:
            right += 1
        else:
            wrong.append(f"{fixture} {container}: {got} (expected {expected})")
    total = len(LABELS) + len(FIXTURE_LABELS)
    print(f"role accuracy: {right}/{total} = {right / total:.1%}")
    assert wrong == []
