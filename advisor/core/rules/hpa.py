"""Rules about HorizontalPodAutoscalers and the pods they scale."""

from __future__ import annotations

from collections.abc import Iterator

from advisor.core.rules.base import Finding, HpaContext, Rule, rule
from advisor.core.versions import feature_state

INJECTED = ("istio-proxy", "linkerd-proxy", "vault-agent", "cloudsql-proxy")


def _running(ctx: HpaContext) -> list:
    """Containers whose usage the HPA averages: regular containers and native sidecars."""
    return [c for c in ctx.workload.pod.all_containers if c.lifecycle != "init"]


@rule(
    id="hpa-resource-metric-on-multi-container-pod",
    title="HPA averages a resource over every container of the pod",
    severity="warning",
    rationale="A Resource metric divides the usage of all containers by the sum of their "
    "requests. A busy app beside an idle sidecar looks half as busy as it is (or a busy "
    "sidecar scales the app), so the HPA scales at the wrong time.",
    fix="Use a ContainerResource metric that names the app container "
    "(autoscaling/v2, on by default since Kubernetes 1.27, GA in 1.30).",
    scope="hpa",
)
def hpa_resource_metric(r: Rule, ctx: HpaContext) -> Iterator[Finding]:
    running = _running(ctx)
    if len(running) < 2:
        return
    state = feature_state("HPAContainerMetrics", ctx.kubernetes_version)
    extra = (
        ""
        if state.enabled_by_default
        else (f" (in Kubernetes {state.version_text} {state.describe()})")
    )
    for metric in ctx.hpa.metrics:
        if metric.type != "Resource":
            continue
        names = ", ".join(c.name for c in running)
        yield r.finding(
            f"HPA '{ctx.hpa.name}' scales on pod-wide {metric.resource or 'resource'} "
            f"utilisation of {len(running)} containers ({names}); use ContainerResource for "
            f"the app container{extra}",
            line=metric.line or ctx.hpa.line,
        )


@rule(
    id="hpa-container-not-found",
    title="HPA ContainerResource names a container the pod does not have",
    severity="error",
    rationale="The HPA cannot compute the metric for a container that does not exist, and "
    "stops scaling on it.",
    fix="Use the name of a container in the target's pod template.",
    scope="hpa",
    also=("warning",),
    severity_reason="Lowered to warning when the name is one a mesh or agent webhook injects at "
    "admission (istio-proxy, linkerd-proxy, ...): the container may exist in the running pod.",
)
def hpa_container_not_found(r: Rule, ctx: HpaContext) -> Iterator[Finding]:
    names = {c.name for c in ctx.workload.pod.all_containers}
    for metric in ctx.hpa.metrics:
        if metric.type != "ContainerResource" or metric.container in names:
            continue
        injected = metric.container in INJECTED
        note = (
            "; it looks like a sidecar injected at admission by a mesh or agent webhook, which "
            "this manifest does not show"
            if injected
            else ""
        )
        yield r.finding(
            f"HPA '{ctx.hpa.name}' measures container '{metric.container}', which is not in "
            f"{ctx.workload.kind} '{ctx.workload.name}' ({', '.join(sorted(names)) or 'none'})"
            f"{note}",
            line=metric.line or ctx.hpa.line,
            severity="warning" if injected else None,
        )


@rule(
    id="hpa-target-missing-request",
    title="HPA utilisation target on containers without requests",
    severity="error",
    rationale="Utilisation is usage divided by request. If any container the HPA averages has "
    "no request for that resource, the HPA cannot compute utilisation and does not scale.",
    fix="Set the request for that resource on every container of the pod (or use a "
    "ContainerResource metric for a container that has one).",
    scope="hpa",
)
def hpa_target_missing_request(r: Rule, ctx: HpaContext) -> Iterator[Finding]:
    for metric in ctx.hpa.metrics:
        if metric.type == "Resource":
            scope = _running(ctx)
        elif metric.type == "ContainerResource":
            scope = [c for c in _running(ctx) if c.name == metric.container]
        else:
            continue
        missing = [c.name for c in scope if not _requests(c, metric.resource)]
        if metric.resource and missing:
            yield r.finding(
                f"HPA '{ctx.hpa.name}' targets {metric.resource} utilisation, but "
                f"{', '.join(repr(m) for m in missing)} set no {metric.resource} request",
                line=metric.line or ctx.hpa.line,
            )


def _requests(container, resource: str) -> bool:
    return resource in container.requests or resource in container.limits


RULES = [hpa_resource_metric, hpa_container_not_found, hpa_target_missing_request]
