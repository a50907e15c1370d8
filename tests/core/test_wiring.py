"""The pod's wiring: typed edges between containers, computed once for roles, rules and charts."""

from __future__ import annotations

from advisor.core.analyze import analyze_text
from advisor.core.model import PodTemplate
from advisor.core.report import to_dict
from advisor.core.wiring import Wiring, wire
from tests.core.test_roles import corpus_pod


def pod(spec: dict, metadata: dict | None = None) -> PodTemplate:
    return PodTemplate.from_raw(spec, metadata or {}, path="inline")


def edges(w: Wiring, kind: str) -> set[tuple[str, str, object]]:
    return {(e.source, e.target, e.port or e.volume) for e in w.edges if e.kind == kind}


DAPR = {
    "containers": [
        {
            "name": "web",
            "image": "example/web:1",
            "ports": [{"containerPort": 8080}],
            "env": [{"name": "DAPR_HTTP_PORT", "value": "3500"}],
        },
        {
            "name": "daprd",
            "image": "daprio/daprd:1.14",
            "args": ["./daprd", "--app-port", "8080", "--dapr-http-port", "3500"],
            "ports": [{"containerPort": 3500}],
        },
    ]
}


def test_it_wires_dapr_both_ways_from_args_and_env() -> None:
    w = wire(pod(DAPR))
    assert edges(w, "network") == {("daprd", "web", 8080), ("web", "daprd", 3500)}
    assert w.linked("web", "daprd")
    assert w.depends_on("web", "daprd") is not None


def test_dapr_is_not_unrelated_to_its_app() -> None:
    text = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: orders}
spec:
  selector: {matchLabels: {app: orders}}
  template:
    metadata: {labels: {app: orders}}
    spec:
      containers:
        - name: orders
          image: example/orders:1
          ports: [{containerPort: 8080}]
        - name: daprd
          image: daprio/daprd:1.14
          args: ["./daprd", "--app-id", "orders", "--app-port", "8080"]
          ports: [{containerPort: 3500}]
"""
    report = analyze_text(text)
    assert "unrelated-containers" not in {f.rule for f in report.workloads[0].findings}
    (edge,) = to_dict(report)["workloads"][0]["wiring"]["edges"]
    assert (edge["kind"], edge["from"], edge["to"], edge["port"]) == (
        "network",
        "daprd",
        "orders",
        8080,
    )
    assert "--app-port 8080" in edge["evidence"] and edge["line"]


def test_it_reads_shared_volumes_as_writer_to_readers() -> None:
    w = wire(
        pod(
            {
                "initContainers": [
                    {
                        "name": "fetch",
                        "image": "alpine",
                        "command": ["sh", "-c", "wget -O /conf/app.yaml http://x/app.yaml"],
                        "volumeMounts": [{"name": "conf", "mountPath": "/conf"}],
                    }
                ],
                "containers": [
                    {
                        "name": "app",
                        "image": "example/app",
                        "volumeMounts": [
                            {"name": "conf", "mountPath": "/etc/app", "readOnly": True}
                        ],
                    },
                    {
                        "name": "shell",
                        "image": "busybox",
                        "volumeMounts": [{"name": "scratch", "mountPath": "/s"}],
                    },
                    {
                        "name": "other",
                        "image": "busybox",
                        "volumeMounts": [{"name": "scratch", "mountPath": "/s"}],
                    },
                ],
                "volumes": [{"name": "conf", "emptyDir": {}}, {"name": "scratch", "emptyDir": {}}],
            }
        )
    )
    assert edges(w, "files") == {("fetch", "app", "conf"), ("other", "shell", "scratch")}
    directed = {e.volume: e.directed for e in w.edges}
    assert directed == {"conf": True, "scratch": False}
    assert w.depends_on("app", "fetch") is not None
    assert w.depends_on("shell", "other") is None  # nothing says who writes


def test_it_wires_the_istio_proxy_to_every_container_both_ways() -> None:
    w = wire(corpus_pod("inject__native-sidecar.yaml.injected"))
    assert w.mesh_proxy == "istio-proxy"
    kinds = edges(w, "interception")
    assert ("hello", "istio-proxy", None) in kinds
    assert any(s == "istio-proxy" and t == "hello" for s, t, _ in kinds)
    assert w.depends_on("hello", "istio-proxy") is not None


def test_it_wires_the_iptables_init_container_to_the_proxy() -> None:
    w = wire(corpus_pod("inject__cronjob.yaml.injected"))
    assert ("istio-init", "istio-proxy", None) in edges(w, "interception")


def test_it_joins_a_shared_process_namespace() -> None:
    w = wire(corpus_pod("pods__share-process-namespace.yaml"))
    assert edges(w, "process") == {("shell", "nginx", None)}


def test_it_spots_a_call_one_typo_away_from_a_served_port() -> None:
    spec = {
        "containers": [
            {"name": "app", "image": "a", "args": ["--db=127.0.0.1:5433"]},
            {"name": "proxy", "image": "p", "args": ["--listen=0.0.0.0:5432"]},
        ]
    }
    (loose,) = wire(pod(spec)).dangling
    assert (loose.container, loose.port) == ("app", 5433)
    assert loose.near is not None and (loose.near.container, loose.near.port) == ("proxy", 5432)


def test_it_ignores_localhost_calls_with_host_networking() -> None:
    spec = {
        "hostNetwork": True,
        "containers": [{"name": "app", "image": "a", "args": ["--agent=localhost:8126"]}],
    }
    assert wire(pod(spec)).dangling == ()


def test_it_stays_linear_on_a_pod_with_hundreds_of_containers() -> None:
    n = 400
    containers = [
        {
            "name": f"c{i}",
            "image": "busybox",
            "ports": [{"containerPort": 10000 + i}],
            "env": [{"name": "NEXT", "value": f"http://localhost:{10000 + (i + 1) % n}"}],
            "volumeMounts": [{"name": "shared", "mountPath": "/s"}],
        }
        for i in range(n)
    ]
    w = wire(pod({"containers": containers, "shareProcessNamespace": True}))
    # a ring of calls, one star for the shared volume, one for the process namespace
    assert len(edges(w, "network")) == n
    assert len(edges(w, "files")) == n - 1
    assert len(edges(w, "process")) == n - 1
    assert w.linked("c0", f"c{n - 1}")


SELENIUM_JOB = """
apiVersion: batch/v1
kind: Job
metadata: {name: e2e}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: tests
          image: python:3.13
          command: ["pytest", "-x", "tests/e2e"]
          env:
            - {name: SELENIUM_URL, value: "http://localhost:4444/wd/hub"}
        - name: selenium
          image: selenium/standalone-chrome:4.21
          ports: [{containerPort: 4444}]
"""


def test_a_jobs_test_runner_is_the_app_and_selenium_its_helper() -> None:
    (w,) = analyze_text(SELENIUM_JOB).workloads
    roles = {c.name: c.role for c in w.containers}
    assert roles["tests"] == "app"
    assert roles["selenium"] != "app"
    assert "runs its own command" in next(c.reason for c in w.containers if c.name == "tests")
    rules = {f.rule: f for f in w.findings}
    assert rules["classic-sidecar-blocks-job"].container == "selenium"


def test_separate_servers_are_apps_and_the_warning_says_so() -> None:
    text = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: bundle}
spec:
  selector: {matchLabels: {app: bundle}}
  template:
    metadata: {labels: {app: bundle}}
    spec:
      containers:
        - {name: billing, image: example/billing:1, ports: [{containerPort: 8080}]}
        - {name: search, image: example/search:1, ports: [{containerPort: 9200}]}
        - {name: mailer, image: example/mailer:1, ports: [{containerPort: 2525}]}
"""
    (w,) = analyze_text(text).workloads
    assert {c.role for c in w.containers} == {"app"}
    (finding,) = [f for f in w.findings if f.rule == "unrelated-containers"]
    assert "separate apps" in finding.message
    assert "separate apps share this pod" in w.advice.summary
    assert w.advice.patterns == ()


def test_the_summary_names_role_and_lifecycle() -> None:
    from tests.core.rules.fixtures_test_helpers import MANIFESTS

    text = (MANIFESTS / "probes-sidecar-without-startup-probe.yaml").read_text()
    (w,) = analyze_text(text).workloads
    assert "cloud-sql-proxy: ambassador, as a native sidecar" in w.advice.summary


def test_a_helper_that_depends_on_the_app_is_not_asked_for_a_startup_probe() -> None:
    text = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      initContainers:
        - name: auth
          image: example/auth-gate:1
          restartPolicy: Always
          args: ["--upstream=http://127.0.0.1:8080", "--http-address=0.0.0.0:4180"]
      containers:
        - {name: api, image: example/api:1, ports: [{containerPort: 8080}]}
"""
    (w,) = analyze_text(text).workloads
    assert "sidecar-without-startup-probe" not in {f.rule for f in w.findings}
    called = text.replace(
        "ports: [{containerPort: 8080}]}", "env: [{name: A, value: 'localhost:4180'}]}"
    )
    (w,) = analyze_text(called).workloads
    assert "sidecar-without-startup-probe" in {f.rule for f in w.findings}


def test_the_startup_notes_say_who_waits_for_whom() -> None:
    (w,) = analyze_text(SELENIUM_JOB).workloads
    assert any(
        "'tests' needs 'selenium' at start" in note and "start together" in note
        for note in w.startup.notes
    )


def test_csi_sidecars_connect_to_the_drivers_socket() -> None:
    w = wire(corpus_pod("csi-hostpath-plugin.yaml"))
    files = [e for e in w.edges if e.kind == "files" and e.volume == "socket-dir"]
    assert files and {e.source for e in files} == {"hostpath"}


def test_a_helper_republishing_the_apps_status_is_an_adapter() -> None:
    spec = {
        "containers": [
            {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 8080}]},
            {
                "name": "bridge",
                "image": "example/status-bridge:1",
                "args": ["--scrape-uri=http://localhost:8080/stub_status"],
                "ports": [{"containerPort": 7000}],
            },
        ]
    }
    from advisor.core.roles import classify

    roles = {a.container: a for a in classify(pod(spec), kind="Deployment")}
    assert roles["web"].role == "app"
    assert roles["bridge"].role == "adapter"
    assert "port 8080" in roles["bridge"].reason and "port 7000" in roles["bridge"].reason
