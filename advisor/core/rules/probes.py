"""Rules about probes, hooks and start-up gating."""

from __future__ import annotations

from collections.abc import Iterator

from advisor.core.rules.base import Context, Finding, Rule, container_line, rule

PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
GATED_ROLES = ("ambassador", "config-helper")


@rule(
    id="probe-on-init-container",
    title="Probes or lifecycle hooks on a plain init container",
    severity="error",
    rationale="A plain init container runs to completion, so the API server forbids probes and "
    "lifecycle hooks on it; only a native sidecar (restartPolicy: Always) may have them.",
    fix="Remove the probe or hook, or make the container a native sidecar with "
    "restartPolicy: Always if it is meant to keep running.",
)
def probe_on_init_container(r: Rule, ctx: Context) -> Iterator[Finding]:
    for c in ctx.pod.init_containers:
        if c.lifecycle != "init":
            continue
        for key in (*PROBES, "lifecycle"):
            if key in c.raw:
                yield r.finding(
                    f"init container '{c.name}' sets {key}, which the API server rejects "
                    "without restartPolicy: Always",
                    line=container_line(c, key),
                    container=c,
                )


@rule(
    id="sidecar-without-startup-probe",
    title="The app may start before the helper it needs is ready",
    severity="warning",
    rationale="The kubelet starts the next container as soon as a native sidecar has started; "
    "only a startupProbe makes it wait until the helper actually serves. A proxy or config "
    "helper without one races the app at every start.",
    fix="Add a startupProbe to the sidecar (for a proxy, a tcpSocket or httpGet check on its "
    "listening port).",
)
def sidecar_without_startup_probe(r: Rule, ctx: Context) -> Iterator[Finding]:
    for c in ctx.pod.sidecars:
        if c.probe("startupProbe") is None and ctx.role(c) in GATED_ROLES:
            yield r.finding(
                f"native sidecar '{c.name}' ({ctx.role(c)}) has no startupProbe, so the "
                "containers after it start without waiting for it to be ready",
                line=c.line,
                container=c,
            )
    if ctx.kubernetes_version < (1, 29):
        return
    for c in ctx.pod.containers:
        if ctx.role(c) in GATED_ROLES and len(ctx.pod.containers) > 1:
            yield r.finding(
                f"'{c.name}' ({ctx.role(c)}) is a classic sidecar: it starts in parallel with "
                "the app and nothing gates the app's start on it",
                line=c.line,
                container=c,
                severity="info",
                fix="Move it to initContainers with restartPolicy: Always and a startupProbe.",
            )


RULES = [probe_on_init_container, sidecar_without_startup_probe]
