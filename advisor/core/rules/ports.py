"""Rules about the network namespace the containers of a pod share."""

from __future__ import annotations

from collections.abc import Iterator

from advisor.core.model import Container
from advisor.core.rules.base import Context, Finding, Rule, rule


@rule(
    id="duplicate-container-port",
    title="Two containers of one pod use the same port",
    severity="error",
    rationale="All containers of a pod share one network namespace: only one process can bind "
    "a given port and protocol. The second container fails to start or crash-loops, and a "
    "duplicate hostPort is rejected by the API server.",
    fix="Give each container its own port (and change the probes and Service targetPort that "
    "refer to it).",
)
def duplicate_container_port(r: Rule, ctx: Context) -> Iterator[Finding]:
    owners: dict[tuple[int, str], Container] = {}
    # Plain init containers run alone (before the app), so only concurrent ones can collide.
    concurrent = [c for c in ctx.pod.all_containers if c.lifecycle != "init"]
    for c in concurrent:
        for port in c.ports:
            if port.number is None:
                continue
            key = (port.number, port.protocol)
            first = owners.get(key)
            if first is not None and first is not c:
                yield r.finding(
                    f"'{first.name}' and '{c.name}' both declare port {port.number}/"
                    f"{port.protocol}; they share the pod's network namespace",
                    line=port.line or c.line,
                    container=c,
                )
            owners.setdefault(key, c)


@rule(
    id="local-port-typo",
    title="A localhost call reaches a port nothing in the pod serves, next to one that is served",
    severity="warning",
    rationale="Containers of a pod reach each other on localhost. A call to a local port that "
    "no container declares or listens on fails with 'connection refused'; when another "
    "container serves a port one typo away (a digit changed, two swapped, off by one), the "
    "call almost certainly meant that port.",
    fix="Point the call at the port the helper serves, or declare the port on the container "
    "that listens on it.",
)
def local_port_typo(r: Rule, ctx: Context) -> Iterator[Finding]:
    for loose in ctx.wired.dangling:
        if loose.near is None:
            continue
        yield r.finding(
            f"'{loose.container}' calls local port {loose.port} ({loose.evidence}), which "
            f"nothing in the pod serves; '{loose.near.container}' serves {loose.near.port}",
            line=loose.line,
            container=loose.container,
            fix=f"Use port {loose.near.port} (served by '{loose.near.container}'), or declare "
            f"port {loose.port} on the container that listens on it.",
        )


RULES = [duplicate_container_port, local_port_typo]
