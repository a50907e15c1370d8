"""Container roles: catalogue matches, structural evidence and long-running verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from advisor.core.errors import InputError
from advisor.core.intake import POD_PATHS
from advisor.core.model import Container, PodTemplate
from advisor.core.roles import (
    ROLES,
    Catalogue,
    RoleAssignment,
    classify,
    image_keys,
    is_long_running,
    load_catalogue,
)
from tests.conftest import CORPUS, corpus_files

# kind -> keys leading from the object to the mapping that holds the pod's metadata and spec
TEMPLATE_KEYS = POD_PATHS


def objects_in(document: Any) -> list[dict]:
    """Return the objects of one YAML document, opening ``kind: List`` and top-level lists."""
    if isinstance(document, list):
        return [o for o in document if isinstance(o, dict)]
    if isinstance(document, dict) and document.get("kind") == "List":
        return [o for o in document.get("items") or [] if isinstance(o, dict)]
    return [document] if isinstance(document, dict) else []


def template_of(obj: dict) -> dict | None:
    """Return the mapping holding the pod template's metadata and spec, if the kind has one."""
    keys = TEMPLATE_KEYS.get(str(obj.get("kind")))
    if keys is None:
        return None
    holder: Any = obj
    for key in keys:
        holder = holder.get(key) if isinstance(holder, dict) else None
    return holder if isinstance(holder, dict) else None


def pods_in(path: Path) -> dict[str, PodTemplate]:
    """Build every pod template of a corpus file, keyed by the object's name."""
    pods: dict[str, PodTemplate] = {}
    for index, document in enumerate(yaml.safe_load_all(path.read_text(encoding="utf-8"))):
        for obj in objects_in(document):
            holder = template_of(obj)
            if holder is None:
                continue
            name = str((obj.get("metadata") or {}).get("name") or f"document-{index}")
            pods[name] = PodTemplate.from_raw(
                holder.get("spec"), holder.get("metadata"), path=f"{path.name}#{index}"
            )
    return pods


def corpus_pod(fragment: str, name: str | None = None) -> PodTemplate:
    """Return the pod of the one corpus file whose name contains ``fragment``."""
    matches = [p for p in corpus_files() if fragment in p.name]
    assert len(matches) == 1, f"{fragment!r} matches {[m.name for m in matches]}"
    pods = pods_in(matches[0])
    return pods[name] if name else next(iter(pods.values()))


def roles_of(pod: PodTemplate) -> dict[str, RoleAssignment]:
    return {a.container: a for a in classify(pod)}


def role_of_image(image: str, catalogue: Catalogue | None = None) -> str | None:
    entry = (catalogue or load_catalogue()).match(image)
    return entry.role if entry else None


def container(raw: Any, *, init: bool = False) -> Container:
    return Container.from_raw(raw, index=0, in_init_list=init)


def test_it_has_the_corpus() -> None:
    assert CORPUS.is_dir(), f"the corpus is missing at {CORPUS}"


def test_it_makes_the_istio_native_proxy_an_ambassador() -> None:
    roles = roles_of(corpus_pod("inject__native-sidecar.yaml.injected"))
    proxy = roles["istio-proxy"]
    assert (proxy.lifecycle, proxy.role, proxy.source) == (
        "native-sidecar",
        "ambassador",
        "catalogue",
    )
    assert proxy.catalogue_id == "istio-proxy"
    assert proxy.reason.startswith("istio-proxy (Envoy) image:")
    assert proxy.long_running
    assert roles["other-sidecar"].role == "sidecar"
    assert roles["hello"].role == "app"


def test_it_makes_the_istio_init_container_init_and_names_its_image() -> None:
    roles = roles_of(corpus_pod("inject__cronjob.yaml.injected"))
    init = roles["istio-init"]
    assert (init.role, init.catalogue_id, init.long_running) == ("init", "istio-proxy", False)
    assert "istio-proxy (Envoy)" in init.reason
    assert roles["hello"].role == "app"
    assert roles["hello"].long_running is False  # date; echo ...


def test_it_makes_the_website_adapter_an_adapter() -> None:
    roles = roles_of(corpus_pod("multi-container__adapter.yaml"))
    adapter = roles["adapter"]
    assert (adapter.role, adapter.source) == ("adapter", "structure")
    assert "shared-logs" in adapter.reason
    assert adapter.long_running
    assert roles["main-app"].role == "app"


def test_it_makes_the_socat_sidecar_an_ambassador() -> None:
    roles = roles_of(corpus_pod("multi-container__ambassador.yaml"))
    assert roles["ambassador-sidecar"].role == "ambassador"
    assert roles["ambassador-sidecar"].catalogue_id == "socat"
    assert roles["main-app"].role == "app"


def test_it_makes_the_prometheus_config_reloader_a_config_helper() -> None:
    roles = roles_of(corpus_pod("samples__addons__prometheus.yaml"))
    reloader = roles["prometheus-server-configmap-reload"]
    assert (reloader.role, reloader.source) == ("config-helper", "catalogue")
    assert roles["prometheus-server"].role == "app"


def test_it_makes_configmap_reload_a_config_helper_beside_a_known_exporter() -> None:
    roles = roles_of(corpus_pod("blackboxExporter-deployment.yaml"))
    assert roles["module-configmap-reloader"].role == "config-helper"
    assert roles["kube-rbac-proxy"].role == "ambassador"
    app = roles["blackbox-exporter"]
    assert app.role == "app"
    assert "app.kubernetes.io/name" in app.reason


def test_it_makes_git_sync_a_config_helper() -> None:
    roles = roles_of(corpus_pod("kubernetes__git-sync__demo__deployment.yaml"))
    assert roles["git-sync"].role == "config-helper"
    assert roles["git-sync"].catalogue_id == "git-sync"
    assert roles["http"].role == "app"
    assert roles["http"].long_running


def test_it_makes_the_legacy_tail_sidecar_a_long_running_sidecar() -> None:
    roles = roles_of(corpus_pod("job__job-sidecar-legacy.yaml"))
    shipper = roles["logshipper"]
    assert (shipper.lifecycle, shipper.role, shipper.source) == ("regular", "sidecar", "structure")
    assert "/opt/logs.txt" in shipper.reason and "'data'" in shipper.reason
    assert shipper.long_running
    assert "tail -F" in shipper.long_running_reason
    assert roles["myjob"].role == "app"
    assert roles["myjob"].long_running is False


def test_it_sees_that_the_two_container_helper_writes_once_and_exits() -> None:
    roles = roles_of(corpus_pod("pods__two-container-pod.yaml"))
    helper = roles["debian-container"]
    assert helper.long_running is False
    assert "echo" in helper.long_running_reason
    assert helper.role == "config-helper"
    assert "shared-data" in helper.reason
    assert roles["nginx-container"].role == "app"


def test_it_finds_a_config_writer_through_the_shared_volume() -> None:
    roles = roles_of(corpus_pod("multi-container__startup-coordination.yaml"))
    helper = roles["config-sidecar"]
    assert (helper.role, helper.source) == ("config-helper", "structure")
    assert "/config/app.conf" in helper.reason and "main-app" in helper.reason


def test_it_makes_metrics_exporters_adapters() -> None:
    roles = roles_of(corpus_pod("k8s-redis-and-exporter-deployment.yaml"))
    assert roles["redis-exporter"].role == "adapter"
    assert roles["redis"].role == "app"


def test_it_makes_log_shippers_sidecars() -> None:
    roles = roles_of(corpus_pod("two-files-counter-pod-agent-sidecar.yaml"))
    assert roles["count-agent"].role == "sidecar"
    assert roles["count-agent"].catalogue_id == "fluentd"
    streaming = roles_of(corpus_pod("two-files-counter-pod-streaming-sidecar.yaml"))
    assert streaming["count-log-1"].role == "sidecar"
    assert "/var/log/1.log" in streaming["count-log-1"].reason


def test_it_makes_csi_helpers_sidecars_around_the_driver() -> None:
    roles = roles_of(corpus_pod("csi-hostpath-plugin.yaml"))
    assert roles["hostpath"].role == "app"
    helpers = {name: a.role for name, a in roles.items() if name != "hostpath"}
    # The livenessprobe turns the driver's gRPC Probe into the HTTP healthz its livenessProbe
    # reads: an adapter. The registrar, attacher, provisioner and the rest are sidecars.
    assert helpers.pop("liveness-probe") == "adapter"
    assert len(helpers) == 6 and set(helpers.values()) == {"sidecar"}


def test_it_keeps_a_lone_catalogue_image_as_the_app() -> None:
    roles = roles_of(corpus_pod("k8s-service__pgbouncer_deployment.yaml"))
    assert roles["pgbouncer"].role == "app"
    assert roles["cloud-sql-proxy"].role == "ambassador"
    assert role_of_image("bitnami/pgbouncer:1.22") == "ambassador"


def test_it_makes_plain_init_containers_init() -> None:
    pod = corpus_pod("application__mysql__mysql-statefulset.yaml")
    roles = roles_of(pod)
    assert roles["init-mysql"].role == "init"
    assert "'conf'" in roles["init-mysql"].reason
    assert (roles["clone-mysql"].role, roles["clone-mysql"].catalogue_id) == ("init", "xtrabackup")
    assert roles["xtrabackup"].role == "sidecar"
    assert roles["mysql"].role == "app"
    assert all(not roles[c.name].long_running for c in pod.init_containers)


def test_it_mentions_the_catalogue_for_vault_agent_run_as_init() -> None:
    agent = roles_of(corpus_pod("vault-agent-k8s-demo__example-k8s-spec.yaml"))["vault-agent"]
    assert (agent.role, agent.catalogue_id) == ("init", "vault-agent")
    assert "Vault Agent" in agent.reason


def test_it_matches_by_container_name_when_the_image_is_missing() -> None:
    pod = corpus_pod("inject_emojivoto_already_injected.input.yml", "web2")
    proxy = roles_of(pod)["linkerd-proxy"]
    assert (proxy.role, proxy.catalogue_id) == ("ambassador", "linkerd-proxy")
    assert "container name" in proxy.reason


def test_it_lists_init_containers_first_in_declared_order() -> None:
    pod = corpus_pod("inject__multi-init.yaml.injected")
    names = [a.container for a in classify(pod)]
    assert names == ["istio-init", "istio-proxy", "init-one", "init-two", "hello"]


def test_it_calls_an_unexplained_second_container_a_sidecar() -> None:
    shell = roles_of(corpus_pod("pods__share-process-namespace.yaml"))["shell"]
    assert (shell.role, shell.source) == ("sidecar", "default")
    assert shell.reason == "a second long-running container in the pod"


def test_it_does_not_take_a_webhook_port_for_metrics() -> None:
    roles = roles_of(corpus_pod("spire-quickstart.yaml", "spire-server"))
    assert roles["spire-controller-manager"].role == "sidecar"


def test_it_finds_a_socat_relay_and_an_upstream_flag_without_the_catalogue() -> None:
    pod = PodTemplate.from_raw(
        {
            "containers": [
                {"name": "web", "image": "example/web:1", "ports": [{"containerPort": 8080}]},
                {
                    "name": "relay",
                    "image": "alpine:3",
                    "command": ["sh", "-c", "socat TCP-LISTEN:5432,fork TCP:db.example:5432"],
                },
                {
                    "name": "guard",
                    "image": "example/guard",
                    "args": ["--upstream=http://127.0.0.1:8080/"],
                },
            ]
        },
        {},
        path="inline",
    )
    roles = roles_of(pod)
    assert roles["relay"].role == "ambassador" and "db.example:5432" in roles["relay"].reason
    assert roles["guard"].role == "ambassador" and "127.0.0.1:8080" in roles["guard"].reason


def test_it_finds_a_metrics_adapter_reading_the_app_over_localhost() -> None:
    pod = PodTemplate.from_raw(
        {
            "containers": [
                {"name": "legacy", "image": "example/legacy:5", "ports": [{"containerPort": 8778}]},
                {
                    "name": "translate",
                    "image": "example/jolokia-bridge:1",
                    "args": ["--source=http://localhost:8778/jolokia"],
                    "ports": [{"name": "prom-metrics", "containerPort": 5556}],
                },
            ]
        },
        {},
        path="inline",
    )
    assert roles_of(pod)["translate"].role == "adapter"


def test_it_lets_a_team_catalogue_override_and_extend_the_bundled_one(tmp_path: Path) -> None:
    extra = tmp_path / "team.yaml"
    extra.write_text(
        "- id: istio-proxy\n  title: Our mesh proxy\n  role: sidecar\n  match: [proxyv2]\n"
        "- id: hoge\n  title: Hoge cache\n  role: ambassador\n  match: [hoge]\n"
        "  long_running: true\n  needs_ready_before_app: true\n"
        "  description: local cache the app talks to\n",
        encoding="utf-8",
    )
    catalogue = load_catalogue(extra)
    overridden = catalogue.get("istio-proxy")
    assert overridden is not None and overridden.title == "Our mesh proxy"
    assert sum(e.id == "istio-proxy" for e in catalogue.entries) == 1
    assert len(catalogue.entries) == len(load_catalogue().entries) + 1
    assert catalogue.entries[0].id == "istio-proxy"  # team entries are tried first
    pod = corpus_pod("validating__success-with-istio__deployment.yaml")
    roles = {a.container: a for a in classify(pod, catalogue=catalogue)}
    assert (roles["hoge"].role, roles["hoge"].source) == ("ambassador", "catalogue")
    assert roles["nginx"].role == "app"
    istio = corpus_pod("inject__native-sidecar.yaml.injected")
    proxy = {a.container: a for a in classify(istio, catalogue=catalogue)}["istio-proxy"]
    assert proxy.role == "sidecar" and proxy.reason.startswith("Our mesh proxy")


def test_it_lets_a_later_team_file_win_over_an_earlier_one(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("- {id: cache, role: ambassador, match: [cache]}\n", encoding="utf-8")
    second.write_text("- {id: cache, role: sidecar, match: [cache]}\n", encoding="utf-8")
    assert role_of_image("example/cache:1", load_catalogue(first, second)) == "sidecar"


@pytest.mark.parametrize(
    "text",
    [
        "id: not-a-list\n",
        "- just a string\n",
        "- {id: x, role: init, match: [x]}\n",
        "- {id: x, role: sidecar}\n",
        "- {role: sidecar, match: [x]}\n",
        "- [unclosed\n",
    ],
)
def test_it_rejects_a_broken_team_catalogue(tmp_path: Path, text: str) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_catalogue(broken)
    assert "broken.yaml" in str(caught.value)


def test_it_reports_a_missing_team_catalogue(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        load_catalogue(tmp_path / "absent.yaml")


def test_it_caches_the_bundled_catalogue() -> None:
    assert load_catalogue() is load_catalogue()


def test_it_bundles_a_catalogue_of_well_known_images() -> None:
    entries = load_catalogue().entries
    assert len(entries) >= 30
    assert len({e.id for e in entries}) == len(entries)
    assert all(e.role in ROLES and e.role != "init" for e in entries)
    assert all(e.match and e.description and e.title for e in entries)
    assert {e.role for e in entries} == {"ambassador", "sidecar", "adapter", "config-helper"}


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("docker.io/istio/proxyv2:1.2", "istio-proxy"),
        ("gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.11", "cloud-sql-proxy"),
        ("gcr.io/cloudsql-docker/gce-proxy:1.11", "cloud-sql-proxy"),
        ("cr.l5d.io/linkerd/proxy:stable-2.14", "linkerd-proxy"),
        ("ghcr.io/jimmidyson/configmap-reload:v0.15.0@sha256:" + "a" * 64, "configmap-reload"),
        ("quay.io/prometheus/node-exporter:v1.12.1", "prometheus-exporter"),
        ("oliver006/redis_exporter", "redis-exporter"),
        ("localhost:5000/fluent/fluent-bit:3.0", "fluent-bit"),
        ("registry.k8s.io/git-sync/git-sync:v4.2.3", "git-sync"),
        ("registry.k8s.io/sig-storage/csi-provisioner:v6.3.0", "csi-provisioner"),
        ("kuiken/twemproxy:0.5", "twemproxy"),
        ("hashicorp/vault:1.17", "vault-agent"),
        ("example.com/team/proxy:1", None),
        ("nginx:1.29", None),
        ("busybox", None),
        ("", None),
    ],
)
def test_it_matches_image_repository_names(image: str, expected: str | None) -> None:
    entry = load_catalogue().match(image)
    assert (entry.id if entry else None) == expected


def test_it_strips_registry_tag_and_digest() -> None:
    keys = image_keys("docker.io/istio/proxyv2:1.2@sha256:abc")
    assert keys.segment == "proxyv2"
    assert keys.paths == ("istio/proxyv2", "docker.io/istio/proxyv2")
    assert image_keys("127.0.0.1:31500/php-app:latest").segment == "php-app"


@pytest.mark.parametrize(
    ("raw", "expected", "words"),
    [
        ({"command": ["sleep", "infinity"]}, True, "forever"),
        ({"command": ["sh", "-c", "tail -f /var/log/app.log"]}, True, "tail -f"),
        ({"args": ["/bin/sh", "-c", "while true; do date; sleep 5; done"]}, True, "loops"),
        ({"command": ["sleep", "3600"]}, True, "hour"),
        ({"command": ["sh", "-c", "echo hi; sleep 5"]}, False, "sleep 5"),
        ({"command": ["sh", "-c", "cp /src/app.war /app && exit"]}, False, "cp"),
        ({"command": "sh -c 'echo one-off'"}, False, "echo"),
        ({"image": "nginx:1.29"}, True, "nginx"),
        ({"command": ["redis-server", "--port", "6379"]}, True, "redis-server"),
        (
            {"image": "registry.k8s.io/git-sync/git-sync:v4", "args": ["--one-time"]},
            False,
            "--one-time",
        ),
        ({"image": "docker.io/istio/proxyv2:1.22"}, True, "istio-proxy"),
        (
            {"image": "example/worker:2", "command": ["/worker", "--queue=jobs"]},
            True,
            "nothing shows",
        ),
        ({"command": ["cat"], "stdin": True}, True, "nothing shows"),
    ],
)
def test_it_tells_whether_a_container_keeps_running(raw: dict, expected: bool, words: str) -> None:
    running, reason = is_long_running(container({"name": "c", **raw}))
    assert running is expected
    assert words in reason


def test_it_never_calls_a_plain_init_container_long_running() -> None:
    running, reason = is_long_running(container({"command": ["sleep", "infinity"]}, init=True))
    assert running is False and "init" in reason


def test_it_survives_garbage_containers() -> None:
    spec = {
        "initContainers": [None, "text", {"restartPolicy": "Always", "command": 7}],
        "containers": [
            5,
            {"name": 3, "image": ["x"], "command": "echo hi", "args": {"a": 1}},
            {"name": "odd", "volumeMounts": "nope", "ports": [None, {"containerPort": "x"}]},
            {"name": "tailer", "command": ["tail", "-F"], "volumeMounts": [{"mountPath": 1}]},
            {},
        ],
        "volumes": "nope",
    }
    pod = PodTemplate.from_raw(spec, "not a mapping", path="garbage")
    roles = classify(pod)
    assert len(roles) == 8
    assert all(a.role in ROLES and a.reason and a.long_running_reason for a in roles)
    assert sum(a.role == "app" for a in roles) == 1
    assert classify(PodTemplate.from_raw(None, None, path="empty")) == ()


def test_it_gives_every_corpus_container_a_role() -> None:
    seen = 0
    for path in corpus_files():
        for name, pod in pods_in(path).items():
            roles = classify(pod)
            where = f"{path.name} / {name}"
            assert [a.container for a in roles] == [c.name for c in pod.all_containers], where
            for assignment, c in zip(roles, pod.all_containers, strict=True):
                assert assignment.role in ROLES, where
                assert assignment.reason.strip() and assignment.long_running_reason.strip(), where
                assert assignment.source in ("catalogue", "structure", "wiring", "default"), where
                assert (assignment.role == "init") == (c.lifecycle == "init"), where
            if pod.containers:
                # one primary app; more only for separate apps the wiring shows unlinked
                apps = [a for a in roles if a.role == "app"]
                assert len(apps) == 1 or sum(a.source != "wiring" for a in apps) == 1, where
            seen += len(roles)
    assert seen >= 150


# --- roles read from the wiring (classes seen in the wild set) ------------------------------


def pod_of(spec: dict, labels: dict | None = None) -> PodTemplate:
    return PodTemplate.from_raw(spec, {"labels": labels or {}}, path="test.yaml")


def test_any_vendors_proxy_behind_a_redirecting_init_container_is_an_ambassador() -> None:
    pod = pod_of(
        {
            "initContainers": [
                {
                    "name": "mesh-init",
                    "image": "example/mesh-init:1",
                    "args": ["install", "transparent-proxy", "--uid=5678"],
                    "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}},
                }
            ],
            "containers": [
                {"name": "web", "image": "example/web:1", "ports": [{"containerPort": 8080}]},
                {
                    "name": "dp",
                    "image": "example/dataplane:1",
                    "securityContext": {"runAsUser": 5678},
                },
            ],
        }
    )
    roles = roles_of(pod)
    assert roles["web"].role == "app"
    assert roles["dp"].role == "ambassador" and "mesh-init" in roles["dp"].reason
    # Without the redirect the same opaque container has nothing marking it as a proxy.
    plain = pod_of({"containers": pod.spec["containers"]})
    assert roles_of(plain)["dp"].role == "sidecar"


def test_a_helper_serving_the_port_another_containers_probe_reads_is_an_adapter() -> None:
    pod = pod_of(
        {
            "containers": [
                {
                    "name": "driver",
                    "image": "example/driver:1",
                    "ports": [{"name": "healthz", "containerPort": 9809}],
                    "livenessProbe": {"httpGet": {"path": "/healthz", "port": "healthz"}},
                },
                {"name": "health", "image": "example/health:1", "args": ["--health-port=9809"]},
            ]
        }
    )
    roles = roles_of(pod)
    assert roles["driver"].role == "app"
    assert roles["health"].role == "adapter" and "livenessProbe" in roles["health"].reason


def test_a_known_agent_the_app_calls_on_localhost_is_an_ambassador_but_a_local_server_is_not() -> (
    None
):
    app = {
        "name": "shop",
        "image": "example/shop:1",
        "env": [{"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://localhost:4318"}],
    }
    collector = {"name": "otel", "image": "otel/opentelemetry-collector-contrib:0.100.0"}
    roles = roles_of(pod_of({"containers": [app, collector]}, {"app": "shop"}))
    assert roles["otel"].role == "ambassador" and "4318" in roles["otel"].reason
    # The same collector with nothing calling it stays a sidecar.
    quiet = dict(app, env=[])
    assert roles_of(pod_of({"containers": [quiet, collector]}, {"app": "shop"}))["otel"].role == (
        "sidecar"
    )


def test_every_container_of_a_job_that_runs_to_completion_is_an_app() -> None:
    from advisor.core.analyze import analyze_text

    text = """
apiVersion: batch/v1
kind: Job
metadata: {name: two-steps}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - {name: first, image: busybox, command: [sh, -c, "echo one"]}
        - {name: second, image: busybox, command: [sh, -c, "echo two"]}
"""
    (workload,) = analyze_text(text).workloads
    assert {c.name: c.role for c in workload.containers} == {"first": "app", "second": "app"}


def test_the_app_is_the_container_named_like_the_pod_not_the_first_with_probes() -> None:
    probe = {"httpGet": {"path": "/", "port": 4040}}
    pod = pod_of(
        {
            "containers": [
                {
                    "name": "leader-elector",
                    "image": "example/elector:1",
                    "args": ["--http=0.0.0.0:4040"],
                    "livenessProbe": probe,
                },
                {
                    "name": "injector",
                    "image": "example/injector:1",
                    "args": ["--listen=:8080"],
                    "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}},
                },
            ]
        },
        {"app.kubernetes.io/name": "vault-injector"},
    )
    roles = roles_of(pod)
    assert roles["injector"].role == "app" and "'injector'" in roles["injector"].reason
    assert roles["leader-elector"].role == "sidecar"


def _first_fit(catalogue: Catalogue, image: str, name: str = "") -> str | None:
    """The catalogue's first entry fitting the image (or name), by trying every pattern."""
    from advisor.core.roles import ImageKeys, _fits

    if image.strip():
        keys = image_keys(image)
    elif name.strip():
        keys = ImageKeys(segment=name.strip().lower(), paths=())
    else:
        return None
    entry = next((e for e in catalogue.entries if any(_fits(p, keys) for p in e.match)), None)
    return entry.id if entry else None


def test_its_pattern_index_finds_what_trying_every_pattern_finds(tmp_path: Path) -> None:
    # Patterns in every form (plain segment, path, glob, mixed case, blank), overlapping so
    # that a later plain pattern and an earlier glob both fit: the earlier entry must win.
    extra = tmp_path / "team.yaml"
    extra.write_text(
        "- {id: glob-first, role: sidecar, match: ['fluent-bit-*', '  ']}\n"
        "- {id: path-only, role: adapter, match: ['Acme/Exporter', 'registry.acme.io/acme/tool']}\n"
        "- {id: plain, role: ambassador, match: [fluent-bit-debug, Exporter, node-exporter]}\n"
        "- {id: any-tool, role: sidecar, match: ['acme/*', '*tool?']}\n",
        encoding="utf-8",
    )
    bundled, team = load_catalogue(), load_catalogue(extra)
    images = ["", "  ", "nginx:1.27", "busybox", "Exporter", "acme/exporter:1", "tools"]
    for entry in bundled.entries:
        for pattern in entry.match:
            for fill in ("", "x", "node"):
                image = pattern.strip().replace("*", fill).replace("?", "z")
                images += [image, f"{image}:1.0", f"docker.io/library/{image}"]
                images.append(f"quay.io/a/{image}")
    images += ["fluent-bit-debug", "registry.acme.io/acme/tool:2", "acme/toolz", "ACME/EXPORTER"]
    for catalogue in (bundled, team, bundled):
        for image in images:
            found = catalogue.match(image)
            assert (found.id if found else None) == _first_fit(catalogue, image), image
            by_name = catalogue.match("", image)  # no image: the name is compared instead
            assert (by_name.id if by_name else None) == _first_fit(catalogue, "", image), image
    # Each catalogue remembers its own answers: the team's entries come first.
    assert team.match("fluent-bit-debug").id == "glob-first"  # type: ignore[union-attr]
    assert bundled.match("fluent-bit-debug").id != "glob-first"  # type: ignore[union-attr]
