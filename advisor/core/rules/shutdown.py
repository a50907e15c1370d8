"""Rules about pod termination."""

from __future__ import annotations

import re
from collections.abc import Iterator

from advisor.core.lazy import lazy_re
from advisor.core.model import Container
from advisor.core.rules.base import Context, Finding, Rule, rule
from advisor.core.source import get_int, get_list, get_map, line_of


@rule(
    id="shutdown-exceeds-grace-period",
    title="preStop hooks and shutdown take longer than the grace period",
    severity="warning",
    rationale="All preStop hooks and the ordered stop of sidecars share one budget, "
    "terminationGracePeriodSeconds. When it runs out the kubelet sends SIGKILL: requests in "
    "flight are cut, logs and traces are not flushed.",
    fix="Raise terminationGracePeriodSeconds above the longest preStop plus the time the app "
    "and its sidecars need to exit, or shorten the hooks.",
    also=("error",),
    severity_reason="Raised to error for a preStop sleep longer than the grace period: the API "
    "server rejects the pod.",
)
def shutdown_exceeds_grace_period(r: Rule, ctx: Context) -> Iterator[Finding]:
    grace = ctx.pod.grace_seconds
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
        line = line_of(ctx.pod.spec, "terminationGracePeriodSeconds") or ctx.pod.line
        yield r.finding(
            f"with the assumed timings, {', '.join(repr(k) for k in killed)} "
            f"{'is' if len(killed) == 1 else 'are'} still running when the {grace}s grace "
            f"period runs out and get SIGKILL; shutdown takes {ctx.shutdown.total_seconds:g}s",
            line=line,
        )


DRAIN_FLAG = lazy_re(
    r"--?(?:drain[-_]?time(?:[-_]?s)?|drain[-_]?duration|termination[-_]?drain[-_]?duration|"
    r"shutdown[-_]?delay(?:[-_]?duration)?|graceful[-_]?shutdown[-_]?timeout|"
    r"parent[-_]?shutdown[-_]?time(?:[-_]?s)?)=(\S+)",
    re.I,
)
DURATION = lazy_re(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
SLEEP = lazy_re(r"\bsleep\s+(\d+(?:\.\d+)?)\b")


def _seconds(text: str, unit_default: str = "s") -> float | None:
    """Read a Go-style duration (``45s``, ``1m``, ``500ms``) or a bare number of seconds."""
    found = DURATION.fullmatch(text.strip().strip("\"'"))
    if not found:
        return None
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[found[2] or unit_default]
    return float(found[1]) * scale


def _prestop_seconds(c: Container) -> tuple[float, str] | None:
    """The time the preStop hook itself takes: its sleep, or the sleeps of its exec command."""
    pre = get_map(c.lifecycle_hooks, "preStop")
    seconds = get_int(get_map(pre, "sleep"), "seconds")
    if seconds is not None:
        return float(seconds), f"preStop sleep {seconds}s"
    command = get_list(get_map(pre, "exec"), "command")
    text = " ".join(str(w) for w in command if isinstance(w, (str, int, float)))
    total = sum(float(m[1]) for m in SLEEP.finditer(text))
    return (total, f"preStop exec sleeping {total:g}s") if total else None


def _drain_seconds(c: Container) -> tuple[float, str] | None:
    """A drain or shutdown-delay flag of the container's own command, in seconds."""
    words = [str(w) for w in get_list(c.raw, "command") + get_list(c.raw, "args")]
    for word in words:
        found = DRAIN_FLAG.fullmatch(word)
        if found:
            seconds = _seconds(found[1])
            if seconds is not None:
                return seconds, word
    return None


@rule(
    id="prestop-drain-exceeds-grace",
    title="A container's preStop plus its own drain time exceed the grace period",
    severity="warning",
    rationale="terminationGracePeriodSeconds is one budget per container, counted from the "
    "start of its preStop hook: the hook, then the drain the process does after SIGTERM "
    "(Envoy's --drain-time-s, a --shutdown-delay-duration, ...) must both fit in it, or the "
    "kubelet sends SIGKILL mid-drain. Counted from the manifest alone, per container, without "
    "the simulation's assumptions.",
    fix="Raise terminationGracePeriodSeconds above the hook plus the drain time, or shorten "
    "one of them.",
)
def prestop_drain_exceeds_grace(r: Rule, ctx: Context) -> Iterator[Finding]:
    grace = ctx.pod.grace_seconds
    for c in ctx.pod.all_containers:
        if c.lifecycle == "init":
            continue
        drain = _drain_seconds(c)
        if drain is None:
            continue  # no drain flag: nothing to add to the hook (the other rule checks it)
        hook = _prestop_seconds(c)
        if hook is None and drain[0] <= grace:
            continue
        total = (hook[0] if hook else 0.0) + drain[0]
        if total > grace:
            parts = " + ".join(p[1] for p in (hook, drain) if p is not None)
            yield r.finding(
                f"'{c.name}' needs {total:g}s to stop ({parts}), more than the {grace}s grace "
                "period; it is killed before it has drained",
                line=c.line,
                container=c,
            )


RULES = [shutdown_exceeds_grace_period, prestop_drain_exceeds_grace]
