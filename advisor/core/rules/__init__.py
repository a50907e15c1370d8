"""The rule registry: every rule the advisor runs, in the order they are listed here.

Ids are stable; saved reviews store them. Add a rule to its area's ``RULES`` list and the area
to ``AREAS``; a duplicate id fails at import.
"""

from __future__ import annotations

from advisor.core.rules import (
    hpa,
    isolation,
    manifest,
    ports,
    probes,
    resources,
    schema,
    shutdown,
    versions,
    workload,
)
from advisor.core.rules.base import (
    SEVERITIES,
    SEVERITY_RANK,
    Context,
    Finding,
    HpaContext,
    Rule,
    build_registry,
)

AREAS = (
    workload,
    ports,
    probes,
    versions,
    resources,
    shutdown,
    isolation,
    hpa,
    schema,
    manifest,
)
REGISTRY: dict[str, Rule] = build_registry(r for area in AREAS for r in area.RULES)
POD_RULES = tuple(r for r in REGISTRY.values() if r.scope == "pod")
HPA_RULES = tuple(r for r in REGISTRY.values() if r.scope == "hpa")

__all__ = [
    "HPA_RULES",
    "POD_RULES",
    "REGISTRY",
    "SEVERITIES",
    "SEVERITY_RANK",
    "Context",
    "Finding",
    "HpaContext",
    "Rule",
]
