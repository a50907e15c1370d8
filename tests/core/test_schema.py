"""Schema validation: unknown fields, types, versions, hostile shapes."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from advisor.core import schema
from advisor.core.schema import MAX_ISSUES, SUPPORTED_VERSIONS, SchemaIssue, validate
from advisor.core.source import LDict
from tests.conftest import CORPUS


def load_with_lines(text: str) -> Any:
    """Parse one YAML document into LDicts that know their lines (the real parser is elsewhere)."""
    node = yaml.compose(text, Loader=yaml.CSafeLoader)

    def conv(n: yaml.Node) -> Any:
        if isinstance(n, yaml.MappingNode):
            d = LDict()
            d.line = n.start_mark.line + 1
            for k, v in n.value:
                if isinstance(k, yaml.ScalarNode):
                    key = k.value
                else:
                    key = yaml.safe_load(yaml.serialize(k))
                d[key] = conv(v)
                d.lines[key] = k.start_mark.line + 1
            return d
        if isinstance(n, yaml.SequenceNode):
            return [conv(x) for x in n.value]
        return yaml.safe_load(yaml.serialize(n))

    return conv(node)


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, app.kubernetes.io/version: "1.0"}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}
  template:
    metadata:
      labels: {app: web}
      annotations: {prometheus.io/scrape: "true"}
    spec:
      terminationGracePeriodSeconds: 30
      securityContext: {runAsNonRoot: true, fsGroup: 2000}
      initContainers:
      - name: migrate
        image: example/migrate:1.2
        command: [/migrate, --up]
      containers:
      - name: app
        image: example/web:1.2
        ports:
        - {name: http, containerPort: 8080, protocol: TCP}
        env:
        - {name: MODE, value: production}
        - name: POD_IP
          valueFrom: {fieldRef: {fieldPath: status.podIP}}
        resources:
          requests: {cpu: 250m, memory: 256Mi}
          limits: {cpu: 1, memory: 512Mi, ephemeral-storage: 1Gi}
        readinessProbe:
          httpGet: {path: /ready, port: http}
          periodSeconds: 5
        livenessProbe:
          tcpSocket: {port: 8080}
        lifecycle:
          preStop:
            exec: {command: [sleep, "5"]}
        volumeMounts:
        - {name: cache, mountPath: /cache}
      - name: proxy
        image: example/proxy:3
        args: ["--port=9000"]
      volumes:
      - name: cache
        emptyDir: {sizeLimit: 1Gi}
"""


def deployment(pod_spec: str, *, extra: str = "") -> str:
    """Return a Deployment whose pod spec is ``pod_spec`` (indented 6 spaces in the text)."""
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n"
        "spec:\n  selector:\n    matchLabels: {app: d}\n  template:\n"
        "    metadata:\n      labels: {app: d}\n    spec:\n" + pod_spec + extra
    )


def issues_of(text: str, version: str = "1.33") -> tuple[SchemaIssue, ...]:
    return validate(load_with_lines(text), kubernetes_version=version)


def test_it_supports_every_bundled_version_from_125_to_137() -> None:
    assert tuple(f"1.{minor}" for minor in range(25, 38)) == SUPPORTED_VERSIONS


def test_it_finds_nothing_wrong_with_a_realistic_deployment() -> None:
    for version in SUPPORTED_VERSIONS:
        assert issues_of(DEPLOYMENT, version) == ()


def test_it_reports_a_misspelt_init_containers_with_its_line_and_a_suggestion() -> None:
    text = deployment(
        "      initContainer:\n      - {name: init, image: busybox}\n"
        "      containers:\n      - {name: app, image: nginx}\n"
    )
    (issue,) = issues_of(text)
    assert issue == SchemaIssue(
        path="spec.template.spec.initContainer",
        line=12,
        message="unknown field 'initContainer' (did you mean 'initContainers'?)",
        kind="unknown-field",
    )


def test_it_reports_resource_instead_of_resources_on_a_container() -> None:
    text = deployment(
        "      containers:\n      - {name: app, image: nginx}\n"
        "      - name: sidecar\n        image: envoy\n"
        "        resource:\n          requests: {cpu: 100m}\n"
    )
    (issue,) = issues_of(text)
    assert issue.path == "spec.template.spec.containers[1].resource"
    assert issue.line == 16
    assert issue.kind == "unknown-field"
    assert "did you mean 'resources'?" in issue.message


def test_it_knows_native_sidecars_arrived_after_127() -> None:
    text = deployment(
        "      initContainers:\n      - name: proxy\n        image: envoy\n"
        "        restartPolicy: Always\n"
        "      containers:\n      - {name: app, image: nginx}\n"
    )
    (issue,) = issues_of(text, "1.27")
    assert issue.path == "spec.template.spec.initContainers[0].restartPolicy"
    assert issue.line == 15
    assert issue.kind == "unknown-field"
    assert issue.message == (
        "field 'restartPolicy' is not available in Kubernetes 1.27; it exists from 1.28"
    )
    assert issues_of(text, "1.29") == ()


def test_it_knows_which_version_added_pod_level_resources() -> None:
    text = deployment(
        "      resources:\n        limits: {cpu: '2', memory: 1Gi}\n"
        "      containers:\n      - {name: app, image: nginx}\n"
    )
    (issue,) = issues_of(text, "1.31")
    assert issue.path == "spec.template.spec.resources"
    assert issue.line == 12
    assert issue.message.endswith("it exists from 1.32")
    assert issues_of(text, "1.32") == ()
    assert issues_of(text, "1.37") == ()


def test_it_reports_a_wrong_type_but_accepts_a_named_probe_port() -> None:
    text = deployment(
        "      containers:\n      - name: app\n        image: nginx\n"
        "        ports:\n        - name: http\n          containerPort: eighty\n"
        "        livenessProbe:\n          httpGet: {path: /, port: http}\n"
    )
    (issue,) = issues_of(text)
    assert issue == SchemaIssue(
        path="spec.template.spec.containers[0].ports[0].containerPort",
        line=17,
        message="expected an integer, got string 'eighty'",
        kind="wrong-type",
    )


def test_it_reports_a_number_where_kubernetes_wants_text() -> None:
    text = deployment(
        "      containers:\n      - name: app\n        image: nginx\n"
        "        env:\n        - {name: PORT, value: 8080}\n"
    )
    (issue,) = issues_of(text)
    assert issue.path == "spec.template.spec.containers[0].env[0].value"
    assert issue.message == "expected a string, got integer 8080"


def test_it_quotes_odd_map_keys_in_the_path() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels:\n    app.kubernetes.io/v: 1.5\n"
    (issue,) = issues_of(text)
    assert issue.path == 'metadata.labels["app.kubernetes.io/v"]'
    assert issue.line == 5
    assert issue.message == "expected a string, got number 1.5"


def test_it_reports_a_missing_container_name_at_the_containers_line() -> None:
    text = deployment("      containers:\n      - image: nginx\n")
    (issue,) = issues_of(text)
    assert issue == SchemaIssue(
        path="spec.template.spec.containers[0].name",
        line=13,
        message="missing required field 'name'",
        kind="missing-field",
    )


def test_it_reports_an_integer_out_of_range() -> None:
    text = deployment(
        "      containers:\n      - name: app\n        image: nginx\n"
        "        ports: [{containerPort: 99999999999}]\n"
    )
    (issue,) = issues_of(text)
    assert issue.kind == "bad-value"
    assert issue.message == "integer 99999999999 is out of range for int32"


def test_it_checks_enums() -> None:
    obj = {"apiVersion": "apps/v1", "kind": "DeploymentList", "items": [{"kind": "Pod"}]}
    (issue,) = validate(obj, kubernetes_version="1.30")
    assert issue.path == "items[0].kind"
    assert issue.kind == "bad-value"
    assert "'Deployment'" in issue.message


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        ("apiextensions.k8s.io/v1", "MyCustomThing"),
        ("argoproj.io/v1alpha1", "Workflow"),
        ("v1", "List"),
        ("monitoring.coreos.com/v1", "ServiceMonitor"),
        ("apps.example.com/v1", "Deployment"),  # same schema file name as apps/v1
        ("autoscaling/v2beta2", "HorizontalPodAutoscaler"),  # removed before 1.25
        ("apps/v1", "../../deployment"),
        ("apps/v1", "deployment"),
    ],
)
def test_it_ignores_kinds_it_has_no_schema_for(api_version: str, kind: str) -> None:
    obj = {"apiVersion": api_version, "kind": kind, "spec": {"anything": [1, {"goes": True}]}}
    assert validate(obj, kubernetes_version="1.37") == ()


@pytest.mark.parametrize(
    "obj",
    [
        None,
        [1, 2],
        "Deployment",
        {},
        {"kind": ["Deployment"], "apiVersion": {"apps": "v1"}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "spec": [1, 2]},
        {"apiVersion": "apps/v1", "kind": "Deployment", "spec": None, "metadata": 7},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "spec": {"replicas": 10**5000, "template": {"spec": {"containers": 5}}},
        },
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "spec": {"containers": [None, 5, [], {1: 2, None: 3, (1, 2): 4, "name": 1.5e300}]},
        },
        {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"ports": [[[[]]]]}]}},
    ],
)
def test_it_never_raises_on_garbage(obj: Any) -> None:
    issues = validate(obj, kubernetes_version="1.30")
    assert all(isinstance(i, SchemaIssue) for i in issues)


def test_it_describes_garbage_in_plain_words() -> None:
    obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "spec": {"replicas": 10**5000, "template": {"spec": {"containers": 5}}},
    }
    messages = {i.path: i.message for i in validate(obj, kubernetes_version="1.30")}
    assert messages["spec.replicas"] == "a very large integer is out of range for int32"
    assert messages["spec.template.spec.containers"] == "expected an array, got integer 5"
    assert messages["spec.selector"] == "missing required field 'selector'"


@pytest.mark.parametrize("version", ["v1.29", "1.29.4", "banana", "1.10", "2.0", None])
def test_it_tolerates_any_version_text(version: Any) -> None:
    text = deployment("      containers:\n      - {name: app, image: nginx, bogus: 1}\n")
    assert len(validate(load_with_lines(text), kubernetes_version=version)) <= 1


def test_it_stops_descending_very_deep_input_and_carries_on_beside_it() -> None:
    props: dict[str, Any] = {"type": "object"}
    for _ in range(5000):
        props = {"type": "object", "properties": {"x": props}}
    props["typo"] = "walked after the deep branch"
    crd = load_with_lines(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata: {name: things.example.com}\nspec:\n  group: example.com\n"
        "  scope: Namespaced\n  names: {plural: things, kind: Thing}\n"
        "  versions: [{name: v1, served: true, storage: true}]\n"
    )
    crd["spec"]["versions"][0]["schema"] = {"openAPIV3Schema": props}
    (issue,) = validate(crd, kubernetes_version="1.37")
    assert issue.path == "spec.versions[0].schema.openAPIV3Schema.typo"
    assert issue.message == "unknown field 'typo' (did you mean 'type'?)"


def test_it_caps_the_issues_of_one_document() -> None:
    container = {f"field{n}": n for n in range(500)} | {"name": "a"}
    obj = {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [container] * 10}}
    issues = validate(obj, kubernetes_version="1.30")
    assert len(issues) == MAX_ISSUES


def test_it_ignores_status_and_managed_fields_of_a_kubectl_dump() -> None:
    dump = DEPLOYMENT.replace(
        "  name: web\n",
        "  name: web\n  namespace: default\n  uid: 3f1c\n  resourceVersion: '42'\n"
        "  generation: 2\n  creationTimestamp: '2024-05-01T10:00:00Z'\n"
        "  managedFields:\n  - manager: kubectl\n    operation: Update\n"
        "    fieldsV1: {f:spec: {f:replicas: {}}}\n    time: 2024-05-01T10:00:00Z\n"
        "    notAField: at-all\n",
    )
    dump += (
        "status:\n  observedGeneration: 2\n  replicas: 3\n  readyReplicas: 3\n"
        "  conditions:\n  - {type: Available, status: 'True', weird: [1]}\n  anyOldThing: yes\n"
    )
    assert issues_of(dump) == ()


def test_it_validates_plain_dicts_without_lines() -> None:
    obj = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "spec": {"template": {"spec": {"containers": [{"name": "a", "imagee": "x"}]}}},
    }
    (issue,) = validate(obj, kubernetes_version="1.30")
    assert issue.line is None
    assert issue.message == "unknown field 'imagee' (did you mean 'image'?)"


def test_it_compiles_each_schema_once() -> None:
    schema._compile_root.cache_clear()
    obj = load_with_lines(DEPLOYMENT)
    first = validate(obj, kubernetes_version="1.36")
    second = validate(obj, kubernetes_version="1.36")
    info = schema._compile_root.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    assert first == second == ()


def test_it_flags_corpus_native_sidecars_only_on_versions_without_them() -> None:
    path = CORPUS / (
        "GoogleCloudPlatform__cloud-sql-proxy__examples__k8s-service__pgbouncer_deployment.yaml"
    )
    docs = [load_with_lines(chunk) for chunk in path.read_text().split("\n---\n")]
    (deploy,) = [d for d in docs if isinstance(d, dict) and d.get("kind") == "Deployment"]
    assert validate(deploy, kubernetes_version="1.37") == ()
    (issue,) = validate(deploy, kubernetes_version="1.27")
    assert issue.path.endswith("initContainers[0].restartPolicy")
    assert issue.line == 86
