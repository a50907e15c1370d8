"""Rules about requests, limits and memory-backed volumes."""

from __future__ import annotations

from collections.abc import Iterator

from advisor.core.quantity import QuantityError, parse_quantity
from advisor.core.rules.base import Context, Finding, Rule, container_line, rule
from advisor.core.source import get_map, get_str, line_of

HELPER_ROLES = ("sidecar", "ambassador", "adapter", "config-helper")


@rule(
    id="invalid-quantity",
    title="A resource value is not a valid Kubernetes quantity",
    severity="error",
    rationale="The API server rejects the pod; the advisor leaves the value out of its sums, "
    "so the effective resources shown are incomplete until it is fixed.",
    fix="Write the value as a Kubernetes quantity: cpu as 250m or 0.5, memory as 256Mi or 1Gi.",
)
def invalid_quantity(r: Rule, ctx: Context) -> Iterator[Finding]:
    for problem in ctx.sizing.problems:
        where = f"'{problem.container}' " if problem.container else ""
        yield r.finding(
            f"{where}{problem.field}: {problem.message}",
            line=problem.line,
            container=problem.container or None,
        )


@rule(
    id="request-exceeds-limit",
    title="A container requests more than its limit",
    severity="error",
    rationale="A request above the limit for the same resource is rejected by the API server.",
    fix="Lower the request or raise the limit so that request <= limit.",
)
def request_exceeds_limit(r: Rule, ctx: Context) -> Iterator[Finding]:
    for c in ctx.pod.all_containers:
        key = c.name or f"{c.list_name}[{c.index}]"
        requests = ctx.sizing.container_requests.get(key, {})
        limits = ctx.sizing.container_limits.get(key, {})
        for name, request in requests.items():
            limit = limits.get(name)
            if limit is not None and request > limit:
                yield r.finding(
                    f"'{c.name}' requests {name} {request} but is limited to {limit}",
                    line=line_of(c.requests, name) or container_line(c, "resources"),
                    container=c,
                )


@rule(
    id="sidecar-missing-requests",
    title="A helper container has no cpu or memory request",
    severity="warning",
    rationale="Every running container adds to what the node must hold; a sidecar without "
    "requests is scheduled as if it were free, makes the pod Burstable, and is first in line "
    "for CPU starvation when the node is busy.",
    fix="Set resources.requests.cpu and .memory on the helper from its observed usage.",
)
def sidecar_missing_requests(r: Rule, ctx: Context) -> Iterator[Finding]:
    if len(ctx.pod.all_containers) < 2:
        return
    for c in ctx.pod.all_containers:
        if c.lifecycle == "init" or ctx.role(c) not in HELPER_ROLES:
            continue
        key = c.name or f"{c.list_name}[{c.index}]"
        requests = ctx.sizing.container_requests.get(key, {})
        missing = [n for n in ("cpu", "memory") if n not in requests]
        if missing:
            yield r.finding(
                f"{ctx.role(c)} '{c.name}' has no {' or '.join(missing)} request",
                line=container_line(c, "resources") or c.line,
                container=c,
            )


@rule(
    id="memory-backed-emptydir",
    title="A memory-backed emptyDir counts against memory",
    severity="warning",
    rationale="emptyDir with medium: Memory is a tmpfs: what is written there is charged to the "
    "memory of the containers, so a full volume can get the app OOM-killed. Without sizeLimit "
    "it can grow until the memory limit (or the node) runs out.",
    fix="Set emptyDir.sizeLimit and add that size to the memory limit of the containers that "
    "write to the volume.",
    also=("info",),
    severity_reason="Lowered to info when sizeLimit is set: the volume is bounded, only its "
    "cost in memory is worth knowing.",
)
def memory_backed_emptydir(r: Rule, ctx: Context) -> Iterator[Finding]:
    for name, volume in ctx.pod.volumes.items():
        empty_dir = get_map(volume, "emptyDir")
        if get_str(empty_dir, "medium") != "Memory":
            continue
        users = [c.name for c in ctx.pod.all_containers if name in c.volume_mounts]
        mounted = f"mounted by {', '.join(users)}" if users else "not mounted by any container"
        size = empty_dir.get("sizeLimit")
        if size is None:
            yield r.finding(
                f"volume '{name}' is memory-backed with no sizeLimit ({mounted}); it can use "
                "memory up to the pod's limit",
                line=line_of(volume, "emptyDir") or line_of(volume),
            )
            continue
        yield r.finding(
            f"volume '{name}' is memory-backed, up to {_show(size)} ({mounted}); that much "
            "memory comes out of the containers' limits",
            line=line_of(empty_dir, "sizeLimit") or line_of(volume),
            severity="info",
        )


def _show(size: object) -> str:
    try:
        return str(parse_quantity(size))  # type: ignore[arg-type]
    except QuantityError:
        return str(size)


RULES = [invalid_quantity, request_exceeds_limit, sidecar_missing_requests, memory_backed_emptydir]
