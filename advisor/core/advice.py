"""One sentence per helper container on how to declare it better (the per-workload advice).

Kept apart from :mod:`advisor.core.matrix` (which re-exports it) so that analysing a manifest
does not load the decision matrix and the pattern catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable

from advisor.core.versions import feature_state, format_version

STARTUP_CRITICAL_ROLES = ("ambassador", "config-helper")


def advise_container(
    *,
    name: str,
    role: str,
    lifecycle: str,
    workload_kind: str,
    rule_ids: Iterable[str],
    kubernetes_version: tuple[int, int],
    needed_at_start: bool | None = None,
) -> str | None:
    """Return one sentence on how to declare a helper container better, or None.

    ``needed_at_start`` says whether the pod's wiring shows the app needs this helper when it
    starts; when it is not given, the role decides (ambassadors and config helpers are).
    """
    if role == "app" or lifecycle == "init":
        return None
    ids = set(rule_ids)
    native_ok = feature_state("SidecarContainers", kubernetes_version).enabled_by_default
    if lifecycle == "native-sidecar":
        if not native_ok:
            return _native_unavailable(name, kubernetes_version)
        if "sidecar-without-startup-probe" in ids:
            return (
                f"Add a startupProbe to '{name}' so the containers after it wait until it is ready."
            )
        return None
    if workload_kind in ("Job", "CronJob") and "classic-sidecar-blocks-job" in ids:
        if native_ok:
            return (
                f"Move '{name}' to initContainers with restartPolicy: Always so it no longer "
                "keeps the Job running."
            )
        return (
            f"Make '{name}' exit when the app is done (watch a marker file in a shared "
            "emptyDir, or offer a shutdown endpoint), or upgrade to 1.29+ and make it a native "
            "sidecar; as it is, it keeps the Job running."
        )
    critical = role in STARTUP_CRITICAL_ROLES if needed_at_start is None else needed_at_start
    if critical:
        if native_ok:
            return (
                f"Move '{name}' to initContainers with restartPolicy: Always and a startupProbe, "
                "so the app starts only once it is ready."
            )
        return (
            f"Make the app retry until '{name}' is ready: Kubernetes "
            f"{format_version(kubernetes_version)} has no native sidecars to start it first."
        )
    return None


def _native_unavailable(name: str, version: tuple[int, int]) -> str:
    """Advise on a native sidecar the target version does not run by default."""
    v = format_version(version)
    if feature_state("SidecarContainers", version).stage == "alpha":
        why = f"Kubernetes {v} runs '{name}' as a native sidecar only with the alpha "
        why += "SidecarContainers feature gate enabled (off by default)"
    else:
        why = f"Kubernetes {v} has no native sidecars, so '{name}' would never finish as an "
        why += "init container and the pod would stay in Init"
    return f"{why}; upgrade to 1.29+ or move it to containers as a classic sidecar."
