"""Rules about pod termination."""

from __future__ import annotations

from collections.abc import Iterator

from advisor.core.rules.base import Context, Finding, Rule, rule
from advisor.core.source import get_int, get_map, line_of


@rule(
    id="shutdown-exceeds-grace-period",
    title="preStop hooks and shutdown take longer than the grace period",
    severity="warning",
    rationale="All preStop hooks and the ordered stop of sidecars share one budget, "
    "terminationGracePeriodSeconds. When it runs out the kubelet sends SIGKILL: requests in "
    "flight are cut, logs and traces are not flushed.",
    fix="Raise terminationGracePeriodSeconds above the longest preStop plus the time the app "
    "and its sidecars need to exit, or shorten the hooks.",
)
def shutdown_exceeds_grace_period(r: Rule, ctx: Context) -> Iterator[Finding]:
    grace = ctx.pod.grace_seconds
    line = line_of(ctx.pod.spec, "terminationGracePeriodSeconds") or ctx.pod.line
    for c in ctx.pod.all_containers:
        sleep = get_int(get_map(get_map(c.lifecycle_hooks, "preStop"), "sleep"), "seconds")
        if sleep is not None and sleep > grace:
            yield r.finding(
                f"'{c.name}' has a preStop sleep of {sleep}s, more than the {grace}s grace "
                "period; the API server rejects a sleep longer than the grace period",
                line=line_of(get_map(c.lifecycle_hooks, "preStop"), "sleep") or c.line,
                container=c,
                severity="error",
            )
    killed = sorted(
        {m.container for m in ctx.shutdown.markers if m.label.startswith("SIGKILL") and m.container}
    )
    if killed:
        yield r.finding(
            f"with the assumed timings, {', '.join(repr(k) for k in killed)} "
            f"{'is' if len(killed) == 1 else 'are'} still running when the {grace}s grace "
            f"period runs out and get SIGKILL; shutdown takes {ctx.shutdown.total_seconds:g}s",
            line=line,
        )


RULES = [shutdown_exceeds_grace_period]
