"""Run every stage over an input and collect one report: the ``analyze`` entry point.

parse -> (per workload) schema, roles, sizing, lifecycle, rules, advice -> HPA rules -> report.
Documents are analysed one at a time and their raw text is not kept, so a 10 MB input costs
little more memory than its results.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from advisor.core import ANALYZER_VERSION
from advisor.core.budget import Budget, BudgetExceeded
from advisor.core.errors import InputError
from advisor.core.intake import hpa_targets, listed_only, read_document
from advisor.core.lifecycle import Assumptions, Timeline, simulate_shutdown, simulate_startup
from advisor.core.matrix import advise_container
from advisor.core.model import HPA, Container, PodTemplate, Problem, Skipped, Workload
from advisor.core.roles import Catalogue, RoleAssignment, classify, load_catalogue
from advisor.core.rules import HPA_RULES, POD_RULES, SEVERITY_RANK, Context, Finding, HpaContext
from advisor.core.schema import validate
from advisor.core.sizing import Sizing, effective_resources
from advisor.core.source import get_map
from advisor.core.versions import NEWEST, feature_state, format_version
from advisor.core.yamlload import Limits, decode, iter_documents, with_big_stack

IGNORE_ANNOTATION = "pod-advisor.io/ignore"


@dataclass(frozen=True)
class Options:
    """How to analyse: target version, API defaulting, simulation assumptions, limits."""

    kubernetes_version: tuple[int, int] = NEWEST
    api_defaults: bool = True
    assumptions: Assumptions = field(default_factory=Assumptions)
    limits: Limits = field(default_factory=Limits)
    catalogue: Catalogue | None = None


@dataclass(frozen=True)
class ContainerReport:
    """One container: where it runs in the pod's life, its role and the advice for it."""

    name: str
    lifecycle: str
    role: str
    reason: str
    line: int | None
    image: str
    long_running: bool
    advice: str | None


@dataclass(frozen=True)
class Advice:
    """The pattern(s) a pod follows and what to change, container by container."""

    patterns: tuple[str, ...]
    summary: str
    per_container: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class WorkloadReport:
    """Everything the advisor says about one workload."""

    workload: Workload
    containers: tuple[ContainerReport, ...]
    sizing: Sizing
    startup: Timeline
    shutdown: Timeline
    advice: Advice
    findings: tuple[Finding, ...]
    suppressed: tuple[Finding, ...]
    ignored_rules: tuple[str, ...]
    hpas: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    """The result of one analysis run over one or more inputs."""

    analyzer_version: str
    kubernetes_version: tuple[int, int]
    api_defaults: bool
    assumptions: Assumptions
    workloads: tuple[WorkloadReport, ...]
    skipped: tuple[Skipped, ...]
    errors: tuple[Problem, ...]

    def findings(self) -> Iterable[tuple[WorkloadReport, Finding]]:
        for w in self.workloads:
            for f in w.findings:
                yield w, f

    def worst_severity(self) -> str | None:
        """Return the most severe finding's severity, or None when there are none."""
        ranks = [SEVERITY_RANK[f.severity] for _, f in self.findings()]
        if not ranks:
            return None
        return {v: k for k, v in SEVERITY_RANK.items()}[max(ranks)]


def analyze(inputs: Sequence[tuple[str, str | bytes]], *, options: Options | None = None) -> Report:
    """Analyse ``(file name, text)`` inputs into one :class:`Report`."""
    opts = options or Options()
    return with_big_stack(lambda: _analyze(inputs, opts))


def analyze_text(text: str | bytes, *, file: str = "manifest.yaml", **kwargs: object) -> Report:
    """Analyse a single text; keyword arguments are :class:`Options` fields."""
    return analyze([(file, text)], options=Options(**kwargs))  # type: ignore[arg-type]


def _analyze(inputs: Sequence[tuple[str, str | bytes]], opts: Options) -> Report:
    catalogue = opts.catalogue or load_catalogue()
    reports: list[WorkloadReport] = []
    hpas: list[HPA] = []
    skipped: list[Skipped] = []
    errors: list[Problem] = []
    targets: dict[tuple[str, str, str], tuple[int, Workload, dict]] = {}
    budget = opts.limits
    for file, data in inputs:
        try:
            text = decode(data, file=file) if isinstance(data, bytes) else data
            documents = iter_documents(text, file=file, limits=budget, shallow=listed_only)
            for document in documents:
                for entry in read_document(document, file=file):
                    if isinstance(entry, Workload):
                        if len(reports) >= budget.max_workloads:
                            raise _over("max_workloads", budget, entry)
                        if _containers(entry) > budget.max_containers:
                            breach = _over("max_containers", budget, entry)
                            errors.append(Problem(file, entry.document, entry.line, breach.message))
                            continue
                        report, roles = analyze_workload(entry, opts, catalogue)
                        slim = _slim(entry)
                        key = (entry.kind, entry.name, entry.namespace or "default")
                        targets[key] = (len(reports), slim, roles)
                        reports.append(replace(report, workload=slim))
                    elif isinstance(entry, HPA):
                        hpas.append(entry)
                    elif isinstance(entry, Skipped):
                        skipped.append(entry)
                    else:
                        errors.append(entry)
        except InputError as exc:
            errors.append(Problem(file, exc.document, exc.line, exc.message))
    _apply_hpas(hpas, targets, reports, skipped, opts)
    return Report(
        analyzer_version=ANALYZER_VERSION,
        kubernetes_version=opts.kubernetes_version,
        api_defaults=opts.api_defaults,
        assumptions=opts.assumptions,
        workloads=tuple(reports),
        skipped=tuple(skipped),
        errors=tuple(errors),
    )


def _containers(workload: Workload) -> int:
    return len(workload.pod.init_containers) + len(workload.pod.containers)


def _over(limit: str, budget: Budget, w: Workload) -> BudgetExceeded:
    if limit == "max_containers":
        detail = f"{w.kind} '{w.name}' has {_containers(w):,} containers"
    else:
        detail = f"{w.kind} '{w.name}' and the workloads after it were not analysed"
    return budget.exceeded(limit, file=w.file, document=w.document, line=w.line, detail=detail)


KEPT_CONTAINER_FIELDS = ("name", "image", "resources", "restartPolicy", "ports")
KEPT_SPEC_FIELDS = ("terminationGracePeriodSeconds", "restartPolicy")


def _slim(workload: Workload) -> Workload:
    """Keep what the report and HPA rules need, not the whole parsed document.

    A report outlives the text it came from; holding every parsed document would double the
    memory of a large input for no use.
    """

    def container(c: Container) -> Container:
        raw = {k: c.raw[k] for k in KEPT_CONTAINER_FIELDS if k in c.raw}
        return Container(c.name, c.index, c.lifecycle, c.image, c.line, raw)

    pod = workload.pod
    labels = get_map(pod.metadata, "labels")
    kept_spec = {k: pod.spec[k] for k in KEPT_SPEC_FIELDS if k in pod.spec}
    slim_pod = PodTemplate(
        kept_spec,
        {"labels": dict(labels)} if labels else {},
        tuple(map(container, pod.init_containers)),
        tuple(map(container, pod.containers)),
        pod.path,
        pod.line,
    )
    w = workload
    return Workload(
        w.file, w.document, w.line, w.kind, w.api_version, w.name, w.namespace, slim_pod, {}, w.hpas
    )


def analyze_workload(
    workload: Workload, opts: Options, catalogue: Catalogue
) -> tuple[WorkloadReport, dict[str, RoleAssignment]]:
    """Run every per-pod stage and rule on one workload."""
    pod = workload.pod
    version = opts.kubernetes_version
    roles = {a.container: a for a in classify(pod, catalogue=catalogue)}
    pod_level = feature_state("PodLevelResources", version).enabled_by_default
    sizing = effective_resources(pod, api_defaults=opts.api_defaults, pod_level_resources=pod_level)
    ctx = Context(
        workload=workload,
        roles=roles,
        sizing=sizing,
        startup=simulate_startup(pod, assumptions=opts.assumptions),
        shutdown=simulate_shutdown(pod, assumptions=opts.assumptions),
        schema_issues=validate(workload.raw, kubernetes_version=format_version(version)),
        kubernetes_version=version,
        api_defaults=opts.api_defaults,
    )
    findings: list[Finding] = []
    for r in POD_RULES:
        findings.extend(r.check(r, ctx))
    ignored = ignored_rules(workload)
    kept, suppressed = _split_suppressed(findings, ignored)
    containers = _container_reports(ctx, kept)
    report = WorkloadReport(
        workload=workload,
        containers=containers,
        sizing=sizing,
        startup=ctx.startup,
        shutdown=ctx.shutdown,
        advice=_advice(ctx, containers),
        findings=_sorted(kept),
        suppressed=tuple(suppressed),
        ignored_rules=ignored,
    )
    return report, roles


def ignored_rules(workload: Workload) -> tuple[str, ...]:
    """Rule ids listed in the ``pod-advisor.io/ignore`` annotation."""
    raw = workload.annotations.get(IGNORE_ANNOTATION)
    if not isinstance(raw, str):
        return ()
    return tuple(dict.fromkeys(p.strip() for p in raw.split(",") if p.strip()))


def _split_suppressed(
    findings: Iterable[Finding], ignored: tuple[str, ...]
) -> tuple[list[Finding], list[Finding]]:
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    for f in findings:
        (suppressed if f.rule in ignored else kept).append(f)
    return kept, suppressed


def _sorted(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=lambda f: (-SEVERITY_RANK[f.severity], f.line or 0, f.rule)))


def _container_reports(ctx: Context, findings: list[Finding]) -> tuple[ContainerReport, ...]:
    out = []
    for c in ctx.pod.all_containers:
        role = ctx.roles.get(c.name)
        rule_ids = [f.rule for f in findings if f.container == c.name]
        advice = advise_container(
            name=c.name,
            role=role.role if role else "app",
            lifecycle=c.lifecycle,
            workload_kind=ctx.workload.kind,
            rule_ids=rule_ids,
            kubernetes_version=ctx.kubernetes_version,
        )
        out.append(
            ContainerReport(
                name=c.name,
                lifecycle=c.lifecycle,
                role=role.role if role else "app",
                reason=role.reason if role else "",
                line=c.line,
                image=c.image,
                long_running=role.long_running if role else True,
                advice=advice,
            )
        )
    return tuple(out)


def _advice(ctx: Context, containers: tuple[ContainerReport, ...]) -> Advice:
    patterns = detect_patterns(containers)
    per_container = tuple((c.name, c.advice) for c in containers if c.advice)
    if not patterns:
        summary = "A single-container pod: no multi-container pattern in use."
    else:
        summary = "This pod uses: " + ", ".join(p.replace("-", " ") for p in patterns) + "."
    if per_container:
        summary += f" {len(per_container)} container(s) have advice below."
    return Advice(patterns, summary, per_container)


def detect_patterns(containers: Sequence[ContainerReport]) -> tuple[str, ...]:
    """Name the multi-container patterns a pod follows, from its containers' roles."""
    found: list[str] = []
    if len(containers) < 2:
        return ()
    for c in containers:
        if c.lifecycle == "init":
            found.append("init-container")
        elif c.role in ("ambassador", "adapter"):
            found.append(c.role)
        elif c.lifecycle == "native-sidecar":
            found.append("native-sidecar")
        elif c.role != "app":
            found.append("classic-sidecar")
    return tuple(dict.fromkeys(found))


def _apply_hpas(
    hpas: list[HPA],
    targets: dict[tuple[str, str, str], tuple[int, Workload, dict]],
    reports: list[WorkloadReport],
    skipped: list[Skipped],
    opts: Options,
) -> None:
    for hpa in hpas:
        key = (hpa.target_kind, hpa.target_name, hpa.namespace or "default")
        target = targets.get(key)
        if target is None or not hpa_targets(hpa, target[1]):
            skipped.append(
                Skipped(
                    hpa.file,
                    hpa.document,
                    hpa.line,
                    "HorizontalPodAutoscaler",
                    hpa.name,
                    f"its target {hpa.target_kind} '{hpa.target_name}' is not in the input",
                )
            )
            continue
        index, workload, roles = target
        ctx = HpaContext(hpa, workload, roles, opts.kubernetes_version)
        found = [replace(f, file=hpa.file) for r in HPA_RULES for f in r.check(r, ctx)]
        report = reports[index]
        kept, suppressed = _split_suppressed(found, report.ignored_rules)
        reports[index] = replace(
            report,
            findings=_sorted([*report.findings, *kept]),
            suppressed=(*report.suppressed, *suppressed),
            hpas=(*report.hpas, hpa.name),
        )
