"""Kubernetes versions the advisor knows and the feature gates that matter to multi-container pods.

Facts from ``docs/kubernetes-semantics.md`` section (f).
"""

from __future__ import annotations

from dataclasses import dataclass

OLDEST = (1, 25)
NEWEST = (1, 37)
SUPPORTED = tuple((1, minor) for minor in range(OLDEST[1], NEWEST[1] + 1))


@dataclass(frozen=True)
class Feature:
    """A feature gate's history: the minor versions of alpha, beta (on by default) and GA."""

    name: str
    alpha: int | None
    beta: int | None
    ga: int | None
    what: str


FEATURES = {
    f.name: f
    for f in (
        Feature("SidecarContainers", 28, 29, 33, "native sidecars (restartPolicy: Always)"),
        Feature("HPAContainerMetrics", 20, 27, 30, "ContainerResource metrics in HPAs"),
        Feature("PodLevelResources", 32, 34, None, "pod-level spec.resources"),
        Feature("InPlacePodVerticalScaling", 27, 33, 35, "in-place resize"),
        Feature("ContainerRestartRules", 34, 35, None, "container restart policies and rules"),
    )
}


@dataclass(frozen=True)
class FeatureState:
    """Where a feature stands in one Kubernetes version."""

    feature: Feature
    version: tuple[int, int]
    stage: str  # "absent", "alpha", "beta", "ga"

    @property
    def enabled_by_default(self) -> bool:
        return self.stage in ("beta", "ga")

    @property
    def version_text(self) -> str:
        return format_version(self.version)

    def describe(self) -> str:
        """Say, in a clause, what the feature's state means for a user of that version."""
        f = self.feature
        if self.stage == "absent":
            return f"{f.what} do not exist yet (alpha in 1.{f.alpha})"
        if self.stage == "alpha":
            return f"{f.what} are alpha and off unless the {f.name} feature gate is enabled"
        if self.stage == "beta":
            return f"{f.what} are beta and on by default"
        return f"{f.what} are generally available"


_STATES: dict[tuple[str, tuple[int, int]], FeatureState] = {}


def feature_state(name: str, version: tuple[int, int]) -> FeatureState:
    """Return the stage of feature ``name`` in ``version`` (each answer is worked out once)."""
    try:
        return _STATES[name, version]
    except (KeyError, TypeError):  # not asked yet, or a version that is not a tuple
        pass
    state = _feature_state(name, version)
    if isinstance(version, tuple) and len(_STATES) < 1024:
        _STATES[name, version] = state
    return state


def _feature_state(name: str, version: tuple[int, int]) -> FeatureState:
    f = FEATURES[name]
    minor = version[1]
    stage = "absent"
    for label, since in (("alpha", f.alpha), ("beta", f.beta), ("ga", f.ga)):
        if since is not None and minor >= since:
            stage = label
    return FeatureState(f, version, stage)


def parse_version(text: str) -> tuple[int, int]:
    """Parse '1.31' (or 'v1.31', '1.31.2') into (1, 31); raise ValueError if unsupported."""
    cleaned = text.strip().lstrip("vV")
    parts = cleaned.split(".")
    try:
        major, minor = int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        raise ValueError(f"{text!r} is not a Kubernetes version like 1.31") from None
    if (major, minor) not in SUPPORTED:
        raise ValueError(
            f"Kubernetes {major}.{minor} is not supported; choose "
            f"{format_version(OLDEST)} to {format_version(NEWEST)}"
        )
    return major, minor


def format_version(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"
