"""Rules about features the target Kubernetes version may not have."""

from __future__ import annotations

from collections.abc import Iterator

from advisor.core.rules.base import (
    Context,
    Finding,
    HpaContext,
    Rule,
    by_sidecar_support,
    container_line,
    rule,
)
from advisor.core.source import get_map, line_of
from advisor.core.versions import feature_state, format_version


@rule(
    id="native-sidecar-requires-version",
    title="Native sidecars need Kubernetes 1.29 or newer",
    severity="error",
    rationale="restartPolicy: Always on an init container is alpha (off by default) in 1.28, "
    "on by default from 1.29 and GA in 1.33. Older clusters drop the field, and the "
    "'sidecar' becomes an init container that never exits: the pod stays in Init forever.",
    fix="Upgrade the cluster to 1.29+ (1.33+ for GA), enable the SidecarContainers feature "
    "gate on 1.28, or run the helper as a classic sidecar in spec.containers.",
)
def native_sidecar_requires_version(r: Rule, ctx: Context) -> Iterator[Finding]:
    state = feature_state("SidecarContainers", ctx.kubernetes_version)
    if state.enabled_by_default:
        return
    for c in ctx.pod.sidecars:
        yield r.finding(
            f"'{c.name}' is a native sidecar, but in Kubernetes {state.version_text} "
            f"{state.describe()}",
            line=container_line(c, "restartPolicy"),
            container=c,
        )


@rule(
    id="pod-level-resources-requires-version",
    title="Pod-level resources need Kubernetes 1.34 or newer",
    severity="warning",
    rationale="spec.resources at pod level is alpha (off by default) from 1.32 and beta, on by "
    "default, from 1.34. Without the feature the API server drops the field and the pod is "
    "sized from its containers alone.",
    fix="Target 1.34+ or enable the PodLevelResources feature gate; otherwise set resources "
    "per container.",
)
def pod_level_resources_requires_version(r: Rule, ctx: Context) -> Iterator[Finding]:
    if not get_map(ctx.pod.spec, "resources"):
        return
    state = feature_state("PodLevelResources", ctx.kubernetes_version)
    if not state.enabled_by_default:
        yield r.finding(
            f"pod-level spec.resources is set, but in Kubernetes {state.version_text} "
            f"{state.describe()}; the sizing ignores it",
            line=line_of(ctx.pod.spec, "resources"),
        )


# group/version -> (first minor version that no longer serves it, replacement)
REMOVED_APIS: dict[str, tuple[int, str]] = {
    "extensions/v1beta1": (16, "apps/v1"),
    "apps/v1beta1": (16, "apps/v1"),
    "apps/v1beta2": (16, "apps/v1"),
    "batch/v1beta1": (25, "batch/v1"),
    "policy/v1beta1": (25, "policy/v1"),
    "autoscaling/v2beta1": (25, "autoscaling/v2"),
    "autoscaling/v2beta2": (26, "autoscaling/v2"),
}


def removed_api(api_version: str, version: tuple[int, int]) -> tuple[int, str] | None:
    """Return (removed in 1.N, replacement) when ``version`` no longer serves ``api_version``."""
    found = REMOVED_APIS.get(api_version.strip())
    if found is None or version[1] < found[0]:
        return None
    return found


_REMOVED_RATIONALE = (
    "The API server of the target version no longer serves this group/version: kubectl apply "
    "fails with 'no matches for kind'. Removed: extensions/v1beta1, apps/v1beta1 and "
    "apps/v1beta2 workloads in 1.16 (use apps/v1); batch/v1beta1 CronJob, policy/v1beta1 and "
    "autoscaling/v2beta1 in 1.25 (batch/v1, policy/v1, autoscaling/v2); autoscaling/v2beta2 in "
    "1.26 (autoscaling/v2)."
)


@rule(
    id="removed-api-version",
    title="The manifest uses an API version the target Kubernetes no longer serves",
    severity="error",
    rationale=_REMOVED_RATIONALE,
    fix="Change apiVersion to the replacement and adjust the fields that changed with it "
    "(apps/v1 requires spec.selector).",
)
def removed_api_version(r: Rule, ctx: Context) -> Iterator[Finding]:
    w = ctx.workload
    found = removed_api(w.api_version, ctx.kubernetes_version)
    if found is None:
        return
    removed, replacement = found
    yield r.finding(
        f"{w.kind} uses {w.api_version}, which Kubernetes stopped serving in 1.{removed}; "
        f"the target {format_version(ctx.kubernetes_version)} rejects it",
        line=line_of(w.raw, "apiVersion") or w.line,
        fix=f"Use apiVersion: {replacement}.",
    )


@rule(
    id="hpa-removed-api-version",
    title="The HorizontalPodAutoscaler uses an API version the target no longer serves",
    severity="error",
    rationale=_REMOVED_RATIONALE,
    fix="Rewrite the HPA as autoscaling/v2 (metrics take a target: {type, averageUtilization}).",
    scope="hpa",
)
def hpa_removed_api_version(r: Rule, ctx: HpaContext) -> Iterator[Finding]:
    found = removed_api(ctx.hpa.api_version, ctx.kubernetes_version)
    if found is None:
        return
    removed, replacement = found
    yield r.finding(
        f"HorizontalPodAutoscaler '{ctx.hpa.name}' uses {ctx.hpa.api_version}, which "
        f"Kubernetes stopped serving in 1.{removed}; use {replacement}",
        line=line_of(ctx.hpa.raw, "apiVersion") or ctx.hpa.line,
    )


@rule(
    id="restart-policy-on-regular-container",
    title="restartPolicy on a regular container",
    severity="error",
    rationale="Before container restart rules (the ContainerRestartRules gate: alpha and off "
    "by default in 1.34, beta and on by default from 1.35) the API server rejects restartPolicy "
    "on an entry of spec.containers ('may not be set for non-init containers'). Where the "
    "gate is on, the field is accepted but only overrides the pod's restart policy for that "
    "container: it never makes a helper a sidecar.",
    fix="To run a helper beside the app for the pod's whole life, move it to initContainers "
    "with restartPolicy: Always (a native sidecar, 1.29+); otherwise remove the field.",
    also=("info",),
    severity_reason="Lowered to info from 1.35, where container restart rules are on by "
    "default and the API server accepts the field.",
)
def restart_policy_on_regular_container(r: Rule, ctx: Context) -> Iterator[Finding]:
    state = feature_state("ContainerRestartRules", ctx.kubernetes_version)
    for c in ctx.pod.containers:
        if "restartPolicy" not in c.raw:
            continue
        value = c.raw.get("restartPolicy")
        if state.enabled_by_default:
            yield r.finding(
                f"'{c.name}' sets restartPolicy: {value} in spec.containers; Kubernetes "
                f"{state.version_text} accepts it as a per-container restart policy, but it "
                "does not make the container a sidecar",
                line=container_line(c, "restartPolicy"),
                container=c,
                severity="info",
            )
        else:
            yield r.finding(
                f"'{c.name}' sets restartPolicy: {value} in spec.containers; the API server of "
                f"Kubernetes {state.version_text} rejects it ({state.describe()})",
                line=container_line(c, "restartPolicy"),
                container=c,
                fix=by_sidecar_support(
                    ctx.kubernetes_version,
                    native=r.fix,
                    older="Remove the field. Native sidecars need Kubernetes 1.29 or newer; "
                    "until then a helper beside the app is a classic sidecar in "
                    "spec.containers (in a Job, make it exit when the app is done).",
                ),
            )


RULES = [
    native_sidecar_requires_version,
    pod_level_resources_requires_version,
    removed_api_version,
    hpa_removed_api_version,
    restart_policy_on_regular_container,
]
