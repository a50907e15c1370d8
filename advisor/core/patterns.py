"""The multi-container pattern catalogue, and starter manifests for the questionnaire's answer.

Facts from ``docs/kubernetes-semantics.md`` sections (b), (d) and (f) and the seed articles;
the catalogue is data so the web UI, the decision matrix and the tests read the same text.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any, Literal

import yaml

from advisor.core.lazy import lazy_re
from advisor.core.records import dataclass
from advisor.core.versions import NEWEST, SUPPORTED, feature_state, format_version

HelperForm = Literal["init", "native", "classic", "separate"]
WORKLOAD_KINDS = ("Deployment", "Job")


@dataclass(frozen=True)
class Pattern:
    """One way to arrange an app and its helper, with when to pick it and what bites."""

    id: str
    title: str
    summary: str
    when_to_use: tuple[str, ...]
    pitfalls: tuple[str, ...]
    min_version: tuple[int, int] | None
    example_yaml: str


_INIT_EXAMPLE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: orders-api
spec:
  replicas: 3
  selector:
    matchLabels:
      app: orders-api
  template:
    metadata:
      labels:
        app: orders-api
    spec:
      initContainers:
        # Each init container must exit 0 before the next one (and then the app) starts.
        - name: wait-for-db
          image: postgres:17-alpine
          command: ["sh", "-c", "until pg_isready -h orders-db -p 5432; do sleep 2; done"]
          resources:
            requests:
              cpu: 10m
              memory: 16Mi
        - name: fetch-config
          image: curlimages/curl:8.11.1
          args: ["-fsS", "-o", "/config/orders.yaml", "http://config-service/orders.yaml"]
          volumeMounts:
            - name: config
              mountPath: /config
          resources:
            requests:
              cpu: 10m
              memory: 16Mi
      containers:
        - name: orders-api
          image: registry.example/orders/api:3.2.0
          args: ["--config=/config/orders.yaml"]
          ports:
            - containerPort: 8080
          volumeMounts:
            - name: config
              mountPath: /config
              readOnly: true
          resources:
            requests:
              cpu: 250m
              memory: 256Mi
      volumes:
        - name: config
          emptyDir: {}
"""

_NATIVE_EXAMPLE = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: nightly-export
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      initContainers:
        - name: log-shipper
          image: fluent/fluent-bit:3.2.4
          restartPolicy: Always  # native sidecar: stopped once the export has finished
          args: ["--config=/fluent-bit/etc/fluent-bit.yaml"]
          ports:
            - name: http
              containerPort: 2020
          startupProbe:  # the export starts only after the shipper answers
            httpGet:
              path: /api/v1/health
              port: http
            periodSeconds: 2
            failureThreshold: 15
          volumeMounts:
            - name: logs
              mountPath: /var/log/export
              readOnly: true
            - name: fluent-bit-config
              mountPath: /fluent-bit/etc
          resources:
            requests:
              cpu: 50m
              memory: 64Mi
      containers:
        - name: export
          image: registry.example/reports/export:2.3.1
          args: ["--since=24h", "--log-file=/var/log/export/run.log"]
          volumeMounts:
            - name: logs
              mountPath: /var/log/export
          resources:
            requests:
              cpu: 500m
              memory: 512Mi
      volumes:
        - name: logs
          emptyDir: {}
        - name: fluent-bit-config
          configMap:
            name: export-fluent-bit
"""

_CLASSIC_EXAMPLE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: docs-site
spec:
  replicas: 2
  selector:
    matchLabels:
      app: docs-site
  template:
    metadata:
      labels:
        app: docs-site
    spec:
      containers:
        - name: web
          image: nginx:1.27-alpine
          ports:
            - containerPort: 80
          volumeMounts:
            - name: content
              mountPath: /usr/share/nginx/html
              readOnly: true
          resources:
            requests:
              cpu: 100m
              memory: 64Mi
        # Classic sidecar: starts with nginx and keeps the served files in step with git.
        - name: git-sync
          image: registry.k8s.io/git-sync/git-sync:v4.4.0
          args:
            - --repo=https://github.com/example/docs-site
            - --ref=main
            - --root=/git
            - --link=current
            - --period=60s
          volumeMounts:
            - name: content
              mountPath: /git
          resources:
            requests:
              cpu: 20m
              memory: 32Mi
      volumes:
        - name: content
          emptyDir: {}
"""

_AMBASSADOR_EXAMPLE = """\
# Needs Kubernetes 1.29+ for the native sidecar. On older clusters list the proxy under
# containers instead, and make the app retry until the proxy accepts connections.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: billing-api
spec:
  replicas: 3
  selector:
    matchLabels:
      app: billing-api
  template:
    metadata:
      labels:
        app: billing-api
    spec:
      serviceAccountName: billing-api
      initContainers:
        - name: cloud-sql-proxy
          image: gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.3
          restartPolicy: Always  # up before the app's first query, down after its last
          args:
            - --port=5432
            - --health-check
            - --http-address=0.0.0.0
            - --http-port=9090
            - --exit-zero-on-sigterm
            - example-project:europe-west1:billing-db
          startupProbe:
            httpGet:
              path: /startup
              port: 9090
            periodSeconds: 1
            failureThreshold: 30
          securityContext:
            runAsNonRoot: true
          resources:
            requests:
              cpu: 100m
              memory: 64Mi
      containers:
        - name: billing-api
          image: registry.example/billing/api:4.2.0
          env:
            - name: DATABASE_HOST
              value: "127.0.0.1"  # the ambassador on localhost, not the database itself
            - name: DATABASE_PORT
              value: "5432"
          ports:
            - containerPort: 8080
          resources:
            requests:
              cpu: 300m
              memory: 384Mi
"""

_ADAPTER_EXAMPLE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: storefront
spec:
  replicas: 2
  selector:
    matchLabels:
      app: storefront
  template:
    metadata:
      labels:
        app: storefront
    spec:
      containers:
        - name: storefront
          image: nginx:1.27-alpine
          ports:
            - name: http
              containerPort: 8080
          volumeMounts:
            - name: nginx-config  # serves stub_status on :8080 for the adapter
              mountPath: /etc/nginx/conf.d
          resources:
            requests:
              cpu: 200m
              memory: 128Mi
        # Adapter: turns nginx's stub_status page into Prometheus metrics on :9113.
        - name: metrics-adapter
          image: nginx/nginx-prometheus-exporter:1.4.1
          args:
            - --nginx.scrape-uri=http://localhost:8080/stub_status
          ports:
            - name: metrics
              containerPort: 9113
          resources:
            requests:
              cpu: 20m
              memory: 32Mi
      volumes:
        - name: nginx-config
          configMap:
            name: storefront-nginx
"""

_SEPARATE_DEPLOYMENT_EXAMPLE = """\
# A shared egress proxy: its own Deployment and Service, scaled on its own traffic.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: egress-proxy
spec:
  replicas: 3
  selector:
    matchLabels:
      app: egress-proxy
  template:
    metadata:
      labels:
        app: egress-proxy
    spec:
      containers:
        - name: envoy
          image: envoyproxy/envoy:v1.32.3
          args: ["--config-path", "/etc/envoy/envoy.yaml"]
          ports:
            - name: proxy
              containerPort: 10000
          readinessProbe:
            httpGet:
              path: /ready
              port: 9901
          volumeMounts:
            - name: envoy-config
              mountPath: /etc/envoy
          resources:
            requests:
              cpu: 500m
              memory: 256Mi
      volumes:
        - name: envoy-config
          configMap:
            name: egress-proxy-envoy
---
apiVersion: v1
kind: Service
metadata:
  name: egress-proxy
spec:
  selector:
    app: egress-proxy
  ports:
    - name: proxy
      port: 10000
      targetPort: proxy
---
# One of many apps that send their outbound calls through the shared proxy.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: catalog
spec:
  replicas: 4
  selector:
    matchLabels:
      app: catalog
  template:
    metadata:
      labels:
        app: catalog
    spec:
      containers:
        - name: catalog
          image: registry.example/catalog:3.0.2
          env:
            - name: HTTPS_PROXY
              value: http://egress-proxy:10000
          ports:
            - containerPort: 8080
          resources:
            requests:
              cpu: 250m
              memory: 256Mi
"""

_SEPARATE_PODS_EXAMPLE = """\
# Two apps of one team, each in its own Deployment: they share no files and no localhost.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: registry.example/shop/web:5.1.0
          ports:
            - containerPort: 8080
          resources:
            requests:
              cpu: 250m
              memory: 256Mi
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: report-worker
spec:
  replicas: 1
  selector:
    matchLabels:
      app: report-worker
  template:
    metadata:
      labels:
        app: report-worker
    spec:
      containers:
        - name: report-worker
          image: registry.example/shop/report-worker:1.8.2
          resources:
            requests:
              cpu: 100m
              memory: 512Mi
"""

PATTERNS: dict[str, Pattern] = {
    p.id: p
    for p in (
        Pattern(
            id="init-container",
            title="Init container",
            summary="A container under initContainers that runs to completion before any of the "
            "app's containers start. Init containers run one at a time in the order listed, "
            "and each has to exit successfully before the next one begins.",
            when_to_use=(
                "Fetch configuration or secrets into a shared volume before the app reads them.",
                "Wait until a dependency outside the pod, such as a database Service, accepts "
                "connections.",
                "Fix ownership or permissions of files on a volume.",
                "Run a short, repeatable preparation step before the app starts.",
            ),
            pitfalls=(
                "It has to exit: an init container that keeps running holds the pod in Init "
                "for ever, and it may not have probes or lifecycle hooks.",
                "Every new pod runs it again, so a migration placed here runs once per replica "
                "and concurrently during a scale-out; make it idempotent or run it as a Job.",
                "It cannot wait for a helper listed under containers of the same pod: those "
                "only start after every init container has finished.",
                "The largest init container request is part of the pod's effective request, "
                "so a heavy setup step makes the pod harder to schedule.",
            ),
            min_version=None,
            example_yaml=_INIT_EXAMPLE,
        ),
        Pattern(
            id="native-sidecar",
            title="Native sidecar",
            summary="A helper listed under initContainers with restartPolicy: Always. It starts "
            "in its place among the init containers, keeps running beside the app for the "
            "pod's whole life and is stopped only after the app containers have exited; a "
            "startupProbe on it holds back every container listed after it until it is ready.",
            when_to_use=(
                "A long-running helper (log shipper, proxy, config reloader) on Kubernetes "
                "1.29 or newer.",
                "The app needs the helper to be ready before it starts.",
                "A helper in a Job or CronJob, which must not keep the Job from completing.",
                "A helper that must outlive the app at shutdown, for example to send the last "
                "log lines.",
            ),
            pitfalls=(
                "Without a startupProbe the next container starts as soon as the helper's "
                "process runs, not when the helper is ready.",
                "Its requests count for the pod's whole life, on top of the app's: the pod's "
                "effective request grows by every sidecar's request.",
                "Order matters: a plain init container listed before the sidecar runs without "
                "it, so list the sidecar first when the setup step needs it.",
                "The kubelet restarts it whenever it exits, even with restartPolicy: Never on "
                "the pod; a step that should run once belongs in a plain init container.",
                "Non-zero exit codes from sidecars while the pod shuts down are normal; do not "
                "alert on them.",
            ),
            min_version=(1, 29),
            example_yaml=_NATIVE_EXAMPLE,
        ),
        Pattern(
            id="classic-sidecar",
            title="Classic sidecar",
            summary="A helper listed as another entry under containers, next to the app. It "
            "starts alongside the app with no readiness ordering, is told to stop at the same "
            "time, and counts as an ordinary container for pod phase and Job completion.",
            when_to_use=(
                "A long-running helper on a cluster older than 1.29.",
                "Start-up and shutdown order do not matter, e.g. a helper that refreshes files "
                "the app re-reads.",
                "Tooling or an injector that expects helpers under containers.",
            ),
            pitfalls=(
                "Nothing makes the app wait for it: the app may run before the helper is ready "
                "and must retry.",
                "At shutdown it is signalled together with the app and may exit first, losing "
                "the last logs or connections unless a preStop hook delays it.",
                "In a Job or CronJob it keeps the pod running after the app has finished, so "
                "the Job never completes unless the helper exits on a signal from the app.",
                "Replicas copy the whole pod, so the helper scales with the app whether it "
                "needs to or not.",
            ),
            min_version=None,
            example_yaml=_CLASSIC_EXAMPLE,
        ),
        Pattern(
            id="ambassador",
            title="Ambassador",
            summary="A proxy inside the pod that handles the app's outbound connections: the "
            "app talks to a plain endpoint on localhost and the ambassador takes care of TLS, "
            "discovery, retries or sharding. From 1.29 declare it as a native sidecar so it is "
            "ready before the app's first call and still up during its last.",
            when_to_use=(
                "Add mutual TLS, retries or circuit breaking without changing the app.",
                "Reach a sharded or clustered backend through one local endpoint.",
                "Give a third-party app you cannot change a modern way to connect, such as a "
                "cloud database proxy.",
            ),
            pitfalls=(
                "Every replica carries its own proxy: its CPU and memory are paid per pod, and "
                "a busy proxy becomes that pod's bottleneck.",
                "A proxy that many apps share is a different design: run it as its own "
                "Deployment behind a Service.",
                "Each call pays an extra hop through localhost; check the latency budget.",
                "As a classic sidecar it can come up after the app and go down before it, so "
                "outbound calls fail at start-up and during shutdown.",
            ),
            min_version=None,
            example_yaml=_AMBASSADOR_EXAMPLE,
        ),
        Pattern(
            id="adapter",
            title="Adapter",
            summary="A helper that translates what the app exposes (logs, metrics, a status "
            "page) into the format the rest of the platform expects. The app keeps its own "
            "format and the adapter is the only piece that knows both sides.",
            when_to_use=(
                "Publish Prometheus metrics for an app that only has its own stats endpoint.",
                "Turn an app's log files into structured records for the log pipeline.",
                "Offer a standard health or API endpoint in front of a legacy app.",
            ),
            pitfalls=(
                "It is glue between two formats it does not own: when either side changes, "
                "data can vanish without an error. Version and test it like a dependency.",
                "As a classic sidecar it may stop before the app and lose the last lines or "
                "samples.",
                "In a Job it must be a native sidecar (1.29+) or exit on a signal, otherwise "
                "it keeps the Job running.",
            ),
            min_version=None,
            example_yaml=_ADAPTER_EXAMPLE,
        ),
        Pattern(
            id="separate-deployment",
            title="Separate Deployment and Service",
            summary="Run the helper as its own Deployment and reach it through a Service. It "
            "scales, rolls out and fails independently of the app, at the price of a network "
            "hop instead of localhost.",
            when_to_use=(
                "A proxy or gateway that many apps share and that carries a lot of traffic.",
                "A helper whose load does not grow with each app replica.",
                "A helper that needs nothing a pod shares: no common volume, localhost or "
                "process view.",
            ),
            pitfalls=(
                "Calls now cross the network: set timeouts and retries and expect more "
                "latency than localhost.",
                "It becomes a dependency of every caller: run several replicas, add a "
                "PodDisruptionBudget and autoscale it on its own load.",
                "The app can start before the Service has ready endpoints; retry in the app, "
                "or let an init container wait for the Service.",
            ),
            min_version=None,
            example_yaml=_SEPARATE_DEPLOYMENT_EXAMPLE,
        ),
        Pattern(
            id="separate-pods",
            title="Separate pods",
            summary="Give each app its own workload. Containers belong in one pod only when "
            "they share a lifecycle, files or localhost; being owned by the same team is not "
            "such a reason.",
            when_to_use=(
                "Two apps that talk over the network, or not at all.",
                "Components with different release cycles, scaling needs or failure modes.",
            ),
            pitfalls=(
                "If one app turns out to need the other's files or localhost, that coupling is "
                "what a sidecar is for: reconsider.",
                "Each workload needs its own requests, probes and disruption budget.",
            ),
            min_version=None,
            example_yaml=_SEPARATE_PODS_EXAMPLE,
        ),
    )
}

POD_HELPER_PATTERNS = ("native-sidecar", "classic-sidecar", "ambassador", "adapter")
HELPER_PORT = 9000
APP_PORT = 8080
APP_REQUESTS = ("250m", "256Mi")
HELPER_REQUESTS = ("50m", "64Mi")
_PLAIN_SCALAR = lazy_re(r"[A-Za-z0-9][A-Za-z0-9._/:@+-]*")


def yaml_scalar(value: str) -> str:
    """Render ``value`` as a one-line YAML scalar that reads back as exactly ``value``."""
    if _PLAIN_SCALAR.fullmatch(value) and yaml.safe_load(value) == value:
        return value
    # ASCII-only double quotes: every line break and control character becomes an escape.
    text = yaml.safe_dump(value, default_style='"', width=float("inf"), allow_unicode=False)
    return text.strip()


def helper_form(
    pattern_id: str, *, workload: str, kubernetes_version: tuple[int, int]
) -> HelperForm:
    """Say how a starter manifest declares the helper for this pattern, workload and version."""
    if pattern_id == "init-container":
        return "init"
    if pattern_id not in POD_HELPER_PATTERNS:
        return "separate"
    native = feature_state("SidecarContainers", kubernetes_version).enabled_by_default
    wants_native = pattern_id in ("native-sidecar", "ambassador") or workload == "Job"
    return "native" if native and wants_native else "classic"


@dataclass(frozen=True)
class _Names:
    """User-chosen names and images, already rendered as safe YAML scalars."""

    app: str
    app_image: str
    helper: str
    helper_image: str
    helper_url: str


def starter_manifest(
    pattern_id: str,
    *,
    app_name: str = "app",
    app_image: str = "registry.example/app:1.0",
    helper_name: str = "helper",
    helper_image: str = "registry.example/helper:1.0",
    workload: str = "Deployment",
    kubernetes_version: tuple[int, int] = NEWEST,
) -> str:
    """Return a starter manifest that applies ``pattern_id`` to the given app and helper."""
    _check_starter(pattern_id, workload, kubernetes_version, app_name, helper_name)
    for label, value in (("app_image", app_image), ("helper_image", helper_image)):
        if not value.strip():
            raise ValueError(f"{label} must not be empty")
    names = _Names(
        app=yaml_scalar(app_name),
        app_image=yaml_scalar(app_image),
        helper=yaml_scalar(helper_name),
        helper_image=yaml_scalar(helper_image),
        helper_url=yaml_scalar(f"http://{helper_name}:{HELPER_PORT}"),
    )
    form = helper_form(pattern_id, workload=workload, kubernetes_version=kubernetes_version)
    notes = _starter_notes(pattern_id, form, workload, kubernetes_version)
    docs = [
        _comment(notes)
        + _workload_doc(workload, names.app, _pod_lines(pattern_id, form, workload, names))
    ]
    if pattern_id == "separate-deployment":
        solo = _solo_pod(
            names.helper, names.helper_image, port=HELPER_PORT, requests=HELPER_REQUESTS
        )
        docs += [_workload_doc("Deployment", names.helper, solo), _service(names.helper)]
    elif pattern_id == "separate-pods":
        solo = _solo_pod(names.helper, names.helper_image, port=APP_PORT, requests=APP_REQUESTS)
        docs.append(_workload_doc("Deployment", names.helper, solo))
    return "---\n".join(docs)


def _check_starter(
    pattern_id: str,
    workload: str,
    version: tuple[int, int],
    app_name: str,
    helper_name: str,
) -> None:
    if pattern_id not in PATTERNS:
        raise ValueError(f"unknown pattern {pattern_id!r}; choose one of {', '.join(PATTERNS)}")
    if workload not in WORKLOAD_KINDS:
        raise ValueError(f"workload must be Deployment or Job, not {workload!r}")
    if tuple(version) not in SUPPORTED:
        raise ValueError(f"Kubernetes {version!r} is not a supported version")
    if not app_name.strip() or not helper_name.strip():
        raise ValueError("app_name and helper_name must not be empty")
    if app_name == helper_name:
        raise ValueError("app_name and helper_name must differ: container names are unique")


def _solo_pod(name: str, image: str, *, port: int, requests: tuple[str, str]) -> list[str]:
    """Return the pod spec lines of a workload that runs one container on its own."""
    return [
        "containers:",
        *_indent(_container(name, image, requests=requests, port=port, shared=False), 2),
    ]


def _container(
    name: str,
    image: str,
    *,
    requests: tuple[str, str],
    port: int | None = None,
    env: Sequence[tuple[str, str]] = (),
    native: bool = False,
    shared: bool = True,
    command: str = "",
    args: Sequence[str] = (),
    port_name: str = "",
) -> list[str]:
    """Return the lines of one container list entry, at indentation zero.

    ``command``, ``args`` and ``port_name`` are fixed text of this module (never user input):
    they show the analyser, and the reader, what the helper does for the app.
    """
    lines = [f"- name: {name}", f"  image: {image}"]
    if native:
        lines.append("  restartPolicy: Always  # native sidecar")
    if command:
        lines.append(f"  command: {command}")
    if args:
        lines += ["  args:", *(f"    - {a}" for a in args)]
    if port is not None:
        lines += ["  ports:", f"    - containerPort: {port}"]
        if port_name:
            lines.append(f"      name: {port_name}")
    if env:
        lines.append("  env:")
        for key, value in env:
            lines += [f"    - name: {key}", f"      value: {value}"]
    if native:
        lines += [
            "  startupProbe:  # replace with a check that passes once the helper is ready",
            "    tcpSocket:",
            f"      port: {port}",
            "    periodSeconds: 2",
            "    failureThreshold: 30",
        ]
    if shared:
        lines += ["  volumeMounts:", "    - name: shared", "      mountPath: /shared"]
    cpu, memory = requests
    return [*lines, "  resources:", "    requests:", f"      cpu: {cpu}", f"      memory: {memory}"]


def _pod_lines(pattern_id: str, form: HelperForm, workload: str, names: _Names) -> list[str]:
    """Return the pod spec lines of the app's workload (with its helper, if in the pod)."""
    env: list[tuple[str, str]] = []
    if pattern_id == "ambassador":
        env.append(("UPSTREAM_URL", f"http://localhost:{HELPER_PORT}"))
    elif pattern_id == "separate-deployment":
        env.append(("HELPER_URL", names.helper_url))
    app_port = APP_PORT if workload == "Deployment" else None
    in_pod = form != "separate"
    app = _container(
        names.app, names.app_image, requests=APP_REQUESTS, port=app_port, env=env, shared=in_pod
    )
    lines = ["restartPolicy: Never"] if workload == "Job" else []
    if not in_pod:
        return [*lines, "containers:", *_indent(app, 2)]
    helper = _container(
        names.helper,
        names.helper_image,
        requests=HELPER_REQUESTS,
        port=None if form == "init" else HELPER_PORT,
        native=form == "native",
        **_helper_work(pattern_id, form, workload),
    )
    if form in ("init", "native"):
        lines += ["initContainers:", *_indent(helper, 2)]
    lines += ["containers:", *_indent(app, 2)]
    if form == "classic":
        lines += _indent(helper, 2)
    return [*lines, "volumes:", "  - name: shared", "    emptyDir: {}"]


UPSTREAM_EXAMPLE = "https://api.example.com"
# A classic helper in a Job must exit when the app is done: the app writes /shared/done.
JOB_HELPER_COMMAND = (
    '["sh", "-c", "/helper{args} & until [ -f /shared/done ]; do sleep 1; done"]'
    "  # replace /helper with the helper's program"
)


def _helper_work(pattern_id: str, form: HelperForm, workload: str) -> dict[str, Any]:
    """What the starter's helper is told to do, so the manifest shows its role.

    An ambassador forwards the app's calls to an upstream; an adapter serves a port named
    ``metrics``; a classic helper in a Job exits once the app signals it is done.
    """
    work: dict[str, Any] = {}
    upstream = f"--upstream={UPSTREAM_EXAMPLE}"
    if pattern_id == "ambassador":
        work["args"] = (f"{upstream}  # where the proxy forwards the app's calls",)
    elif pattern_id == "adapter":
        work["port_name"] = "metrics"
    if form == "classic" and workload == "Job":
        flags = f" {upstream}" if pattern_id == "ambassador" else ""
        work["command"] = JOB_HELPER_COMMAND.format(args=flags)
        work.pop("args", None)
    return work


def _workload_doc(kind: str, name: str, pod: list[str]) -> str:
    """Wrap pod spec lines in a Deployment or a Job named ``name``."""
    if kind == "Job":
        head = [
            "apiVersion: batch/v1",
            "kind: Job",
            "metadata:",
            f"  name: {name}",
            "spec:",
            "  backoffLimit: 2",
            "  template:",
            "    spec:",
        ]
    else:
        head = [
            "apiVersion: apps/v1",
            "kind: Deployment",
            "metadata:",
            f"  name: {name}",
            "spec:",
            "  replicas: 2",
            "  selector:",
            "    matchLabels:",
            f"      app: {name}",
            "  template:",
            "    metadata:",
            "      labels:",
            f"        app: {name}",
            "    spec:",
        ]
    return "\n".join([*head, *_indent(pod, 6)]) + "\n"


def _service(name: str) -> str:
    """Return a ClusterIP Service in front of the helper's Deployment."""
    lines = [
        "apiVersion: v1",
        "kind: Service",
        "metadata:",
        f"  name: {name}",
        "spec:",
        "  selector:",
        f"    app: {name}",
        "  ports:",
        f"    - port: {HELPER_PORT}",
        f"      targetPort: {HELPER_PORT}",
    ]
    return "\n".join(lines) + "\n"


def _indent(lines: list[str], width: int) -> list[str]:
    return [" " * width + line for line in lines]


def _comment(paragraphs: Sequence[str]) -> str:
    """Turn fixed explanatory text (never user input) into YAML comment lines."""
    out = []
    for text in paragraphs:
        out += ["# " + line for line in textwrap.wrap(text, width=96)]
    return "".join(line + "\n" for line in out)


def _starter_notes(
    pattern_id: str, form: HelperForm, workload: str, version: tuple[int, int]
) -> list[str]:
    """Explain, in fixed words, how the starter declares the helper and why."""
    if form == "init":
        return [_INIT_NOTE]
    if form == "separate":
        return [_SEPARATE_NOTES[pattern_id]]
    if form == "native":
        return [_NATIVE_NOTE] + ([_NATIVE_JOB_NOTE] if workload == "Job" else [])
    notes = [_CLASSIC_NOTE]
    if pattern_id in ("native-sidecar", "ambassador") or workload == "Job":
        notes.insert(
            0,
            f"Kubernetes {feature_stage('SidecarContainers', version)}, so the helper is a "
            "classic sidecar under containers instead of a native one.",
        )
    if workload == "Job":
        notes.append(_CLASSIC_JOB_NOTE)
    return notes


def feature_stage(name: str, version: tuple[int, int]) -> str:
    """Describe, as a clause without a full stop, where feature gate ``name`` stands."""
    state = feature_state(name, version)
    f = state.feature
    what = f.what[0].upper() + f.what[1:]
    if state.stage == "ga":
        return f"{what} are GA since 1.{f.ga}"
    if state.stage == "beta" and f.ga is not None:
        return f"{what} are beta (on by default) in 1.{f.beta}-1.{f.ga - 1} and GA from 1.{f.ga}"
    if state.stage == "beta":
        return f"{what} are beta and on by default from 1.{f.beta}, not GA yet"
    v = format_version(version)
    if state.stage == "alpha":
        return f"{v}: {f.name} is alpha and off by default (on by default from 1.{f.beta})"
    return f"{v}: {f.name} does not exist yet (alpha in 1.{f.alpha}, on by default from 1.{f.beta})"


_INIT_NOTE = (
    "The helper is an init container: it runs to completion before the app starts, must exit, "
    "and runs again in every new pod. Use /shared to hand files to the app."
)
_NATIVE_NOTE = (
    "The helper is a native sidecar (initContainers with restartPolicy: Always): it starts "
    "before the app, its startupProbe holds the app back until the helper is ready, and it is "
    "stopped after the app."
)
_NATIVE_JOB_NOTE = (
    "In a Job the native sidecar does not count towards completion: the kubelet stops it once "
    "the app container has finished."
)
_CLASSIC_NOTE = (
    "A classic sidecar under containers starts and stops together with the app, so the app "
    "must cope with the helper not being ready yet."
)
_CLASSIC_JOB_NOTE = (
    "In a Job a helper under containers keeps the pod running after the app finishes, so the "
    "Job never completes unless the helper exits on a signal: for example the app writes "
    "/shared/done when it is finished and the helper watches for that file, or the app calls "
    "a shutdown endpoint on the helper (such as /quitquitquit)."
)
_SEPARATE_NOTES = {
    "separate-deployment": "The helper runs as its own Deployment behind a Service and scales "
    "on its own load; the app reaches it through the Service name in HELPER_URL.",
    "separate-pods": "The two apps are separate workloads: they share nothing, and each "
    "scales, fails and rolls out on its own.",
}
