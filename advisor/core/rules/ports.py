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


RULES = [duplicate_container_port]
