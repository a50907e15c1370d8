"""Rules about features the target Kubernetes version may not have."""

from __future__ import annotations

from collections.abc import Iterator

from advisor.core.rules.base import Context, Finding, Rule, container_line, rule
from advisor.core.source import get_map, line_of
from advisor.core.versions import feature_state


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


RULES = [native_sidecar_requires_version, pod_level_resources_requires_version]
