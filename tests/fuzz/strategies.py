"""Hypothesis strategies: Kubernetes manifests, plausible and hostile, as objects and as text.

Objects first (:func:`manifest_docs`): Pods, Deployments, Jobs, CronJobs, StatefulSets,
DaemonSets, ReplicaSets, ReplicationControllers and PodTemplates with random init containers,
native sidecars (``restartPolicy: Always``) and regular containers; resources with valid and
invalid quantities; probes, lifecycle hooks, ports, env and grace periods with odd values; HPAs
of every API version pointing at them (or at nothing); Secrets, Services, Lists, bare scalars.
Any node may then be swapped for a value of the wrong type or dropped (:func:`corrupt`).

Then text (:func:`render`): ``yaml.safe_dump_all``'s YAML (SafeDumper, usually with the C
emitter) in block, flow or mixed style (shared objects become anchors and aliases), or
``json.dumps``; sometimes CRLF, a byte-order mark, or bytes in UTF-8/UTF-16. :func:`mutated`
damages the text: random characters and bytes inserted, slices deleted, truncation, tabs, stray
``---``/``...``, anchors, aliases, merge keys, tags, directives, unbalanced brackets and quotes.

Secrets planted by :func:`secret_manifest` carry a unique :data:`MARKER` so a leak past
redaction is found by a plain substring search.
"""

from __future__ import annotations

import copy
import json
import os
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import yaml
from hypothesis import HealthCheck, seed, settings
from hypothesis import strategies as st

from advisor.core.matrix import NEEDS

# -- run bookkeeping ---------------------------------------------------------------------------

COUNTS: Counter[str] = Counter()  # examples run, per test; printed at the end of the session
# One seed for the whole run, printed in the header and the summary; FUZZ_SEED replays a run.
SEED = int(os.environ.get("FUZZ_SEED") or random.SystemRandom().randrange(2**32))


def fuzz(share: float, *, fixtures: bool = False) -> Callable[[Any], Any]:
    """Decorate a property: its share of the profile's example budget, and the run's seed.

    ``fixtures``: the test uses function-scoped fixtures (Django's), shared by its examples.
    """
    current = settings.default
    count = max(10, round(current.max_examples * share))
    checks = list(current.suppress_health_check)
    if fixtures:
        checks.append(HealthCheck.function_scoped_fixture)

    def decorate(test: Any) -> Any:
        return seed(SEED)(settings(max_examples=count, suppress_health_check=checks)(test))

    return decorate


def count(name: str) -> None:
    COUNTS[name] += 1


# -- building blocks -------------------------------------------------------------------------
#
# Generation dominates the run time, and Hypothesis pays per draw: leaves are one draw from a
# pool of typical and hostile values (a pool entry may itself be a strategy), and a mapping's
# optional keys are chosen by one bitmask. Both shrink towards the first entry / no keys.


@st.composite
def _pick(draw: st.DrawFn, items: tuple[Any, ...], index: st.SearchStrategy[int]) -> Any:
    item = items[draw(index)]
    if isinstance(item, st.SearchStrategy):
        return draw(item)
    return copy.deepcopy(item) if isinstance(item, list | dict) else item


def pick(*items: Any) -> st.SearchStrategy[Any]:
    """One of ``items`` (values, or strategies drawn from); repeat an item to weight it."""
    return _pick(items, st.integers(0, len(items) - 1))


@st.composite
def _record(
    draw: st.DrawFn,
    required: dict[str, Any],
    optional: dict[str, st.SearchStrategy[Any]],
    mask: st.SearchStrategy[int],
    sparse: bool,
) -> dict[Any, Any]:
    out = {k: draw(v) if isinstance(v, st.SearchStrategy) else v for k, v in required.items()}
    chosen = draw(mask)
    if sparse:  # each optional key a quarter of the time rather than half
        chosen &= draw(mask)
    for i, (key, strategy) in enumerate(optional.items()):
        if chosen >> i & 1:
            out[key] = draw(strategy)
    return out


def record(
    required: dict[str, Any], optional: dict[str, Any] | None = None, *, sparse: bool = False
) -> st.SearchStrategy[dict[Any, Any]]:
    """A mapping with ``required`` keys and some of ``optional``'s (values or strategies)."""
    opt = {
        k: v if isinstance(v, st.SearchStrategy) else st.just(v)
        for k, v in (optional or {}).items()
    }
    return _record(required, opt, st.integers(0, (1 << len(opt)) - 1), sparse)


XSS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
MARKER = "Zs3cretZ"  # every planted secret value contains MARKER + a unique hex suffix

# Printable or control characters, never NUL (libyaml and the web refuse NUL as binary anyway)
# and never lone surrogates (not encodable as UTF-8).
WILD_CHARS = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
WILD_TEXT = st.text(WILD_CHARS, max_size=24)
SPECIAL_STRINGS = [
    *XSS,
    "\u202eevil\u202c",  # RTL override
    "عربي-sidecar",
    "🚀-sidecar",
    "名前",
    "a" * 300,
    "x" * 64,
    "",
    " ",
    "\t",
    "null",
    "~",
    "yes",
    "no",
    "0x1F",
    "1e3",
    "-",
    "---",
    "...",
    "&a",
    "*a",
    "<<",
    "{{ .Values.name }}",
    "'; DROP TABLE reviews; --",
    "\x1b[31mred",
    "line\nbreak",
    "cr\ronly",
    "nel\x85line",
    "ls\u2028line",
    "\u200b",
    "\ufeffbom",
    "%s%n",
    "../../etc/passwd",
]
SPECIAL_TEXT = st.sampled_from(SPECIAL_STRINGS)
DNS_NAMES = [
    "app",
    "web",
    "api",
    "db",
    "sidecar",
    "istio-proxy",
    "envoy",
    "log-shipper",
    "logshipper",
    "fluent-bit",
    "cloud-sql-proxy",
    "proxy",
    "init-config",
    "setup",
    "migrate",
    "exporter",
    "helper",
    "worker",
    "a",
    "x1",
    "my-app-0",
    "very-long-name-" + "x" * 48,
]
DNS_NAME = pick(*DNS_NAMES, st.text("abcxyz019-", min_size=1, max_size=12))


@st.composite
def deep(draw: st.DrawFn) -> Any:
    """Nesting from 1 to 150 levels of lists or mappings (the core refuses past 100)."""
    depth = draw(st.integers(1, 150))
    value: Any = None
    as_map = draw(st.booleans())
    for _ in range(depth):
        value = {"a": value} if as_map else [value]
    return value


GARBAGE_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**64,
    -(2**80),
    1.5,
    -0.0,
    1e308,
    float("nan"),
    float("inf"),
    "",
    "x",
    "0",
    "Always",
    [],
    {},
    [1, "a", None],
    [[[]]],
    {"k": None},
    {"": ""},
    {"containers": [{"name": "x"}]},
    *XSS,
    "\u202eevil\u202c",
    "🚀",
    "a" * 5000,
]
GARBAGE = pick(
    *GARBAGE_VALUES,
    st.integers(),
    st.floats(),
    WILD_TEXT,
    SPECIAL_TEXT,
    st.lists(pick(None, 1, "a", True), max_size=3),
    st.dictionaries(WILD_TEXT, pick(None, 1, "a"), max_size=2),
    deep(),
)
NAME = pick(*DNS_NAMES, *DNS_NAMES, *XSS, SPECIAL_TEXT, SPECIAL_TEXT, WILD_TEXT, GARBAGE)

WEIRD_INT = pick(
    *[0, 1, 2, 5, 10, 15, 30, 30, 60, 90, 120, 600, 3600],
    *[-1, -30, 86400, 2**31, 2**63, 10**20, -(10**6)],
    *["30", "abc", "", "1e3", "30s", "-1", "0x10", "١٢"],
    *[1.5, 0.5, float("nan"), float("inf"), True, False, None, [1], {"s": 1}],
    st.integers(0, 200),
    st.integers(),
)

VALID_QUANTITIES = [
    "100m",
    "1.5Gi",
    "1e3",
    "0.1",
    "250Mi",
    "1",
    "0",
    "2Gi",
    "500k",
    "1E",
    "128974848",
    "129e6",
    "123Mi",
    "0.5",
    "1Ki",
    "+1",
    "1e-3",
    ".5",
    "5.",
    "1n",
    "1u",
    "100M",
    "1Ti",
    "1Pi",
    "1Ei",
    "3E2",
    "0.000000001",
    "7.5e-9",
]
INVALID_QUANTITIES = [
    "12x",
    "-1",
    "",
    "1..2",
    "99999999999999999999999Ei",
    "9" * 80 + "Ei",
    "1.5.5",
    "Mi",
    "1 Gi",
    " 1",
    "1e",
    "1e1000000",
    "0x10",
    "1_000",
    "١٢٣",
    "1Mi ",
    "--1",
    "1e+",
    "NaN",
    "Infinity",
    "1KiB",
    "9" * 1000,
    "1e-1000000",
    "-0",
    "1ei",
]
QUANTITY = pick(
    *VALID_QUANTITIES,
    *VALID_QUANTITIES,
    *INVALID_QUANTITIES,
    *[0, 1, 2, 100, 10**12, -5, 2**80, 1.5, 0.25, 1e-7, 1e25, 1e96, float("nan"), float("inf")],
    *[True, None, [], {"a": 1}],
    st.integers(),
    st.floats(),
    st.from_regex(r"\A[+-]?[0-9]{0,4}(\.[0-9]{0,3})?([eE][+-]?[0-9]{1,3}|[numkMGTPE]i?)?\Z"),
)
RESOURCE_NAME = pick(
    "cpu", "cpu", "memory", "memory", "ephemeral-storage", "nvidia.com/gpu", "hugepages-2Mi", "CPU"
)
RESOURCE_MAP = pick(*[st.dictionaries(RESOURCE_NAME, QUANTITY, max_size=3)] * 8, GARBAGE)
RESOURCES = pick(*[record({}, {"requests": RESOURCE_MAP, "limits": RESOURCE_MAP})] * 8, GARBAGE)

PORT = pick(
    *[80, 8080, 443, 5432, 15090, 9090, 80, 8080, 0, -1, 65535, 65536, 70000, 10**20],
    *["http", "80", "", "metrics", "8080x", None, True, 1.5],
    st.integers(-5, 70000),
)
PORT_ENTRY = record(
    {"containerPort": PORT},
    {
        "name": pick("http", "metrics", "grpc", NAME),
        "protocol": pick("TCP", "UDP", "SCTP", "tcp", ""),
        "hostPort": PORT,
    },
    sparse=True,
)
PORTS = pick(*[st.lists(PORT_ENTRY, max_size=3)] * 6, GARBAGE)

HANDLER = pick(
    st.builds(lambda p: {"httpGet": {"port": p, "path": "/healthz"}}, PORT),
    st.builds(lambda p: {"httpGet": {"port": p}}, PORT),
    st.builds(lambda p: {"tcpSocket": {"port": p}}, PORT),
    {"exec": {"command": ["sh", "-c", "sleep 5"]}},
    {"exec": {"command": ["cat", "/tmp/ready"]}},
    {"exec": {"command": "true"}},
    st.builds(lambda p: {"grpc": {"port": p}}, PORT),
    st.builds(lambda s: {"sleep": {"seconds": s}}, WEIRD_INT),
    {"httpGet": {}},
    {},
    GARBAGE,
)
PROBE_TIMINGS = {
    name: WEIRD_INT
    for name in (
        "initialDelaySeconds",
        "periodSeconds",
        "failureThreshold",
        "successThreshold",
        "timeoutSeconds",
        "terminationGracePeriodSeconds",
    )
}


PROBE_TIMING_RECORD = record({}, PROBE_TIMINGS, sparse=True)


@st.composite
def probe(draw: st.DrawFn) -> Any:
    handler = draw(HANDLER)
    if not isinstance(handler, dict):
        return handler  # a probe of the wrong type
    return {**handler, **draw(PROBE_TIMING_RECORD)}


PROBE = probe()
PRE_STOP = pick(
    *[st.builds(lambda s: {"sleep": {"seconds": s}}, WEIRD_INT)] * 4,
    {"exec": {"command": ["sh", "-c", "sleep 20"]}},
    {"exec": {"command": ["/bin/drain"]}},
    {"exec": {"command": []}},
    st.builds(lambda p: {"httpGet": {"path": "/drain", "port": p}}, PORT),
    HANDLER,
)
LIFECYCLE = pick(*[record({}, {"preStop": PRE_STOP, "postStart": HANDLER})] * 6, GARBAGE)

IMAGE = pick(
    *[
        "docker.io/istio/proxyv2:1.22.0",
        "envoyproxy/envoy:v1.31.0",
        "fluent/fluent-bit:3.1.9",
        "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1",
        "busybox",
        "busybox:1.36",
        "nginx:1.27.2",
        "registry.example/app:1.0",
        "otel/opentelemetry-collector:0.110.0",
        "prom/statsd-exporter:v0.27.1",
        "postgres:16.4",
        "cr.l5d.io/linkerd/proxy:stable-2.14.10",
        "quay.io/oauth2-proxy/oauth2-proxy:v7.6.0",
        "alpine/socat",
        "app@sha256:" + "a" * 64,
    ],
    *XSS,
    SPECIAL_TEXT,
    GARBAGE,
)
COMMAND = pick(
    ["tail", "-F", "/var/log/app.log"],
    ["sh", "-c", "tail -F /opt/logs.txt"],
    ["sh", "-c", "sleep infinity"],
    ["sleep", "3600"],
    ["/bin/true"],
    ["sh", "-c", "cp /config/* /shared/ && echo done"],
    ["envoy", "-c", "/etc/envoy/envoy.yaml"],
    ["sh", "-c", "while true; do sleep 1; done"],
    ["--port=5432", "--structured-logs"],
    st.lists(WILD_TEXT, max_size=3),
    GARBAGE,
)
SECRET_ENV_NAMES = [
    "PASSWORD",
    "DB_PASSWORD",
    "apiKey",
    "API_KEY",
    "token",
    "AWS_SECRET_ACCESS_KEY",
]
ENV_ENTRY = record(
    {"name": pick("LOG_LEVEL", "PORT", "DATABASE_HOST", "KEY_PREFIX", "PASSWORD_FILE", NAME)},
    {
        "value": pick("info", "8080", "127.0.0.1:5432", "", WILD_TEXT),
        "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}},
    },
)
ENV = pick(*[st.lists(ENV_ENTRY, max_size=3)] * 6, GARBAGE)
VOLUME_NAMES = ["data", "logs", "shared", "config", "tmp"]
MOUNTS = st.lists(
    record(
        {
            "name": pick(*VOLUME_NAMES, NAME),
            "mountPath": pick("/data", "/var/log", "/shared", "/etc/config", ""),
        },
        {"readOnly": pick(True, False, GARBAGE)},
    ),
    max_size=3,
)
VOLUMES = st.lists(
    record(
        {"name": pick(*VOLUME_NAMES, NAME)},
        {
            "emptyDir": record(
                {}, {"medium": pick("Memory", "", "HugePages"), "sizeLimit": QUANTITY}
            ),
            "configMap": {"name": "cfg"},
        },
    ),
    max_size=3,
)


def container(*, init: bool) -> st.SearchStrategy[Any]:
    optional: dict[str, Any] = {
        "command": COMMAND,
        "args": COMMAND,
        "resources": RESOURCES,
        "startupProbe": PROBE,
        "readinessProbe": PROBE,
        "livenessProbe": PROBE,
        "lifecycle": LIFECYCLE,
        "ports": PORTS,
        "env": ENV,
        "volumeMounts": MOUNTS,
    }
    required: dict[str, Any] = {"name": NAME, "image": IMAGE}
    if init:
        required["restartPolicy"] = pick(
            *["Always"] * 6, "Never", "OnFailure", "always", "", GARBAGE
        )
    else:
        optional["restartPolicy"] = pick("Always", "Never", GARBAGE)
    return record(required, optional, sparse=True)


CONTAINERS = pick(*[st.lists(container(init=False), max_size=3)] * 12, GARBAGE)
INIT_CONTAINERS = pick(*[st.lists(container(init=True), max_size=3)] * 8, GARBAGE)


@st.composite
def pod_spec(draw: st.DrawFn) -> Any:
    spec = draw(
        record(
            {"containers": CONTAINERS},
            {
                "initContainers": INIT_CONTAINERS,
                "terminationGracePeriodSeconds": WEIRD_INT,
                "restartPolicy": pick("Always", "Never", "OnFailure", "Sometimes"),
                "volumes": VOLUMES,
                "shareProcessNamespace": pick(True, False, GARBAGE),
                "overhead": RESOURCE_MAP,
                "resources": RESOURCES,
                "activeDeadlineSeconds": WEIRD_INT,
            },
            sparse=True,
        )
    )
    if draw(st.integers(0, 9)) == 0 and isinstance(spec.get("containers"), list):
        # The same objects in several places: safe_dump writes anchors and aliases.
        shared = draw(RESOURCES)
        for c in spec["containers"]:
            if isinstance(c, dict):
                c["resources"] = shared
    return spec


POD_SPEC = pod_spec()
LABELS = pick(*[{"app": "web"}] * 6, st.dictionaries(WILD_TEXT, NAME, max_size=2))
WORKLOAD_KINDS = (
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "PodTemplate",
)
API_VERSIONS = {
    "Pod": "v1",
    "PodTemplate": "v1",
    "ReplicationController": "v1",
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "ReplicaSet": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
}
ANNOTATIONS = record(
    {},
    {
        "pod-advisor.io/ignore": pick("classic-sidecar-blocks-job", "a,b,,c", "", "*", GARBAGE),
        "note": pick(*XSS, WILD_TEXT),
    },
)


METADATA = record(
    {}, {"namespace": pick("default", "prod", "", NAME), "labels": {}, "annotations": ANNOTATIONS}
)


@st.composite
def workload(draw: st.DrawFn, kind: str | None = None, name: Any = None) -> dict[str, Any]:
    kind = kind or draw(st.sampled_from(WORKLOAD_KINDS))
    name = draw(NAME) if name is None else name
    labels = draw(LABELS)
    metadata = {"name": name, **draw(METADATA)}
    if "labels" in metadata:
        metadata["labels"] = labels
    spec = draw(POD_SPEC)
    # Usually copies; sometimes one object in three places (anchors and aliases).
    share = draw(st.integers(0, 4)) == 0
    selector = labels if share else dict(labels)
    template = {"metadata": {"labels": labels if share else dict(labels)}, "spec": spec}
    api = API_VERSIONS[kind] if draw(st.integers(0, 9)) else draw(NAME)
    obj: dict[str, Any] = {"apiVersion": api, "kind": kind, "metadata": metadata}
    if kind == "Pod":
        obj["spec"] = spec
    elif kind == "PodTemplate":
        obj["template"] = template
    elif kind == "Job":
        obj["spec"] = {"template": template, "backoffLimit": draw(WEIRD_INT)}
    elif kind == "CronJob":
        obj["spec"] = {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": template}}}
    elif kind == "ReplicationController":
        obj["spec"] = {"replicas": draw(WEIRD_INT), "template": template}
    else:
        obj["spec"] = {
            "replicas": draw(WEIRD_INT),
            "selector": {"matchLabels": selector},
            "template": template,
        }
    return obj


HPA_VERSIONS = ["autoscaling/v1", "autoscaling/v2beta1", "autoscaling/v2beta2", "autoscaling/v2"]


@st.composite
def metric(draw: st.DrawFn, version: str, containers: list[Any]) -> Any:
    resource = draw(st.sampled_from(["cpu", "memory"]) | GARBAGE)
    container_name = draw(st.sampled_from(containers) if containers else NAME)
    kind = draw(st.sampled_from(["Resource", "ContainerResource", "Pods", "External", "Bogus"]))
    if version == "autoscaling/v2beta1":
        target = {"targetAverageUtilization": draw(WEIRD_INT)}
    else:
        target = {
            "target": {
                "type": draw(st.sampled_from(["Utilization", "AverageValue"])),
                "averageUtilization": draw(WEIRD_INT),
            }
        }
    if kind == "Resource":
        body: Any = {"name": resource, **target}
        out = {"type": kind, "resource": body}
    elif kind == "ContainerResource":
        body = {"name": resource, "container": container_name, **target}
        out = {"type": kind, "containerResource": body}
    else:
        out = {"type": kind, "pods": {"metric": {"name": "qps"}, **target}}
    return out if draw(st.integers(0, 14)) else draw(GARBAGE)


@st.composite
def hpa(draw: st.DrawFn, target: dict[str, Any] | None) -> dict[str, Any]:
    version = draw(st.sampled_from(HPA_VERSIONS))
    if target is not None and isinstance(target.get("metadata"), dict):
        kind, name = target.get("kind"), target["metadata"].get("name")
        containers = [c.get("name") for c in _containers(target) if isinstance(c, dict)]
    else:
        kind, name, containers = draw(st.sampled_from(WORKLOAD_KINDS)), draw(NAME), []
    containers = [c for c in containers if isinstance(c, str)]
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": name},
        "minReplicas": draw(WEIRD_INT),
        "maxReplicas": draw(WEIRD_INT),
    }
    if version == "autoscaling/v1":
        if draw(st.booleans()):
            spec["targetCPUUtilizationPercentage"] = draw(WEIRD_INT)
    else:
        metrics = st.lists(metric(version, containers), max_size=3)
        spec["metrics"] = draw(pick(*[metrics] * 8, GARBAGE))
    hpa_name = draw(NAME)
    return {
        "apiVersion": version,
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": hpa_name},
        "spec": spec,
    }


SPEC_PATHS = {
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


def spec_node(obj: Any) -> dict[str, Any] | None:
    """The pod spec mapping of a workload object built by :func:`workload`, if still a map."""
    node: Any = obj
    kind = obj.get("kind") if isinstance(obj, dict) else None
    for key in SPEC_PATHS.get(str(kind), ("spec", "template", "spec")):
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _containers(obj: Any) -> list[Any]:
    spec = spec_node(obj)
    found = spec.get("containers") if spec is not None else None
    return found if isinstance(found, list) else []


OTHER_DOC = pick(
    *[
        st.builds(
            lambda n: {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": n},
                "spec": {"ports": [{"port": 80}]},
            },
            NAME,
        )
    ]
    * 2,
    st.builds(
        lambda n, d: {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n}, "data": d},
        NAME,
        st.dictionaries(DNS_NAME, WILD_TEXT, max_size=2),
    ),
    st.builds(lambda k: {"apiVersion": "example.com/v1", "kind": k, "metadata": {}}, NAME),
    None,
    GARBAGE,
    {"kind": "Pod"},
    {},
)


def _nested(depth: int, as_map: bool) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"a": value} if as_map else [value]
    return value


# What corrupt() puts in place of a node: the garbage values and nesting past the limit.
GARBAGE_POOL = [*GARBAGE_VALUES, _nested(150, False), _nested(150, True), _nested(99, True)]


@st.composite
def corrupt(draw: st.DrawFn, value: Any) -> Any:
    """Swap some nodes of ``value`` for garbage or drop some keys; most examples stay intact."""
    rate = draw(pick(0, 0, 0, 40, 15, 6))
    if rate == 0:
        return value
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))

    def walk(node: Any) -> Any:
        if rnd.randrange(rate) == 0:
            return copy.deepcopy(rnd.choice(GARBAGE_POOL))
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items() if rnd.randrange(rate * 2)}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(value)


@st.composite
def manifest_docs(draw: st.DrawFn) -> list[Any]:
    """One to three workloads, HPAs at them (or at nothing), maybe another object or a List."""
    docs: list[Any] = []
    for _ in range(draw(st.integers(1, 3))):
        w = draw(workload())
        docs.append(w)
        if draw(st.integers(0, 2)) == 0:
            docs.append(draw(hpa(w)))
    if draw(st.integers(0, 5)) == 0:
        docs.append(draw(hpa(None)))
    if draw(st.integers(0, 4)) == 0:
        docs.insert(draw(st.integers(0, len(docs))), draw(OTHER_DOC))
    if draw(st.integers(0, 9)) == 0:  # a List holding some of them
        cut = draw(st.integers(0, len(docs)))
        docs = [*docs[:cut], {"apiVersion": "v1", "kind": "List", "items": docs[cut:]}]
    return [draw(corrupt(d)) for d in docs]


# -- text ------------------------------------------------------------------------------------


@st.composite
def render(draw: st.DrawFn, docs: list[Any], *, allow_bytes: bool = True) -> str | bytes:
    """Dump documents as YAML (block, flow or mixed) or JSON; maybe CRLF, BOM, bytes."""
    style = draw(st.sampled_from(["block", "block", "flow", "mixed", "json"]))
    if style == "json":
        indent = draw(st.sampled_from([None, 2]))
        ascii_only = draw(st.booleans())
        text = "\n---\n".join(json.dumps(d, indent=indent, ensure_ascii=ascii_only) for d in docs)
    else:
        # Mostly the C emitter with SafeDumper's representers (yaml.safe_dump_all's output,
        # faster); sometimes the pure-Python one, whose line breaking differs a little.
        dumper = yaml.SafeDumper if draw(st.integers(0, 4)) == 0 else yaml.CSafeDumper
        text = yaml.dump_all(
            docs,
            Dumper=dumper,
            default_flow_style={"block": False, "flow": True, "mixed": None}[style],
            allow_unicode=draw(st.booleans()),
            sort_keys=draw(st.booleans()),
            width=draw(st.sampled_from([80, 20, 10**6])),
            indent=draw(st.sampled_from([2, 4])),
            explicit_start=draw(st.booleans()),
        )
    if draw(st.integers(0, 5)) == 0:
        text = text.replace("\n", "\r\n")
    if draw(st.integers(0, 7)) == 0:
        text = "\ufeff" + text
    if allow_bytes and draw(st.integers(0, 3)) == 0:
        encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-16", "utf-16-le"]))
        return text.encode(encoding, "surrogatepass")
    return text


SNIPPETS = [
    "---\n",
    "...\n",
    "--- |\n",
    "--- {a: 1}\n",
    "x: &a {k: v, w: [1, 2]}\n",
    "y: *a\n",
    "<<: *a\n",
    "<<: [*a, *b]\n",
    "<<: {cpu: 1}\n",
    "<<: 5\n",
    "z: &b [*a, *a, *a]\n",
    "? [a, b]\n: c\n",
    "? - x\n",
    "k: !!binary aGVsbG8=\n",
    "%YAML 1.1\n",
    "%TAG ! tag:example.com,2000:\n",
    "k: !!python/object/apply:os.system ['true']\n",
    "k: !!python/name:os.system ''\n",
    "k: !custom {a: 1}\n",
    "k: !!set {a, b}\n",
    "k: !!omap [a: 1]\n",
    "k: !!timestamp 2001-12-14t21:59:43.10-05:00\n",
    "k: 2001-12-14\n",
    "&anchor\n",
    "*undefined\n",
    "- *a\n",
    "{",
    "[",
    "}",
    "]",
    "'",
    '"',
    "|\n",
    ">-\n",
    "\t",
    "#",
    "@",
    "`",
    ": ",
    "- ",
    "? ",
    "!",
    "&",
    "*",
    "%",
    "\\",
    "\r",
    "\x85",
    "\u2028",
    "\ufeff",
    "\x00",
    "\x7f",
    "k: " + "[" * 120 + "]" * 120 + "\n",
    "k: " + "{a: " * 60 + "1" + "}" * 60 + "\n",
    "- " * 120 + "x\n",
    "key: value\nkey: duplicate\n",
    "containers: []\n",
    "containers:\n- name: dup\n- name: dup\n",
    "restartPolicy: Always\n",
    "kind: Job\n",
    "kind: List\nitems: [*a]\n",
    "1: 2\n",
    "null: ~\n",
    "[a, b]: c\n",
    "{a: b}: c\n",
    ".nan: .inf\n",
]


@st.composite
def mutated(draw: st.DrawFn) -> str | bytes:
    """A rendered manifest, damaged 1 to 6 times; str or bytes."""
    text = draw(render(draw(manifest_docs()), allow_bytes=False))
    assert isinstance(text, str)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.integers(0, 9))
        at = draw(st.integers(0, len(text)))
        if op == 0:  # a snippet at a line start
            line_start = text.rfind("\n", 0, at) + 1
            indent = draw(st.sampled_from(["", "  ", "    ", "      "]))
            text = text[:line_start] + indent + draw(st.sampled_from(SNIPPETS)) + text[line_start:]
        elif op == 1:  # a snippet anywhere
            text = text[:at] + draw(st.sampled_from(SNIPPETS)) + text[at:]
        elif op == 2:  # random characters
            text = text[:at] + draw(st.text(WILD_CHARS | st.just("\x00"), max_size=8)) + text[at:]
        elif op == 3:  # delete a slice
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif op == 4:  # truncate
            text = text[:at]
        elif op == 5:  # tabs for indentation
            text = text.replace("\n  ", "\n\t", draw(st.integers(1, 5)))
        elif op == 6:  # duplicate a line
            start = text.rfind("\n", 0, at) + 1
            end = text.find("\n", at)
            end = len(text) if end < 0 else end + 1
            text = text[:end] + text[start:end] + text[end:]
        elif op == 7:  # re-indent a line
            start = text.rfind("\n", 0, at) + 1
            text = text[:start] + " " * draw(st.integers(0, 5)) + text[start:].lstrip(" ")
        elif op == 8:  # swap two lines
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        else:  # CRLF in some places only
            text = text.replace("\n", "\r\n", draw(st.integers(1, 5)))
    if draw(st.integers(0, 3)):
        return text
    data = text.encode("utf-8", "surrogatepass")
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=6)) + data[at:]
    prefix = draw(st.sampled_from([b"", b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]))
    return prefix + data


@st.composite
def manifest_input(draw: st.DrawFn) -> str | bytes:
    """What the properties analyse: a clean rendering or a mutated one."""
    if draw(st.integers(0, 2)) == 0:
        return draw(mutated())
    return draw(render(draw(manifest_docs())))


# -- fixable manifests -------------------------------------------------------------------------


@st.composite
def fixable_docs(draw: st.DrawFn) -> list[Any]:
    """Manifests likely to raise the rules that have a mechanical fix."""
    kind = draw(st.sampled_from(["Job", "CronJob", "Deployment", "Pod", "StatefulSet"]))
    name = draw(pick(*[DNS_NAME] * 6, NAME))
    obj = draw(workload(kind=kind, name=name))
    containers = _containers(obj)
    helper_image = draw(
        st.sampled_from(
            [
                "fluent/fluent-bit:3.1.9",
                "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1",
                "docker.io/istio/proxyv2:1.22.0",
                "busybox",
            ]
        )
    )
    helper = {"name": draw(NAME), "image": helper_image}
    if helper_image == "busybox":
        helper["command"] = ["sh", "-c", "tail -F /opt/logs.txt"]
    if draw(st.booleans()):
        helper["ports"] = [{"containerPort": draw(PORT)}]
    app = {
        "name": draw(NAME),
        "image": "registry.example/app:1.0",
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
    }
    spec = spec_node(obj)
    assert spec is not None  # workload() always builds a mapping
    if draw(st.booleans()):  # a classic sidecar: a regular container beside the app
        spec["containers"] = [app, helper, *containers[: draw(st.integers(0, 1))]]
    else:  # a native sidecar
        spec["containers"] = [app]
        spec["initContainers"] = [{**helper, "restartPolicy": "Always"}]
    docs: list[Any] = [obj]
    if draw(st.booleans()):
        docs.append(draw(hpa(obj)))
    return [draw(corrupt(d)) for d in docs] if draw(st.integers(0, 3)) == 0 else docs


FIX_TARGET = pick(
    *[
        record(
            {
                "rule": pick(
                    "classic-sidecar-blocks-job",
                    "sidecar-without-startup-probe",
                    "hpa-resource-metric-on-multi-container-pod",
                    "duplicate-container-name",
                )
            },
            {"document": pick(*range(-2, 6), GARBAGE), "container": NAME, "hpa": NAME},
        )
    ]
    * 6,
    GARBAGE,
)


@st.composite
def fix_request(draw: st.DrawFn) -> str:
    """The ``fix`` field the web form posts: usually JSON, sometimes not."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(["", "{", "null", "[]", '{"rule": 1}']) | WILD_TEXT)
    return json.dumps(draw(FIX_TARGET))


# -- secrets -----------------------------------------------------------------------------------


@st.composite
def secret_value(draw: st.DrawFn) -> str:
    """A unique secret: MARKER and hex, sometimes with quotes, spaces or line breaks around."""
    core = MARKER + f"{draw(st.integers(0, 2**48 - 1)):012x}"
    before = draw(st.sampled_from(["", " ", "'", '"', "# ", "- ", "line one\n", "&x ", "*x "]))
    after = draw(st.sampled_from(["", " ", "\n", "\nsecond line\n", ": x", " #c", "'"]))
    return before + core + after


@st.composite
def secret_manifest(draw: st.DrawFn) -> tuple[list[Any], list[str]]:
    """Documents holding planted secrets: Secrets' data/stringData and secret-named env values.

    Returns the documents and the planted values (each contains :data:`MARKER`).
    """
    planted: list[str] = []
    docs: list[Any] = []

    def plant() -> str:
        value = draw(secret_value())
        planted.append(value)
        return value

    for _ in range(draw(st.integers(0, 2))):
        docs.append(draw(workload()))
    for _ in range(draw(st.integers(1, 3))):
        field = draw(st.sampled_from(["data", "stringData", "both"]))
        secret: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": draw(NAME)},
            "type": "Opaque",
        }
        for f in ("data", "stringData"):
            if field in (f, "both"):
                keys = draw(st.lists(DNS_NAME | WILD_TEXT, min_size=1, max_size=3, unique=True))
                secret[f] = {k: plant() for k in keys}
        docs.insert(draw(st.integers(0, len(docs))), secret)
    for w in docs:
        if w.get("kind") != "Secret" and draw(st.booleans()):
            env = [{"name": draw(st.sampled_from(SECRET_ENV_NAMES)), "value": plant()}]
            if draw(st.booleans()):
                env.append({"name": "LOG_LEVEL", "value": "info"})
            planted_in = {"name": "with-secret", "image": "busybox", "env": env}
            spec = spec_node(w)
            if spec is not None:
                spec["containers"] = [*_containers(w), planted_in]
            else:  # any list under a key named env counts, wherever it is
                w["extra"] = planted_in
    if draw(st.integers(0, 4)) == 0:
        docs = [{"apiVersion": "v1", "kind": "List", "items": docs}]
    return docs, planted


# -- questionnaire -----------------------------------------------------------------------------

QUESTION_VALUES = {
    "need": list(NEEDS),
    "workload": ["service", "batch"],
    "app_needs_helper_at_start": ["true", "false", "yes", "0"],
    "helper_scales_with_app": ["true", "false"],
    "shares_files_or_localhost": ["true", "false"],
    "kubernetes_version": ["1.25", "1.29", "1.37", "v1.31.2", "1.99", "2.0", "x"],
    "app_name": ["app", "web"],
    "app_image": ["registry.example/app:1.0"],
    "helper_name": ["helper", "proxy"],
    "helper_image": ["registry.example/helper:1.0"],
}

QUERY_PARAMS = st.dictionaries(
    st.sampled_from(sorted(QUESTION_VALUES)) | WILD_TEXT,
    st.one_of(
        *(st.sampled_from(v) for v in QUESTION_VALUES.values()),
        WILD_TEXT,
        SPECIAL_TEXT,
    ),
    max_size=10,
)


# -- over-budget and overflow inputs (README "Limits") -------------------------------------------
#
# The classes of input that once stalled or crashed a worker with under 1 KB: base-60 and long
# numbers, numbers past int64 or float range, alias and merge-key chains, many containers
# (the per-phase breakdown grew with their square), deep flow nesting, NUL and lone surrogates.

_HOSTILE_POD = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n"
    "  terminationGracePeriodSeconds: GRACE\n  containers:\n  - name: app\n    image: nginx\n"
    "    readinessProbe: {periodSeconds: PERIOD, tcpSocket: {port: 80}}\n"
    "    resources: {requests: {cpu: CPU, memory: MEM}}\n"
)
HOSTILE_NUMBERS = st.one_of(
    st.integers(1, 800).map(lambda n: "1:" * n + "1"),  # base 60
    st.integers(1, 1200).map(lambda n: "9" * n),
    st.integers(1, 1200).map(lambda n: "-" + "9" * n),
    st.integers(1, 1200).map(lambda n: "0x" + "f" * n),
    st.integers(1, 1200).map(lambda n: "0b" + "1" * n),
    st.integers(-2000, 2000).map(lambda e: f"1.5e{e:+d}"),
    st.integers(-2000, 2000).map(lambda e: f"1e{e}"),
    st.sampled_from([".inf", "-.inf", ".nan", "9223372036854775808", "-9223372036854775809"]),
    st.sampled_from(["2001-12-14t21:59:43.10-05:00", "2002-12-14", "1_000_000", "0o777"]),
)


@st.composite
def _hostile_numbers(draw: st.DrawFn) -> str:
    text = _HOSTILE_POD
    for slot in ("GRACE", "PERIOD", "CPU", "MEM"):
        text = text.replace(slot, draw(st.one_of(HOSTILE_NUMBERS, st.just("1"))))
    return text


@st.composite
def _alias_chain(draw: st.DrawFn) -> str:
    fanout, levels = draw(st.integers(2, 12)), draw(st.integers(1, 10))
    merge = draw(st.booleans())
    lines = ["  a0: &a0 {k: v, n: 1}\n" if merge else "  a0: &a0 [x, y]\n"]
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * fanout)
        lines.append(
            f"  a{i}: &a{i} {{<<: [{refs}], b{i}: *a{i - 1}}}\n"
            if merge
            else f"  a{i}: &a{i} [{refs}]\n"
        )
    return (
        _HOSTILE_POD.replace(
            "metadata: {name: web}\n", "metadata: {name: web}\nx:\n" + "".join(lines)
        )
        .replace("GRACE", "30")
        .replace("PERIOD", "5")
        .replace("CPU", "1")
        .replace("MEM", "1Mi")
    )


@st.composite
def _many_containers(draw: st.DrawFn) -> str:
    count_ = draw(st.integers(1, 400))
    kind = draw(st.sampled_from(["Always", "Never-init", "regular"]))
    rp = ", restartPolicy: Always" if kind == "Always" else ""
    first = f"  - &s {{name: c0, image: envoy{rp}, resources: {{requests: {{cpu: 1m}}}}}}\n"
    rest = "".join(f"  - {{<<: *s, name: c{i}}}\n" for i in range(1, count_))
    where = "containers" if kind == "regular" else "initContainers"
    tail = "" if kind == "regular" else "  containers:\n  - {name: app, image: nginx}\n"
    return (
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: web}}\nspec:\n  {where}:\n"
        + first
        + rest
        + tail
    )


@st.composite
def _deep_flow(draw: st.DrawFn) -> str:
    depth = draw(st.integers(50, 2000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a": ', "}"), ("{a: ", "}")]))
    return "x: " + opener * depth + "1" + closer * depth + "\n"


@st.composite
def _unstorable(draw: st.DrawFn) -> str:
    text = draw(_hostile_numbers())
    at = draw(st.integers(0, len(text)))
    char = draw(st.sampled_from(["\x00", "\ud800", "\udfff", "\x00\x00"]))
    return text[:at] + char + text[at:]


def over_budget() -> st.SearchStrategy[str]:
    """Text of one hostile class: long or overflowing numbers, alias/merge chains, many
    containers, deep flow nesting, NUL or lone surrogates (the last only as ``str``)."""
    return st.one_of(
        _hostile_numbers(), _alias_chain(), _many_containers(), _deep_flow(), _unstorable()
    )


# -- secret forms (redaction) ------------------------------------------------------------------
# Secrets written the ways real manifests carry them, beyond Secret data and env: names with no
# separator, credentials inside values (URLs, pairs, DSNs, query strings, known token shapes, PEM
# bodies), command-line flags, probe headers, annotations and kubectl's last-applied copy.

SECRET_FORM_NAMES = ["PGPASSWORD", "ADMINPASSWORD", "AUTHTOKEN", "HTPASSWD", "SSH_KEY", "apiKey"]


@st.composite
def planted_token(draw: st.DrawFn) -> str:
    """A unique secret token: MARKER and 12 hex digits."""
    return MARKER + f"{draw(st.integers(0, 2**48 - 1)):012x}"


@st.composite
def secret_form(draw: st.DrawFn) -> tuple[str, Any, list[str]]:
    """One secret form: (where it goes, the value to put there, the secrets it holds).

    Where: ``env`` (an env entry), ``args`` (container args), ``data`` (a ConfigMap data value),
    ``annotation`` (a metadata annotation), ``probe`` (readiness probe), ``applied`` (the
    last-applied-configuration of a Secret).
    """
    token = draw(planted_token())
    aws = "AKIA" + f"{draw(st.integers(0, 16**16 - 1)):016X}"
    form = draw(st.integers(0, 12))
    if form == 0:
        return "env", {"name": draw(st.sampled_from(SECRET_FORM_NAMES)), "value": token}, [token]
    if form == 1:
        url = draw(st.sampled_from(["postgres", "mysql", "redis", "amqp", "https"]))
        return "env", {"name": "DATABASE_URL", "value": f"{url}://app:{token}@db/x"}, [token]
    if form == 2:
        key = draw(st.sampled_from(["db.password", "spring.datasource.password", "api_token"]))
        sep = draw(st.sampled_from(["=", ": ", " = "]))
        return "data", f"log.level=info\n{key}{sep}{token}\nport=80\n", [token]
    if form == 3:
        return "data", f"host=db user=app password={token} sslmode=require", [token]
    if form == 4:
        query = draw(st.sampled_from(["token", "access_token", "sig", "api_key"]))
        return "data", f"https://example.com/cb?{query}={token}&page=2", [token]
    if form == 5:
        return "data", f"aws_access_key_id = {aws}\nregion = eu-west-1\n", [aws]
    if form == 6:
        body = "\n".join([token, token[::-1] + "AAAA"])
        pem = f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n"
        return "data", pem, [token, token[::-1] + "AAAA"]
    if form == 7:
        flag = draw(st.sampled_from(["--password", "--token", "--api-key", "--client-secret"]))
        joined = draw(st.booleans())
        return "args", [f"{flag}={token}"] if joined else [flag, token], [token]
    if form == 8:
        tool = draw(st.sampled_from(["mysql -u root -p{}", "redis-cli -a {} ping"]))
        return "args", ["sh", "-c", tool.format(token)], [token]
    if form == 9:
        header = {"name": "Authorization", "value": f"Bearer {token}"}
        return "probe", {"path": "/healthz", "port": 8080, "httpHeaders": [header]}, [token]
    if form == 10:
        return "probe", {"path": f"/healthz?token={token}", "port": 8080}, [token]
    if form == 11:
        name = draw(st.sampled_from(["example.com/auth-token", "vault/secret", "x/apiKey"]))
        return "annotation", (name, token), [token]
    applied = {"apiVersion": "v1", "kind": "Secret", "stringData": {"k": token}}
    return "applied", json.dumps(applied, separators=(",", ":")), [token]


@st.composite
def secret_forms_manifest(draw: st.DrawFn) -> tuple[list[Any], list[str]]:
    """A Deployment, a ConfigMap and a Secret carrying 1 to 6 secret forms, and the secrets."""
    container: dict[str, Any] = {"name": "app", "image": "busybox", "env": [], "args": []}
    config: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cfg", "annotations": {}},
        "data": {},
    }
    secret: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "annotations": {}},
        "data": {"k": "dmFsdWU="},
    }
    planted: list[str] = []
    for index in range(draw(st.integers(1, 6))):
        where, value, secrets = draw(secret_form())
        planted += secrets
        if where == "env":
            container["env"].append(value)
        elif where == "args":
            container["args"] += value
        elif where == "data":
            config["data"][f"item-{index}"] = value
        elif where == "annotation":
            config["metadata"]["annotations"][value[0]] = value[1]
        elif where == "probe":
            container["readinessProbe"] = {"httpGet": value}
        else:
            annotation = "kubectl.kubernetes.io/last-applied-configuration"
            secret["metadata"]["annotations"][annotation] = value
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [container]}}},
    }
    docs = [deployment, config, secret]
    return draw(st.permutations(docs)), planted
