"""Rules about probes, hooks and start-up gating."""

from __future__ import annotations

from collections.abc import Iterator

from advisor.core.model import Container
from advisor.core.rules.base import (
    Context,
    Finding,
    Rule,
    by_sidecar_support,
    container_line,
    rule,
)
from advisor.core.wiring import Edge

PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


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
                    fix=by_sidecar_support(
                        ctx.kubernetes_version,
                        native=r.fix,
                        older="Remove the probe or hook: only native sidecars may have them, "
                        "and they need Kubernetes 1.29 or newer.",
                    ),
                )


@rule(
    id="sidecar-without-startup-probe",
    title="The app may start before the helper it needs is ready",
    severity="warning",
    rationale="The kubelet starts the next container as soon as a native sidecar has started; "
    "only a startupProbe makes it wait until the helper actually serves. A proxy or config "
    "helper without one races the app at every start. It fires only where the pod's wiring "
    "shows the app needs the helper at start (it calls the helper, reads files the helper "
    "writes, or its traffic passes through the helper); a helper that depends on the app (a "
    "metrics exporter, a config reloader, an auth proxy in front of it) is not gated. The "
    "classic-sidecar variant is lowered to info: moving the helper is a design change.",
    fix="Add a startupProbe to the sidecar (for a proxy, a tcpSocket or httpGet check on its "
    "listening port).",
    also=("info",),
    severity_reason="Lowered to info for a classic sidecar (in spec.containers) on 1.29+: "
    "moving it to a native sidecar is a design change, not a defect.",
)
def sidecar_without_startup_probe(r: Rule, ctx: Context) -> Iterator[Finding]:
    if not ctx.pod.sidecars and len(ctx.pod.containers) < 2:
        return  # no native sidecar, and a lone regular container is nobody's classic sidecar
    wiring = ctx.wired
    apps = [c for c in ctx.pod.containers if ctx.role(c) == "app"]

    def needed_by(helper: Container) -> tuple[Container, Edge] | None:
        """The first app whose wiring shows it needs ``helper`` up at start."""
        known = ctx.roles.get(helper.name)
        if (
            known is not None
            and known.needed_at_start is False
            and known.role in ("adapter", "sidecar")
        ):
            return None  # a known telemetry sink: the app sends to it but does not wait for it
        for app in apps:
            edge = wiring.depends_on(app.name, helper.name)
            if edge is not None:
                return app, edge
        return None

    for c in ctx.pod.sidecars:
        if c.probe("startupProbe") is not None:
            continue
        need = needed_by(c)
        if need is None:
            continue
        app, edge = need
        yield r.finding(
            f"native sidecar '{c.name}' ({ctx.role(c)}) has no startupProbe, but '{app.name}' "
            f"needs it at start ({edge.kind}: {edge.evidence}), so it may start before "
            f"'{c.name}' is ready",
            line=c.line,
            container=c,
        )
    if ctx.kubernetes_version < (1, 29):
        return
    for c in ctx.pod.containers:
        if ctx.role(c) == "app" or len(ctx.pod.containers) < 2:
            continue
        need = needed_by(c)
        if need is None:
            continue
        app, edge = need
        yield r.finding(
            f"'{c.name}' ({ctx.role(c)}) is a classic sidecar that '{app.name}' needs at start "
            f"({edge.kind}: {edge.evidence}); it starts in parallel with the app and nothing "
            "gates the app's start on it",
            line=c.line,
            container=c,
            severity="info",
            fix="Move it to initContainers with restartPolicy: Always and a startupProbe.",
        )


RULES = [probe_on_init_container, sidecar_without_startup_probe]
