"""Rules about what the containers of one pod share, and whether they should."""

from __future__ import annotations

import re
from collections.abc import Iterator

from advisor.core.model import Container
from advisor.core.rules.base import Context, Finding, Rule, rule
from advisor.core.source import get_list, line_of


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
    for i, first in enumerate(servers):
        for second in servers[i + 1 :]:
            if _coupled(first, second):
                continue
            yield r.finding(
                f"'{first.name}' and '{second.name}' both serve their own ports, share no "
                "volume and do not call each other over localhost",
                line=second.line,
                container=second,
            )
            return


def _catalogued(ctx: Context, c: Container) -> bool:
    assignment = ctx.roles.get(c.name)
    return assignment is not None and assignment.source == "catalogue"


def _coupled(a: Container, b: Container) -> bool:
    if set(a.volume_mounts) & set(b.volume_mounts):
        return True
    return _calls(a, b) or _calls(b, a)


def _calls(caller: Container, callee: Container) -> bool:
    text = " ".join(caller.command_line + _env_values(caller))
    for port in callee.ports:
        if port.number is not None and re.search(
            rf"(localhost|127\.0\.0\.1|0\.0\.0\.0)?:{port.number}\b", text
        ):
            return True
    return "localhost" in text or "127.0.0.1" in text


def _env_values(c: Container) -> list[str]:
    return [str(e.get("value")) for e in get_list(c.raw, "env") if isinstance(e, dict)]


RULES = [share_process_namespace, unrelated_containers]
