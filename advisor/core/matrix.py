"""The decision matrix: from a few plain answers to one recommended multi-container pattern.

The matrix is data (``MATRIX``, then the cross-cutting ``REFINEMENTS``); :func:`recommend` only
matches rows against facts derived from the answers. Lifecycle facts come from
``docs/kubernetes-semantics.md`` (b) and (d), feature-gate versions from (f).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields

from advisor.core.advice import STARTUP_CRITICAL_ROLES as STARTUP_CRITICAL_ROLES
from advisor.core.advice import advise_container as advise_container
from advisor.core.patterns import PATTERNS, POD_HELPER_PATTERNS, feature_stage
from advisor.core.records import dataclass
from advisor.core.versions import NEWEST, SUPPORTED, feature_state, format_version, parse_version

NEEDS = (
    "setup-before-start",
    "long-lived-helper",
    "outbound-proxy",
    "translate-output",
    "block-until-helper-ready",
    "batch-job-helper",
    "fleet-wide-proxy",
    "unrelated-apps",
)
NEED_LABELS = {
    "setup-before-start": "Run a setup step that must finish before the app starts",
    "long-lived-helper": "Run a long-lived helper next to the app",
    "outbound-proxy": "Proxy the app's outgoing traffic (TLS, sharding, service mesh)",
    "translate-output": "Translate the app's logs or metrics into a standard format",
    "block-until-helper-ready": "Keep the app from starting until a helper is ready",
    "batch-job-helper": "Run a helper beside a batch job that must still finish",
    "fleet-wide-proxy": "Run a proxy that many apps share, with heavy traffic",
    "unrelated-apps": "Run two unrelated apps that happen to belong to one team",
}
WORKLOADS = ("service", "batch")
# Helper roles (from the role catalogue) that the app typically needs before its first request.
FACTS = ("batch", "at_start", "scales_with_app", "shares_pod", "native_sidecars")
RESULT_FACTS = ("native", "pod_helper")
Conditions = tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class Answers:
    """What the questionnaire asks: the dominant need and the facts that refine it."""

    need: str
    workload: str = "service"
    app_needs_helper_at_start: bool = False
    helper_scales_with_app: bool = True
    shares_files_or_localhost: bool = True
    kubernetes_version: tuple[int, int] = NEWEST

    def __post_init__(self) -> None:
        if self.need not in NEEDS:
            raise ValueError(f"need must be one of {', '.join(NEEDS)}, not {self.need!r}")
        if self.workload not in WORKLOADS:
            raise ValueError(f"workload must be service or batch, not {self.workload!r}")
        flags = (
            self.app_needs_helper_at_start,
            self.helper_scales_with_app,
            self.shares_files_or_localhost,
        )
        if not all(isinstance(flag, bool) for flag in flags):
            raise ValueError("the yes/no answers must be True or False")
        if tuple(self.kubernetes_version) not in SUPPORTED:
            raise ValueError(f"Kubernetes {self.kubernetes_version!r} is not supported")

    @property
    def manifest_kind(self) -> str:
        """The workload kind a starter manifest should use: Job for batch answers."""
        batch = self.workload == "batch" or self.need == "batch-job-helper"
        return "Job" if batch else "Deployment"


@dataclass(frozen=True)
class Question:
    """One form question about an :class:`Answers` field, with its allowed values."""

    id: str
    text: str
    help: str
    choices: tuple[tuple[str, str], ...]
    default: str = ""


_YES_NO = (("true", "Yes"), ("false", "No"))

QUESTIONS: tuple[Question, ...] = (
    Question(
        id="need",
        text="What should the extra container do?",
        help="Pick the requirement that matters most; the next questions refine the answer.",
        choices=tuple((need, NEED_LABELS[need]) for need in NEEDS),
    ),
    Question(
        id="workload",
        text="What kind of workload runs the app?",
        help="A batch workload finishes, and a helper must not keep it running.",
        choices=(
            ("service", "A long-running service (Deployment, StatefulSet, DaemonSet)"),
            ("batch", "A batch run that finishes (Job, CronJob)"),
        ),
        default="service",
    ),
    Question(
        id="app_needs_helper_at_start",
        text="Does the app fail if the helper is not ready when the app starts?",
        help="For example, the app connects through the helper at start-up, or reads a file "
        "the helper writes.",
        choices=_YES_NO,
        default="false",
    ),
    Question(
        id="helper_scales_with_app",
        text="Does the helper's work grow with each copy of the app?",
        help="A helper in the pod is copied with every app replica. Answer no if one helper "
        "could serve many replicas, or if its load follows something else.",
        choices=_YES_NO,
        default="true",
    ),
    Question(
        id="shares_files_or_localhost",
        text="Does the helper need the app's files, localhost or processes?",
        help="Containers of one pod share localhost and can mount the same volumes. That is "
        "the main reason to put them in one pod.",
        choices=_YES_NO,
        default="true",
    ),
    Question(
        id="kubernetes_version",
        text="Which Kubernetes version does the cluster run?",
        help="Native sidecars are on by default from 1.29 and GA from 1.33.",
        choices=tuple(
            (format_version(v), format_version(v) + (" (newest)" if v == NEWEST else ""))
            for v in SUPPORTED
        ),
        default=format_version(NEWEST),
    ),
)


@dataclass(frozen=True)
class MatrixRow:
    """One row: for ``need``, when every condition holds, recommend ``pattern`` because ``why``.

    Conditions are ``(fact, value)`` pairs over :data:`FACTS`. Rows of a need are tried in
    order; the last row of each need has no conditions. ``native`` says the helper is declared
    as a native sidecar. ``{version}`` in the text becomes the target version.
    """

    need: str
    pattern: str
    why: str
    conditions: Conditions = ()
    native: bool = False
    alternatives: tuple[tuple[str, str], ...] = ()
    pitfalls: tuple[str, ...] = ()


@dataclass(frozen=True)
class Refinement:
    """A reason or pitfall added to any recommendation whose facts match ``conditions``.

    Besides :data:`FACTS`, conditions may use :data:`RESULT_FACTS`: ``native`` (the chosen row
    declares a native sidecar) and ``pod_helper`` (the helper runs inside the app's pod).
    """

    conditions: Conditions
    reason: str = ""
    pitfall: str = ""


_NOT_SCALING = (
    "You said the helper's work does not grow with one app replica. Replicas copy the whole "
    "pod, so a helper inside it would be multiplied with the app; as its own Deployment "
    "behind a Service it scales on its own load."
)
_NOT_SHARING = (
    "You said the helper needs none of the app's files, localhost or processes. Nothing ties "
    "it to the app's pod, and its own Deployment can be rolled out, restarted and sized "
    "independently."
)
_NO_NATIVE = "Kubernetes {version} has no native sidecars turned on by default"
_AFTER_UPGRADE = "after upgrading to 1.29 or newer"


def _split_out(need: str, *, in_pod: str, also: str = "") -> tuple[MatrixRow, MatrixRow]:
    """Return the two rows that move a helper out of the pod; ``in_pod`` is the alternative."""
    alternative = ((in_pod, "if every app replica needs its own copy of the helper after all"),)
    return (
        MatrixRow(
            need,
            "separate-deployment",
            f"{_NOT_SCALING} {also}".strip(),
            (("scales_with_app", False),),
            alternatives=alternative,
        ),
        MatrixRow(
            need,
            "separate-deployment",
            f"{_NOT_SHARING} {also}".strip(),
            (("shares_pod", False),),
            alternatives=alternative,
        ),
    )


MATRIX: tuple[MatrixRow, ...] = (
    MatrixRow(
        "setup-before-start",
        "init-container",
        "An init container runs to completion before the app's containers start, and init "
        "containers run one at a time in the order listed, so the setup is done first.",
        alternatives=(
            (
                "native-sidecar",
                "if the helper must keep running after the setup, for example "
                "to refresh what it fetched",
            ),
            (
                "separate-pods",
                "if the step should run once per release rather than once per "
                "pod, like a schema migration: run it as its own Job",
            ),
        ),
    ),
    *_split_out("long-lived-helper", in_pod="native-sidecar"),
    MatrixRow(
        "long-lived-helper",
        "native-sidecar",
        "A native sidecar lives as long as the pod, like a regular container, but starts "
        "before the app, is stopped after it and can have probes.",
        (("native_sidecars", True),),
        native=True,
        alternatives=(
            (
                "classic-sidecar",
                "if start and stop order do not matter and you prefer the "
                "familiar form under containers",
            ),
        ),
    ),
    MatrixRow(
        "long-lived-helper",
        "classic-sidecar",
        f"{_NO_NATIVE}, so the helper goes under containers next to the app as a classic "
        "sidecar; it lives as long as the pod.",
        alternatives=(("native-sidecar", f"{_AFTER_UPGRADE}, for start and stop ordering"),),
    ),
    *_split_out(
        "outbound-proxy",
        in_pod="ambassador",
        also="The app calls the proxy's Service instead of localhost.",
    ),
    MatrixRow(
        "outbound-proxy",
        "ambassador",
        "An ambassador lets the app talk to a plain endpoint on localhost while the proxy "
        "deals with TLS, discovery, retries or sharding. As a native sidecar it is up before "
        "the app starts and stays up until the app has stopped, so outbound calls work during "
        "start-up and shutdown too.",
        (("native_sidecars", True),),
        native=True,
        alternatives=(
            (
                "separate-deployment",
                "if many apps should share one proxy, or its traffic outgrows a single pod",
            ),
        ),
    ),
    MatrixRow(
        "outbound-proxy",
        "ambassador",
        "An ambassador lets the app talk to a plain endpoint on localhost while the proxy "
        f"deals with the remote side. {_NO_NATIVE}, so it runs under containers and starts "
        "at the same time as the app.",
        alternatives=(
            (
                "separate-deployment",
                "if many apps should share one proxy, or its traffic outgrows a single pod",
            ),
            ("native-sidecar", f"{_AFTER_UPGRADE}, so the proxy is up before the app"),
        ),
        pitfalls=(
            "The app may run without its proxy at start-up and during shutdown; calls made "
            "then fail unless the app retries.",
        ),
    ),
    *_split_out(
        "translate-output",
        in_pod="adapter",
        also="A central collector can pull or receive the app's output.",
    ),
    MatrixRow(
        "translate-output",
        "native-sidecar",
        "An adapter the app cannot start without has to be up first: declare it as a native "
        "sidecar, which starts before the app.",
        (("at_start", True), ("native_sidecars", True)),
        native=True,
        alternatives=(("adapter", "if the app can start before the adapter is ready"),),
    ),
    MatrixRow(
        "translate-output",
        "adapter",
        "An adapter translates the app's logs, metrics or status into the format the platform "
        "reads, without changing the app. In a Job it is declared as a native sidecar.",
        (("batch", True), ("native_sidecars", True)),
        native=True,
    ),
    MatrixRow(
        "translate-output",
        "adapter",
        "An adapter translates the app's logs, metrics or status into the format the platform "
        "reads, without changing the app.",
        alternatives=(
            (
                "native-sidecar",
                "if the adapter must outlive the app at shutdown to send the last lines (1.29+)",
            ),
        ),
    ),
    *_split_out(
        "block-until-helper-ready",
        in_pod="native-sidecar",
        also="An init container in the app's pod can then wait until the helper's Service "
        "answers, since that helper does not depend on the app's pod to start.",
    ),
    MatrixRow(
        "block-until-helper-ready",
        "native-sidecar",
        "Init containers cannot do this: they take no probes and must exit before the next "
        "container starts. A native sidecar keeps running, and the containers listed after it "
        "start only once its startupProbe passes.",
        (("native_sidecars", True),),
        native=True,
    ),
    MatrixRow(
        "block-until-helper-ready",
        "classic-sidecar",
        f"{_NO_NATIVE}, so no pod setting can hold the app back until a helper in the same "
        "pod is ready. Run the helper as a classic sidecar and make the app wait for it.",
        alternatives=(
            (
                "separate-deployment",
                "if the helper can run outside the pod: an init container "
                "can then wait for its Service",
            ),
            ("native-sidecar", f"{_AFTER_UPGRADE}: a startupProbe then holds the app back"),
        ),
    ),
    *_split_out(
        "batch-job-helper",
        in_pod="native-sidecar",
        also="The Job's pods reach it through a Service, so it never holds a Job open.",
    ),
    MatrixRow(
        "batch-job-helper",
        "native-sidecar",
        "A helper for a batch run should live exactly as long as the app container, and a "
        "native sidecar does.",
        (("native_sidecars", True),),
        native=True,
        alternatives=(
            (
                "init-container",
                "if the helper only prepares something and can finish before the app starts",
            ),
        ),
    ),
    MatrixRow(
        "batch-job-helper",
        "classic-sidecar",
        f"{_NO_NATIVE}, so the helper has to run under containers as a classic sidecar.",
        alternatives=(
            (
                "init-container",
                "if the helper only prepares something and can finish before the app starts",
            ),
            ("native-sidecar", f"{_AFTER_UPGRADE}: the Job then completes without help"),
        ),
    ),
    MatrixRow(
        "fleet-wide-proxy",
        "separate-deployment",
        "A proxy that many apps share has to scale with its own traffic, not with any one "
        "app's replicas; as a Deployment behind a Service it scales, rolls out and fails over "
        "on its own.",
        alternatives=(
            (
                "ambassador",
                "if each app needs its own proxy settings and the traffic per pod is modest",
            ),
        ),
    ),
    MatrixRow(
        "unrelated-apps",
        "separate-pods",
        "Belonging to one team is no reason to share a pod. Containers belong together only "
        "when they share a lifecycle, files or localhost; otherwise separate workloads are "
        "simpler and scale, fail and roll out independently.",
        alternatives=(
            (
                "native-sidecar",
                "if one app turns out to need the other's files or localhost: treat it as a helper",
            ),
        ),
    ),
)

REFINEMENTS: tuple[Refinement, ...] = (
    Refinement(
        (("batch", True), ("native", True)),
        reason="A Job completes when its regular containers (spec.containers) have finished; "
        "the kubelet then stops native sidecars, so the helper cannot hold the Job open.",
    ),
    Refinement(
        (("batch", True), ("pod_helper", True), ("native", False)),
        pitfall="A helper under containers keeps the Job's pod running after the app has "
        "finished, so the Job never completes. Give it an explicit exit signal: the app writes "
        "a marker file to a shared emptyDir that the helper watches, or calls a shutdown "
        "endpoint on the helper (such as /quitquitquit).",
    ),
    Refinement(
        (("at_start", True), ("native", True)),
        reason="Because the app fails without the helper, give the helper a startupProbe that "
        "passes only once it is ready: the kubelet starts the app after that.",
    ),
    Refinement(
        (("at_start", True), ("pod_helper", True), ("native", False)),
        pitfall="Kubernetes {version} cannot hold the app back until the helper is ready, so "
        "the app must wait or retry by itself. An init container cannot do the waiting: the "
        "helper under containers only starts after every init container has finished.",
    ),
)


@dataclass(frozen=True)
class Recommendation:
    """The pattern to use, why, what else would fit, and what to watch out for."""

    pattern: str
    title: str
    reasons: tuple[str, ...]
    alternatives: tuple[tuple[str, str], ...]
    pitfalls: tuple[str, ...]
    matrix_row: str
    version_notes: tuple[str, ...]


def answers_from_mapping(data: Mapping[str, object]) -> Answers:
    """Build :class:`Answers` from form or JSON values; raise ValueError naming a bad field."""
    if not data.get("need"):
        raise ValueError("need: choose what the extra container should do")
    values: dict[str, object] = {}
    for question in QUESTIONS:
        raw = data.get(question.id)
        if raw is None or raw == "":
            continue
        values[question.id] = _parse_answer(question, raw)
    return Answers(**values)  # type: ignore[arg-type]


_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def _parse_answer(question: Question, raw: object) -> object:
    """Convert one raw form value to the type of its Answers field."""
    if question.id == "kubernetes_version":
        try:
            return parse_version(str(raw))
        except ValueError as exc:
            raise ValueError(f"kubernetes_version: {exc}") from None
    text = str(raw).strip()
    if question.choices == _YES_NO:
        if isinstance(raw, bool):
            return raw
        if text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
        raise ValueError(f"{question.id}: expected true or false, not {raw!r}")
    allowed = [value for value, _ in question.choices]
    if text not in allowed:
        raise ValueError(f"{question.id}: {raw!r} is not one of {', '.join(allowed)}")
    return text


def facts_of(answers: Answers) -> dict[str, bool]:
    """Derive the facts rows are matched on; a need can imply a fact (a Job helper is batch)."""
    version = answers.kubernetes_version
    return {
        "batch": answers.manifest_kind == "Job",
        "at_start": answers.app_needs_helper_at_start or answers.need == "block-until-helper-ready",
        "scales_with_app": answers.helper_scales_with_app,
        "shares_pod": answers.shares_files_or_localhost,
        "native_sidecars": feature_state("SidecarContainers", version).enabled_by_default,
    }


def match(answers: Answers) -> MatrixRow:
    """Return the first matrix row of the answers' need whose conditions all hold."""
    facts = facts_of(answers)
    for row in MATRIX:
        if row.need == answers.need and _holds(row.conditions, facts):
            return row
    raise LookupError(f"no matrix row for need {answers.need!r}")  # guarded by a test


def _holds(conditions: Conditions, facts: Mapping[str, bool]) -> bool:
    return all(facts[name] == value for name, value in conditions)


def recommend(answers: Answers) -> Recommendation:
    """Pick the pattern for ``answers`` and explain it."""
    row = match(answers)
    facts = facts_of(answers)
    facts |= {"native": row.native, "pod_helper": row.pattern in POD_HELPER_PATTERNS}
    extra = [r for r in REFINEMENTS if _holds(r.conditions, facts)]
    version = format_version(answers.kubernetes_version)
    need = NEED_LABELS[answers.need]
    reasons = [f"You need to {need[0].lower()}{need[1:]}.", row.why, *(r.reason for r in extra)]
    pitfalls = [*row.pitfalls, *(r.pitfall for r in extra), *PATTERNS[row.pattern].pitfalls]
    return Recommendation(
        pattern=row.pattern,
        title=PATTERNS[row.pattern].title,
        reasons=_texts(reasons, version),
        alternatives=tuple(a for a in row.alternatives if a[0] != row.pattern),
        pitfalls=_texts(pitfalls, version),
        matrix_row=row.need,
        version_notes=version_notes(row, facts, answers.kubernetes_version),
    )


def _texts(items: Iterable[str], version: str) -> tuple[str, ...]:
    """Fill in ``{version}``, drop empty entries and repeats, keep the order."""
    return tuple(dict.fromkeys(t.format(version=version) for t in items if t))


_FEATURE_EFFECTS = {
    "SidecarContainers": ("", "so a classic sidecar is recommended"),
    "HPAContainerMetrics": (
        "so an HPA can scale on the app container's usage alone, not the pod average",
        "so an HPA can only average usage over the app and its helpers",
    ),
    "PodLevelResources": (
        "so one pod-level budget can cover the app and its helpers",
        "so size each container on its own",
    ),
}


def version_notes(
    row: MatrixRow, facts: Mapping[str, bool], version: tuple[int, int]
) -> tuple[str, ...]:
    """Say which feature gates matter for this recommendation in ``version``."""
    in_pod = row.pattern in POD_HELPER_PATTERNS
    names = []
    if row.native or (in_pod and not facts["native_sidecars"]):
        names.append("SidecarContainers")
    if in_pod and not facts["batch"]:
        names.append("HPAContainerMetrics")
    if in_pod and feature_state("PodLevelResources", version).stage != "absent":
        names.append("PodLevelResources")
    return tuple(_feature_note(name, version) for name in names)


def _feature_note(name: str, version: tuple[int, int]) -> str:
    on, off = _FEATURE_EFFECTS[name]
    effect = on if feature_state(name, version).enabled_by_default else off
    stage = feature_stage(name, version)
    return f"{stage}, {effect}." if effect else f"{stage}."


def _check_matrix() -> None:
    """Fail at import if a row names an unknown need, pattern or fact, or a need lacks a default."""
    problems: list[MatrixRow | Refinement] = [
        row for row in MATRIX if row.need not in NEEDS or row.pattern not in PATTERNS
    ]
    problems += [row for row in MATRIX if any(p not in PATTERNS for p, _ in row.alternatives)]
    problems += [row for row in MATRIX if any(n not in FACTS for n, _ in row.conditions)]
    known = FACTS + RESULT_FACTS
    problems += [r for r in REFINEMENTS if any(n not in known for n, _ in r.conditions)]
    if problems:
        raise ValueError(f"malformed decision matrix entries: {problems}")
    for need in NEEDS:
        rows = [row for row in MATRIX if row.need == need]
        if not rows or rows[-1].conditions:
            raise ValueError(f"need {need!r} has no unconditional last row in the matrix")
    if [q.id for q in QUESTIONS] != [f.name for f in fields(Answers)]:
        raise ValueError("QUESTIONS must ask about every Answers field, in order")


_check_matrix()
