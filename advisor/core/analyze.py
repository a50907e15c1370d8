"""Run every stage over an input and collect one report: the ``analyze`` entry point.

parse -> (per workload) schema, roles, sizing, lifecycle, rules, advice -> HPA rules -> report.
Documents are analysed one at a time and their raw text is not kept, so a 10 MB input costs
little more memory than its results.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import field, replace

from advisor.core import ANALYZER_VERSION
from advisor.core.advice import advise_container
from advisor.core.budget import Budget, BudgetExceeded
from advisor.core.errors import InputError
from advisor.core.intake import hpa_targets, listed_only, read_document
from advisor.core.lifecycle import Assumptions, Timeline, simulate_shutdown, simulate_startup
from advisor.core.model import HPA, Container, PodTemplate, Problem, Skipped, Workload
from advisor.core.records import dataclass
from advisor.core.roles import Catalogue, RoleAssignment, classify, load_catalogue
from advisor.core.rules import HPA_RULES, POD_RULES, SEVERITY_RANK, Context, Finding, HpaContext
from advisor.core.schema import validate
from advisor.core.sizing import Sizing, effective_resources
from advisor.core.source import get_map
from advisor.core.versions import NEWEST, feature_state, format_version
from advisor.core.wiring import Wiring, wire
from advisor.core.yamlload import (
    Limits,
    Slice,
    decode,
    iter_documents,
    paused_gc,
    with_big_stack,
)

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
    wiring: Wiring | None = None


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


# Inputs up to this size are analysed on the calling thread. Each nesting level costs at most
# one character and about a kilobyte of the composer's C stack, so 8 KiB stays far inside the
# 8 MiB stack a process or server thread starts with; larger inputs get the loader thread.
INLINE_MAX_BYTES = 8 * 1024


def analyze(inputs: Sequence[tuple[str, str | bytes]], *, options: Options | None = None) -> Report:
    """Analyse ``(file name, text)`` inputs into one :class:`Report`."""
    opts = options or Options()
    if sum(len(data) for _, data in inputs) <= INLINE_MAX_BYTES:
        # Too short to nest deeper than the caller's own stack allows: skip the loader thread
        # (its start-up is a large share of a small API request).
        with paused_gc():
            return _analyze(inputs, opts)
    return with_big_stack(lambda: _analyze(inputs, opts))


def analyze_text(text: str | bytes, *, file: str = "manifest.yaml", **kwargs: object) -> Report:
    """Analyse a single text; keyword arguments are :class:`Options` fields."""
    return analyze([(file, text)], options=Options(**kwargs))  # type: ignore[arg-type]


def _analyze(inputs: Sequence[tuple[str, str | bytes]], opts: Options) -> Report:
    reports: list[WorkloadReport] = []
    skipped: list[Skipped] = []
    errors: list[Problem] = []
    for item in iter_analysis(inputs, options=opts):
        if isinstance(item, WorkloadReport):
            reports.append(item)
        elif isinstance(item, Skipped):
            skipped.append(item)
        else:
            errors.append(item)
    return Report(
        analyzer_version=ANALYZER_VERSION,
        kubernetes_version=opts.kubernetes_version,
        api_defaults=opts.api_defaults,
        assumptions=opts.assumptions,
        workloads=tuple(reports),
        skipped=tuple(skipped),
        errors=tuple(errors),
    )


Item = WorkloadReport | Skipped | Problem
HPA_KIND = "HorizontalPodAutoscaler"


def iter_analysis(inputs: Sequence[tuple[str, str | bytes]], *, options: Options) -> Iterator[Item]:
    """Yield each workload's report as soon as it is analysed, in input order.

    Skipped documents and unreadable ones are yielded where they occur; autoscalers whose
    target is not in the input come last. Nothing but the autoscalers is kept between
    documents, so a writer that streams these items needs memory for one document at a time.
    Call it inside :func:`with_big_stack` unless the input is small.
    """
    hpas = autoscalers(inputs, options)
    linked: set[int] = set()
    yield from iter_part(inputs, options=options, hpas=hpas, linked=linked)
    yield from unlinked(hpas, linked)


def iter_part(
    inputs: Sequence[tuple[str, str | bytes]],
    *,
    options: Options,
    hpas: Sequence[HPA],
    linked: set[int],
    slices: Sequence[Slice | None] = (),
) -> Iterator[Item]:
    """Analyse some of a run's inputs, linking workloads to the run's ``hpas``.

    Adds to ``linked`` the positions in ``hpas`` of the autoscalers that found their target;
    a run split into parts (``--jobs``) reports the others once, with :func:`unlinked`.
    ``slices[i]``, when given, says that input ``i`` is that :class:`Slice` of its file.
    """
    opts = options
    catalogue = opts.catalogue or load_catalogue()
    by_target: dict[tuple[str, str, str], list[tuple[int, HPA]]] = {}
    for position, hpa in enumerate(hpas):
        key = (hpa.target_kind, hpa.target_name, hpa.namespace or "default")
        by_target.setdefault(key, []).append((position, hpa))
    budget = opts.limits
    analysed = 0
    for position, (file, data) in enumerate(inputs):
        try:
            text = decode(data, file=file) if isinstance(data, bytes) else data
            part = slices[position] if position < len(slices) else None
            documents = iter_documents(
                text, file=file, limits=budget, shallow=listed_only, part=part
            )
            for document in documents:
                for entry in read_document(document, file=file):
                    if isinstance(entry, Workload):
                        if analysed >= budget.max_workloads:
                            raise _over("max_workloads", budget, entry)
                        if _containers(entry) > budget.max_containers:
                            breach = _over("max_containers", budget, entry)
                            yield Problem(file, entry.document, entry.line, breach.message)
                            continue
                        analysed += 1
                        report, roles = analyze_workload(entry, opts, catalogue)
                        slim = _slim(entry)
                        report = replace(report, workload=slim)
                        key = (entry.kind, entry.name, entry.namespace or "default")
                        for position, hpa in by_target.get(key, ()):
                            if hpa_targets(hpa, slim):
                                report = _link(hpa, report, roles, opts)
                                linked.add(position)
                        yield report
                    elif isinstance(entry, (Skipped, Problem)):
                        yield entry
        except InputError as exc:
            yield Problem(file, exc.document, exc.line, exc.message)


def unlinked(hpas: Sequence[HPA], linked: set[int]) -> Iterator[Skipped]:
    """Report each autoscaler whose target is not in the input."""
    for position, hpa in enumerate(hpas):
        if position not in linked:
            yield Skipped(
                hpa.file,
                hpa.document,
                hpa.line,
                HPA_KIND,
                hpa.name,
                f"its target {hpa.target_kind} '{hpa.target_name}' is not in the input",
            )


def autoscalers(inputs: Sequence[tuple[str, str | bytes]], opts: Options) -> list[HPA]:
    """Read every HorizontalPodAutoscaler first, so each workload is linked as it is analysed.

    Only documents whose text names the kind are parsed (a substring test per document), so
    this pass costs a scan of the input, not a second parse; what it cannot read, the main
    pass reports.
    """
    found: list[HPA] = []
    for file, data in inputs:
        try:
            text = decode(data, file=file) if isinstance(data, bytes) else data
            if HPA_KIND not in text:
                continue
            documents = iter_documents(
                text, file=file, limits=opts.limits, only=lambda chunk: HPA_KIND in chunk
            )
            for document in documents:
                found.extend(e for e in read_document(document, file=file) if isinstance(e, HPA))
        except InputError:
            continue
    return found


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
    wiring = wire(pod, catalogue=catalogue)
    roles = {
        a.container: a
        for a in classify(pod, catalogue=catalogue, wiring=wiring, kind=workload.kind)
    }
    pod_level = feature_state("PodLevelResources", version).enabled_by_default
    sizing = effective_resources(pod, api_defaults=opts.api_defaults, pod_level_resources=pod_level)
    ctx = Context(
        workload=workload,
        roles=roles,
        sizing=sizing,
        startup=simulate_startup(pod, assumptions=opts.assumptions, wiring=wiring),
        shutdown=simulate_shutdown(pod, assumptions=opts.assumptions),
        schema_issues=validate(workload.raw, kubernetes_version=format_version(version)),
        kubernetes_version=version,
        api_defaults=opts.api_defaults,
        wiring=wiring,
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
        wiring=wiring,
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
            needed_at_start=any(
                ctx.wired.depends_on(app.name, c.name) is not None
                for app in ctx.pod.containers
                if app is not c and ctx.role(app) == "app"
            ),
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
    apps = [c for c in containers if c.role == "app"]
    if len(containers) < 2:
        summary = "A single-container pod: no multi-container pattern in use."
    elif not patterns and len(apps) > 1:
        summary = (
            f"{len(apps)} separate apps share this pod ("
            + ", ".join(c.name for c in apps)
            + "); nothing in its wiring ties them together."
        )
    elif not patterns:
        summary = "A single-container pod: no multi-container pattern in use."
    else:
        summary = "This pod uses: " + ", ".join(p.replace("-", " ") for p in patterns) + "."
        axes = [_both_axes(c) for c in containers if c.role not in ("app", "init")]
        if axes:
            summary += " Helpers: " + "; ".join(axes) + "."
    if per_container:
        summary += f" {len(per_container)} container(s) have advice below."
    return Advice(patterns, summary, per_container)


LIFECYCLE_WORDS = {
    "native-sidecar": "a native sidecar",
    "regular": "a classic sidecar (a regular container)",
    "init": "an init container",
}


def _both_axes(c: ContainerReport) -> str:
    """Name a helper's role and its lifecycle: "istio-proxy: ambassador, as a native sidecar"."""
    return f"{c.name}: {c.role}, as {LIFECYCLE_WORDS.get(c.lifecycle, c.lifecycle)}"


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


def _link(hpa: HPA, report: WorkloadReport, roles: dict, opts: Options) -> WorkloadReport:
    """Add what ``hpa`` means for the workload it scales: its findings and its name."""
    ctx = HpaContext(hpa, report.workload, roles, opts.kubernetes_version)
    found = [replace(f, file=hpa.file) for r in HPA_RULES for f in r.check(r, ctx)]
    kept, suppressed = _split_suppressed(found, report.ignored_rules)
    return replace(
        report,
        findings=_sorted([*report.findings, *kept]),
        suppressed=(*report.suppressed, *suppressed),
        hpas=(*report.hpas, hpa.name),
    )
