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
