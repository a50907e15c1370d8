"""The rule registry's building blocks: a rule, its findings, and what a rule may look at."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import field
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from advisor.core.model import HPA, Container, PodTemplate, Workload
from advisor.core.records import dataclass
from advisor.core.source import line_of

if TYPE_CHECKING:
    from advisor.core.lifecycle import Timeline
    from advisor.core.roles import RoleAssignment
    from advisor.core.schema import SchemaIssue
    from advisor.core.sizing import Sizing
    from advisor.core.wiring import Wiring

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


@dataclass(frozen=True)
class Finding:
    """One problem found in one workload, at one line, with the fix."""

    rule: str
    severity: Severity
    message: str
    fix: str
    line: int | None = None
    container: str | None = None
    file: str | None = None  # set when the finding is in another file (an HPA's)


@dataclass(frozen=True)
class Context:
    """Everything a pod rule may read: the workload and the results of every earlier stage."""

    workload: Workload
    roles: Mapping[str, RoleAssignment]
    sizing: Sizing
    startup: Timeline
    shutdown: Timeline
    schema_issues: tuple[SchemaIssue, ...]
    kubernetes_version: tuple[int, int]
    api_defaults: bool
    wiring: Wiring | None = None

    @cached_property
    def pod(self) -> PodTemplate:
        return self.workload.pod

    @cached_property
    def wired(self) -> Wiring:
        """The pod's wiring (built by the analysis; computed here when a test left it out)."""
        if self.wiring is not None:
            return self.wiring
        from advisor.core.wiring import wire

        return wire(self.pod)

    def role(self, container: Container) -> str:
        """Return the role assigned to ``container`` ('app' when unknown)."""
        assignment = self.roles.get(container.name)
        return assignment.role if assignment is not None else "app"

    def is_long_running(self, container: Container) -> tuple[bool, str]:
        assignment = self.roles.get(container.name)
        if assignment is None:
            return True, "nothing shows that it exits on its own"
        return assignment.long_running, assignment.long_running_reason


@dataclass(frozen=True)
class HpaContext:
    """What an HPA rule reads: the autoscaler and the workload it scales."""

    hpa: HPA
    workload: Workload
    roles: Mapping[str, RoleAssignment]
    kubernetes_version: tuple[int, int]


Check = Callable[..., Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """A check with a stable id; saved reviews store the id, so it never changes."""

    id: str
    title: str
    severity: Severity
    rationale: str
    fix: str
    check: Check = field(repr=False, compare=False)
    scope: Literal["pod", "hpa"] = "pod"
    area: str = ""
    also: tuple[Severity, ...] = ()  # other severities a finding may take
    severity_reason: str = ""  # when and why a finding takes one of them

    @property
    def severities(self) -> tuple[Severity, ...]:
        """Every severity this rule's findings can have, most severe first."""
        wanted = {self.severity, *self.also}
        return tuple(s for s in SEVERITIES if s in wanted)

    def finding(
        self,
        message: str,
        *,
        line: int | None = None,
        container: Container | str | None = None,
        fix: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """Build a finding of this rule."""
        name = container.name if isinstance(container, Container) else container
        if severity is not None and severity not in self.severities:
            raise ValueError(f"rule {self.id} does not declare severity {severity!r}")
        return Finding(
            rule=self.id,
            severity=severity or self.severity,
            message=message,
            fix=fix or self.fix,
            line=line,
            container=name,
        )


def rule(
    *,
    id: str,
    title: str,
    severity: Severity,
    rationale: str,
    fix: str,
    scope: Literal["pod", "hpa"] = "pod",
    also: tuple[Severity, ...] = (),
    severity_reason: str = "",
) -> Callable[[Check], Rule]:
    """Turn a check function ``(rule, ctx) -> findings`` into a :class:`Rule`.

    ``also`` lists the other severities a finding may take, and ``severity_reason`` says when;
    a rule that declares one must explain it.
    """
    if also and not severity_reason:
        raise ValueError(f"rule {id!r} declares other severities without a reason")

    def wrap(fn: Check) -> Rule:
        area = fn.__module__.rsplit(".", 1)[-1]
        return Rule(id, title, severity, rationale, fix, fn, scope, area, also, severity_reason)

    return wrap


def build_registry(rules: Iterable[Rule]) -> dict[str, Rule]:
    """Index rules by id; a duplicate id is an error at import time."""
    registry: dict[str, Rule] = {}
    for r in rules:
        if r.id in registry:
            raise ValueError(f"duplicate rule id {r.id!r}")
        if r.id != r.id.lower() or " " in r.id:
            raise ValueError(f"rule id {r.id!r} must be kebab-case")
        registry[r.id] = r
    return registry


def by_sidecar_support(version: tuple[int, int], *, native: str, older: str) -> str:
    """Pick the fix text the target version can run: ``native`` once native sidecars are on by
    default (1.29+), else ``older`` (a fix must never suggest what the cluster cannot run)."""
    from advisor.core.versions import feature_state

    return native if feature_state("SidecarContainers", version).enabled_by_default else older


def container_line(container: Container, key: str | None = None) -> int | None:
    """Return the line of ``key`` in a container, or of the container itself."""
    return line_of(container.raw, key) if key else container.line


def iter_containers(pod: PodTemplate) -> Iterator[Container]:
    yield from pod.all_containers
