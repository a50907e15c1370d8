"""Effective pod requests and limits, exactly as Kubernetes computes them.

Implements ``docs/kubernetes-semantics.md`` section (a), i.e. component-helpers'
``PodRequests``/``PodLimits`` with default options:

* steady state = every regular container plus every native sidecar;
* each plain init container runs on top of the sidecars declared *before* it;
* the pod needs, per resource, the larger of the steady state and the worst init phase;
* pod-level ``spec.resources`` replaces the container math only for the names it lists
  (cpu, memory, hugepages-*), before ``spec.overhead`` is added to every request and to the
  limits that exist.

By default the API server's defaulting is applied first (a container limit is copied into a
missing request; pod-level requests/limits are defaulted) and reported, because that is what the
scheduler sees for a manifest as written. ``api_defaults=False`` computes on the text as written,
which is how Kubernetes' own unit tests (``tests/fixtures/vectors``) call the helper.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from advisor.core.model import Container, PodTemplate
from advisor.core.quantity import Quantity, QuantityError, max_quantity, parse_quantity
from advisor.core.records import dataclass
from advisor.core.source import get_map, line_of

ResourceMap = dict[str, Quantity]
QOS_RESOURCES = ("cpu", "memory")
STEADY = "steady state"
# Above this many containers a phase lists only the containers it starts (its totals still
# count every running one): a full breakdown grows with the square of the container count.
BREAKDOWN_CONTAINERS = 20
POD_LEVEL = "pod-level resources"


@dataclass(frozen=True)
class QuantityProblem:
    """A resource value Kubernetes would reject; it is left out of the math."""

    container: str
    field: str
    line: int | None
    value: str
    message: str


@dataclass(frozen=True)
class Phase:
    """What runs at one step of the pod's life, and what each running container asks for."""

    name: str
    kind: str  # "init" (a plain init container runs), "sidecar-start", "steady"
    container: str | None
    requests: Mapping[str, ResourceMap]
    limits: Mapping[str, ResourceMap]
    total_requests: ResourceMap
    total_limits: ResourceMap


@dataclass(frozen=True)
class Sizing:
    """The effective pod resources and how they came about."""

    requests: ResourceMap
    limits: ResourceMap
    qos_class: str
    dominant: Mapping[str, str]
    phases: tuple[Phase, ...]
    unbounded: Mapping[str, str]
    defaults_applied: tuple[str, ...]
    problems: tuple[QuantityProblem, ...]
    notes: tuple[str, ...]
    container_requests: Mapping[str, ResourceMap]
    container_limits: Mapping[str, ResourceMap]
    # "full": each phase lists every running container; "changes": only the ones it starts.
    breakdown: str = "full"


def is_supported_pod_level(name: str) -> bool:
    """Return True for resource names pod-level ``spec.resources`` may set."""
    return name in ("cpu", "memory") or name.startswith("hugepages-")


def add(into: ResourceMap, other: Mapping[str, Quantity]) -> None:
    """``into ⊕= other``: sum per name, keeping the existing value's format."""
    for name, quantity in other.items():
        into[name] = into[name] + quantity if name in into else quantity


def maximum(into: ResourceMap, other: Mapping[str, Quantity]) -> None:
    """``into ⊔= other``: the larger per name; on a tie the existing value stays."""
    for name, quantity in other.items():
        into[name] = max_quantity(into[name], quantity) if name in into else quantity


def effective_resources(
    pod: PodTemplate, *, api_defaults: bool = True, pod_level_resources: bool = True
) -> Sizing:
    """Compute the effective requests, limits, QoS class and per-phase breakdown of ``pod``."""
    problems: list[QuantityProblem] = []
    defaults: list[str] = []
    reqs, lims = _container_maps(pod, problems, defaults if api_defaults else None)
    pod_reqs = _pod_level(pod, "requests", problems) if pod_level_resources else {}
    pod_lims = _pod_level(pod, "limits", problems) if pod_level_resources else {}
    notes: list[str] = []
    if not pod_level_resources and get_map(pod.spec, "resources"):
        notes.append(
            "pod-level spec.resources is ignored: the PodLevelResources feature is off "
            "by default before Kubernetes 1.34"
        )
    if api_defaults and (pod_reqs or pod_lims):
        _default_pod_level(pod, reqs, lims, pod_reqs, pod_lims, defaults)
    overhead = _parse_map(get_map(pod.spec, "overhead"), "overhead", "spec.overhead", problems)
    count = len(pod.init_containers) + len(pod.containers)
    condensed = count > BREAKDOWN_CONTAINERS
    if condensed:
        notes.append(
            f"the pod has {count} containers (more than {BREAKDOWN_CONTAINERS}): each phase lists "
            "only the containers it starts; its totals still count every running container"
        )
    phases = _phases(pod, reqs, lims, condensed=condensed)
    agg_req, dom = _aggregate(pod, reqs, phases, "requests")
    agg_lim, _ = _aggregate(pod, lims, phases, "limits")
    requests, dominant = _pod_requests(agg_req, dom, pod_reqs, overhead)
    limits = _pod_limits(agg_lim, pod_reqs, pod_lims, overhead)
    return Sizing(
        requests=requests,
        limits=limits,
        qos_class=qos_class(pod, reqs, lims, pod_reqs, pod_lims),
        dominant=dominant,
        phases=tuple(phases),
        unbounded=_unbounded(pod, lims, pod_lims),
        defaults_applied=tuple(defaults),
        problems=tuple(problems),
        notes=tuple(notes),
        container_requests=reqs,
        container_limits=lims,
        breakdown="changes" if condensed else "full",
    )


def _container_maps(
    pod: PodTemplate, problems: list[QuantityProblem], defaults: list[str] | None
) -> tuple[dict[str, ResourceMap], dict[str, ResourceMap]]:
    reqs: dict[str, ResourceMap] = {}
    lims: dict[str, ResourceMap] = {}
    for c in pod.all_containers:
        field = f"{c.list_name}[{c.index}].resources"
        req = _parse_map(c.requests, c.name, f"{field}.requests", problems)
        lim = _parse_map(c.limits, c.name, f"{field}.limits", problems)
        if defaults is not None:
            for name, quantity in lim.items():
                if name not in req:
                    req[name] = quantity
                    defaults.append(
                        f"'{c.name}': {name} request set to its limit {quantity} "
                        "(API server defaulting)"
                    )
        reqs[_key(c)] = req
        lims[_key(c)] = lim
    return reqs, lims


def _key(c: Container) -> str:
    """Map key for a container: its name, or its position when names are missing/duplicated."""
    return c.name or f"{c.list_name}[{c.index}]"


def _parse_map(
    raw: Mapping, container: str, field: str, problems: list[QuantityProblem]
) -> ResourceMap:
    out: ResourceMap = {}
    if not raw:
        return out
    for name, value in raw.items():
        try:
            quantity = parse_quantity(value)
        except QuantityError as exc:
            problems.append(
                QuantityProblem(
                    container, f"{field}.{name}", line_of(raw, name), str(value), str(exc)
                )
            )
            continue
        if quantity.nanos < 0:
            problems.append(
                QuantityProblem(
                    container,
                    f"{field}.{name}",
                    line_of(raw, name),
                    str(value),
                    f"{name} must not be negative",
                )
            )
            continue
        out[str(name)] = quantity
    return out


def _pod_level(pod: PodTemplate, kind: str, problems: list[QuantityProblem]) -> ResourceMap:
    raw = get_map(get_map(pod.spec, "resources"), kind)
    parsed = _parse_map(raw, "", f"spec.resources.{kind}", problems)
    return {name: q for name, q in parsed.items() if is_supported_pod_level(name)}


def _phases(
    pod: PodTemplate,
    reqs: Mapping[str, ResourceMap],
    lims: Mapping[str, ResourceMap],
    *,
    condensed: bool = False,
) -> list[Phase]:
    """Every init step in order, then the steady state, with who is running in each.

    ``condensed``: each phase lists only the containers it starts (the totals are the same).
    """
    phases: list[Phase] = []
    running_sidecars: list[str] = []
    for c in pod.init_containers:
        key = _key(c)
        if c.lifecycle == "native-sidecar":
            running_sidecars.append(key)
            members = list(running_sidecars)
            kind, label = "sidecar-start", f"sidecar {key} starts"
        else:
            members = [*running_sidecars, key]
            kind, label = "init", f"init {key}"
        shown = [key] if condensed else members
        phases.append(_phase(label, kind, key, members, reqs, lims, shown=shown))
    regular = [_key(c) for c in pod.containers]
    steady = regular + running_sidecars
    shown = regular if condensed else steady
    phases.append(_phase(STEADY, "steady", None, steady, reqs, lims, shown=shown))
    return phases


def _phase(
    name: str,
    kind: str,
    container: str | None,
    members: Iterable[str],
    reqs: Mapping[str, ResourceMap],
    lims: Mapping[str, ResourceMap],
    *,
    shown: Iterable[str] | None = None,
) -> Phase:
    members = list(members)
    listed = members if shown is None else list(shown)
    return Phase(
        name=name,
        kind=kind,
        container=container,
        requests={m: reqs[m] for m in listed},
        limits={m: lims[m] for m in listed},
        total_requests=_sum(reqs[m] for m in members),
        total_limits=_sum(lims[m] for m in members),
    )


def _sum(maps: Iterable[Mapping[str, Quantity]]) -> ResourceMap:
    total: ResourceMap = {}
    for m in maps:
        add(total, m)
    return total


def _aggregate(
    pod: PodTemplate, per_container: Mapping[str, ResourceMap], phases: list[Phase], kind: str
) -> tuple[ResourceMap, dict[str, str]]:
    """``(Main ⊕ Side_n) ⊔ Peak`` in Kubernetes' order, and which phase set each value."""
    # The steady phase holds the regular containers, then the sidecars, in declared order:
    # the same sum, in the same order, as Main ⊕ Side_n.
    steady = phases[-1].total_requests if kind == "requests" else phases[-1].total_limits
    total: ResourceMap = dict(steady)
    dominant = dict.fromkeys(total, STEADY)
    peak: ResourceMap = {}
    peak_phase: dict[str, str] = {}
    for phase in phases[:-1]:
        values = phase.total_requests if kind == "requests" else phase.total_limits
        for name, quantity in values.items():
            if name not in peak or quantity > peak[name]:
                peak[name] = quantity
                peak_phase[name] = phase.name
    for name, quantity in peak.items():
        if name not in total or quantity > total[name]:
            total[name] = quantity
            dominant[name] = peak_phase[name]
    return total, dominant


def _pod_requests(
    agg: ResourceMap, dominant: dict[str, str], pod_reqs: ResourceMap, overhead: ResourceMap
) -> tuple[ResourceMap, dict[str, str]]:
    result = dict(agg)
    for name, quantity in pod_reqs.items():
        result[name] = quantity
        dominant[name] = POD_LEVEL
    add(result, overhead)
    for name in overhead:
        dominant.setdefault(name, "overhead")
    return result, dominant


def _pod_limits(
    agg: ResourceMap, pod_reqs: ResourceMap, pod_lims: ResourceMap, overhead: ResourceMap
) -> ResourceMap:
    result = dict(agg)
    if pod_reqs or pod_lims:
        result.update(pod_lims)
    for name, quantity in overhead.items():
        if name in result and not result[name].is_zero():
            result[name] = result[name] + quantity
    return result


def _default_pod_level(
    pod: PodTemplate,
    reqs: Mapping[str, ResourceMap],
    lims: Mapping[str, ResourceMap],
    pod_reqs: ResourceMap,
    pod_lims: ResourceMap,
    defaults: list[str],
) -> None:
    """Apply the API server's pod-level defaulting (PodLevelResources on)."""
    if pod_lims:
        agg, _ = _aggregate(pod, reqs, _phases(pod, reqs, lims), "requests")
        for name, limit in pod_lims.items():
            if name in pod_reqs:
                continue
            source = agg.get(name) if name in QOS_RESOURCES else None
            pod_reqs[name] = source if source is not None else limit
            origin = "the containers' aggregate" if source is not None else "its pod-level limit"
            defaults.append(f"pod-level {name} request set from {origin}: {pod_reqs[name]}")
    if pod_reqs:
        for name in pod_reqs:
            if name in pod_lims or name not in QOS_RESOURCES:
                continue
            if all(name in lims[_key(c)] for c in pod.all_containers) and pod.all_containers:
                agg_lim, _ = _aggregate(pod, lims, _phases(pod, reqs, lims), "limits")
                pod_lims[name] = agg_lim[name]
                defaults.append(
                    f"pod-level {name} limit set from the containers' limits: {pod_lims[name]}"
                )


def qos_class(
    pod: PodTemplate,
    reqs: Mapping[str, ResourceMap],
    lims: Mapping[str, ResourceMap],
    pod_reqs: ResourceMap,
    pod_lims: ResourceMap,
) -> str:
    """Return Guaranteed, Burstable or BestEffort as ``ComputePodQOS`` does."""
    if pod_reqs or pod_lims:
        sources = [(pod_reqs, pod_lims)]
    else:
        sources = [(reqs[_key(c)], lims[_key(c)]) for c in pod.all_containers]
    requests: ResourceMap = {}
    limits: ResourceMap = {}
    guaranteed = True
    for req, lim in sources:
        add(requests, {n: q for n, q in req.items() if n in QOS_RESOURCES and not _nonpos(q)})
        positive = {n: q for n, q in lim.items() if n in QOS_RESOURCES and not _nonpos(q)}
        add(limits, positive)
        if (pod_lims or not (pod_reqs or pod_lims)) and not set(QOS_RESOURCES) <= set(positive):
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    matched = all(n in limits and limits[n] == q for n, q in requests.items())
    if guaranteed and matched and len(requests) == len(limits):
        return "Guaranteed"
    return "Burstable"


def _nonpos(q: Quantity) -> bool:
    return q.nanos <= 0


def _unbounded(
    pod: PodTemplate, lims: Mapping[str, ResourceMap], pod_lims: ResourceMap
) -> dict[str, str]:
    """cpu/memory with no effective cgroup limit: a container without a limit uncaps the pod."""
    out: dict[str, str] = {}
    for name in QOS_RESOURCES:
        if name in pod_lims:
            continue
        missing = [c for c in pod.all_containers if name not in lims[_key(c)]]
        if missing:
            who = ", ".join(f"'{_key(c)}'" for c in missing[:3])
            more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            out[name] = (
                f"{who}{more} set no {name} limit, so the kubelet puts no {name} limit on "
                "the pod as a whole"
            )
    return out
