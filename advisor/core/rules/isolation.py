"""Rules about what the containers of one pod share, and whether they should."""

from __future__ import annotations

from collections.abc import Iterator

from advisor.core.model import Container
from advisor.core.rules.base import Context, Finding, Rule, rule
from advisor.core.source import line_of


@rule(
    id="share-process-namespace",
    title="Containers share one process namespace",
    severity="warning",
    rationale="With shareProcessNamespace every container sees (and can signal) every other "
    "container's processes, and can read their environment and files through /proc, secrets "
    "included; the app is no longer PID 1 and gets no SIGTERM from the runtime as PID 1.",
    fix="Remove shareProcessNamespace unless a helper really must see the app's processes "
    "(debugging, a process reaper); use kubectl debug for ad-hoc debugging instead.",
)
def share_process_namespace(r: Rule, ctx: Context) -> Iterator[Finding]:
    if ctx.pod.spec.get("shareProcessNamespace") is True:
        yield r.finding(
            f"shareProcessNamespace: true exposes the processes of all "
            f"{len(ctx.pod.all_containers)} containers to each other",
            line=line_of(ctx.pod.spec, "shareProcessNamespace"),
        )


@rule(
    id="unrelated-containers",
    title="Containers that look like separate applications",
    severity="warning",
    rationale="Containers belong in one pod when they share fate: files, localhost or start and "
    "stop order. Two apps that share none of these are scaled, restarted and scheduled "
    "together for no reason, and one's crash takes the other's replica down.",
    fix="Run each application in its own Deployment and let them talk through a Service.",
)
def unrelated_containers(r: Rule, ctx: Context) -> Iterator[Finding]:
    servers = [c for c in ctx.pod.containers if c.ports and not _catalogued(ctx, c)]
    if len(servers) < 2:
        return
    wiring = ctx.wired
    groups: dict[str, Container] = {}
    for c in servers:
        groups.setdefault(wiring.group(c.name), c)
    if len(groups) < 2:
        return
    first, *others = groups.values()
    second = others[0]
    apps = [c.name for c in groups.values() if ctx.role(c) == "app"]
    verdict = (
        f"; they are separate apps ({', '.join(repr(a) for a in apps)})" if len(apps) > 1 else ""
    )
    yield r.finding(
        f"'{first.name}' and '{second.name}' both serve their own ports, and no edge of the "
        f"pod's wiring links them (no shared volume, localhost call, proxy or process "
        f"namespace){verdict}",
        line=second.line,
        container=second,
    )


def _catalogued(ctx: Context, c: Container) -> bool:
    assignment = ctx.roles.get(c.name)
    return assignment is not None and assignment.source == "catalogue"


RULES = [share_process_namespace, unrelated_containers]
