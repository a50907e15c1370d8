"""Typed view of the workloads found in a manifest.

Each class keeps the raw mapping it was read from (``raw``), so rules can point at any field's
line with :func:`advisor.core.source.line_of`; the typed attributes are the facts every stage
needs. Defaults follow the API server's (``terminationGracePeriodSeconds`` 30, pod
``restartPolicy`` Always, probe timings), see ``docs/kubernetes-semantics.md`` section (b) and (c).

A container's or pod's mapping does not change once it is read, so what is derived from it
(ports, hooks, the list of all containers, ...) is computed once per object (``cached_property``).
"""

from __future__ import annotations

from dataclasses import field
from functools import cached_property
from typing import Any, Literal

from advisor.core.records import dataclass
from advisor.core.source import get_int, get_list, get_map, get_str, line_of

Lifecycle = Literal["init", "native-sidecar", "regular"]

DEFAULT_GRACE_SECONDS = 30


@dataclass(frozen=True)
class Port:
    """One ``containerPort`` entry."""

    number: int | None
    protocol: str
    name: str
    host_port: int | None
    line: int | None


@dataclass(frozen=True)
class Container:
    """One container of a pod, with the list it was declared in and its position there."""

    name: str
    index: int
    lifecycle: Lifecycle
    image: str
    line: int | None
    raw: dict = field(repr=False, compare=False)

    @classmethod
    def from_raw(cls, raw: Any, *, index: int, in_init_list: bool) -> Container:
        """Read a container mapping; tolerate any shape (bad input becomes empty fields)."""
        mapping = raw if isinstance(raw, dict) else {}
        if not in_init_list:
            lifecycle: Lifecycle = "regular"
        elif mapping.get("restartPolicy") == "Always":
            lifecycle = "native-sidecar"
        else:
            lifecycle = "init"
        return cls(
            name=get_str(mapping, "name"),
            index=index,
            lifecycle=lifecycle,
            image=get_str(mapping, "image"),
            line=line_of(mapping),
            raw=mapping,
        )

    @property
    def list_name(self) -> str:
        """``initContainers`` or ``containers``: where this container is declared."""
        return "containers" if self.lifecycle == "regular" else "initContainers"

    @cached_property
    def resources(self) -> dict:
        return get_map(self.raw, "resources")

    @cached_property
    def requests(self) -> dict:
        return get_map(self.resources, "requests")

    @cached_property
    def limits(self) -> dict:
        return get_map(self.resources, "limits")

    @property
    def command_line(self) -> list[str]:
        """``command`` followed by ``args``, as text."""
        parts = get_list(self.raw, "command") + get_list(self.raw, "args")
        return [str(p) for p in parts if isinstance(p, (str, int, float))]

    @cached_property
    def ports(self) -> tuple[Port, ...]:
        out = []
        for entry in get_list(self.raw, "ports"):
            if not isinstance(entry, dict):
                continue
            out.append(
                Port(
                    number=get_int(entry, "containerPort"),
                    protocol=get_str(entry, "protocol", "TCP") or "TCP",
                    name=get_str(entry, "name"),
                    host_port=get_int(entry, "hostPort"),
                    line=line_of(entry, "containerPort"),
                )
            )
        return tuple(out)

    def probe(self, kind: str) -> dict | None:
        """Return the ``startupProbe``/``readinessProbe``/``livenessProbe`` mapping, if set."""
        value = self.raw.get(kind)
        return value if isinstance(value, dict) else None

    @cached_property
    def lifecycle_hooks(self) -> dict:
        """The container's ``lifecycle`` mapping (postStart, preStop, stopSignal)."""
        return get_map(self.raw, "lifecycle")

    @cached_property
    def volume_mounts(self) -> tuple[str, ...]:
        return tuple(
            get_str(m, "name") for m in get_list(self.raw, "volumeMounts") if isinstance(m, dict)
        )


@dataclass(frozen=True)
class PodTemplate:
    """The pod a workload creates: its spec, metadata and containers in declared order."""

    spec: dict = field(repr=False, compare=False)
    metadata: dict = field(repr=False, compare=False)
    init_containers: tuple[Container, ...]
    containers: tuple[Container, ...]
    path: str
    line: int | None

    @classmethod
    def from_raw(cls, spec: Any, metadata: Any, *, path: str) -> PodTemplate:
        spec = spec if isinstance(spec, dict) else {}
        metadata = metadata if isinstance(metadata, dict) else {}
        inits = tuple(
            Container.from_raw(c, index=i, in_init_list=True)
            for i, c in enumerate(get_list(spec, "initContainers"))
        )
        mains = tuple(
            Container.from_raw(c, index=i, in_init_list=False)
            for i, c in enumerate(get_list(spec, "containers"))
        )
        return cls(spec, metadata, inits, mains, path, line_of(spec))

    @cached_property
    def all_containers(self) -> tuple[Container, ...]:
        """Init containers (sidecars included) in order, then regular containers."""
        return self.init_containers + self.containers

    @cached_property
    def sidecars(self) -> tuple[Container, ...]:
        return tuple(c for c in self.init_containers if c.lifecycle == "native-sidecar")

    @cached_property
    def restart_policy(self) -> str:
        return get_str(self.spec, "restartPolicy") or "Always"

    @cached_property
    def grace_seconds(self) -> int:
        value = get_int(self.spec, "terminationGracePeriodSeconds")
        return DEFAULT_GRACE_SECONDS if value is None or value < 0 else value

    @property
    def volumes(self) -> dict[str, dict]:
        """Volumes by name."""
        out: dict[str, dict] = {}
        for v in get_list(self.spec, "volumes"):
            if isinstance(v, dict) and get_str(v, "name"):
                out[get_str(v, "name")] = v
        return out

    @cached_property
    def annotations(self) -> dict:
        return get_map(self.metadata, "annotations")

    def container(self, name: str) -> Container | None:
        for c in self.all_containers:
            if c.name == name:
                return c
        return None


@dataclass(frozen=True)
class HPAMetric:
    """One metric of an HPA, normalised across autoscaling/v1, v2beta1, v2beta2 and v2."""

    type: str
    resource: str
    container: str
    line: int | None


@dataclass(frozen=True)
class HPA:
    """A HorizontalPodAutoscaler and the workload it scales."""

    file: str
    document: int
    line: int | None
    api_version: str
    name: str
    namespace: str
    target_kind: str
    target_name: str
    target_line: int | None
    metrics: tuple[HPAMetric, ...]
    raw: dict = field(repr=False, compare=False)


@dataclass(frozen=True)
class Workload:
    """A pod-creating object (Pod, Deployment, Job, CronJob, ...) with its pod template."""

    file: str
    document: int
    line: int | None
    kind: str
    api_version: str
    name: str
    namespace: str
    pod: PodTemplate
    raw: dict = field(repr=False, compare=False)
    hpas: tuple[HPA, ...] = ()

    @property
    def is_batch(self) -> bool:
        """True for Job and CronJob: regular containers are expected to finish."""
        return self.kind in ("Job", "CronJob")

    @property
    def annotations(self) -> dict:
        """The workload's own annotations, overlaid by the pod template's."""
        merged = dict(get_map(get_map(self.raw, "metadata"), "annotations"))
        if self.pod.metadata is not get_map(self.raw, "metadata"):
            merged.update(self.pod.annotations)
        return merged


@dataclass(frozen=True)
class Skipped:
    """A document the advisor read but does not analyse, and why."""

    file: str
    document: int
    line: int | None
    kind: str
    name: str
    reason: str


@dataclass(frozen=True)
class Problem:
    """A document that could not be read at all."""

    file: str
    document: int | None
    line: int | None
    message: str


@dataclass(frozen=True)
class ParseResult:
    """Everything :func:`advisor.core.intake.parse` found in one input."""

    workloads: tuple[Workload, ...]
    hpas: tuple[HPA, ...]
    skipped: tuple[Skipped, ...]
    errors: tuple[Problem, ...]
    documents: int
