"""Rules about the pod as a whole: containers present, names, Jobs."""

from __future__ import annotations

from collections.abc import Iterator

from advisor.core.roles import image_keys
from advisor.core.rules.base import (
    Context,
    Finding,
    Rule,
    by_sidecar_support,
    container_line,
    rule,
)
from advisor.core.source import line_of


@rule(
    id="no-containers",
    title="Pod has no regular containers",
    severity="error",
    rationale="The API server requires at least one entry in spec.containers; init containers "
    "and sidecars alone are not a pod.",
    fix="Add the application container to spec.containers.",
)
def no_containers(r: Rule, ctx: Context) -> Iterator[Finding]:
    if not ctx.pod.containers:
        line = line_of(ctx.pod.spec, "containers") or ctx.pod.line or ctx.workload.line
        yield r.finding(
            f"{ctx.pod.path}.containers is empty or missing; the API server would reject this pod",
            line=line,
        )


@rule(
    id="duplicate-container-name",
    title="Two containers share a name",
    severity="error",
    rationale="Container names must be unique across init, sidecar and regular containers; "
    "the API server rejects the pod, and logs/exec could not tell them apart.",
    fix="Give every container its own name.",
)
def duplicate_container_name(r: Rule, ctx: Context) -> Iterator[Finding]:
    seen: dict[str, str] = {}
    for c in ctx.pod.all_containers:
        if not c.name:
            continue
        where = f"{c.list_name}[{c.index}]"
        if c.name in seen:
            yield r.finding(
                f"container name '{c.name}' is used by {seen[c.name]} and {where}",
                line=container_line(c, "name"),
                container=c,
            )
        else:
            seen[c.name] = where


EXIT_ON_DONE = (
    "Make the helper exit when the app is done: the app writes a marker such as /shared/done "
    "into a shared emptyDir and the helper's command waits for it (until [ -f /shared/done ]), "
    "or the app calls the helper's shutdown endpoint. Native sidecars, which the kubelet stops "
    "by itself, need Kubernetes 1.29 or newer."
)


@rule(
    id="classic-sidecar-blocks-job",
    title="A long-running helper in a Job's containers keeps the Job from completing",
    severity="error",
    rationale="A Job completes when every regular container has exited. A helper that keeps "
    "running (a proxy, a log shipper) in spec.containers holds the pod in Running forever, "
    "so the Job never finishes and its pods are never cleaned up.",
    fix="Move the helper to initContainers with restartPolicy: Always (a native sidecar, "
    "Kubernetes 1.29+): the kubelet stops it once the regular containers have exited.",
)
def classic_sidecar_blocks_job(r: Rule, ctx: Context) -> Iterator[Finding]:
    if not ctx.workload.is_batch or len(ctx.pod.containers) < 2:
        return
    for c in ctx.pod.containers:
        if ctx.role(c) == "app":
            continue
        running, why = ctx.is_long_running(c)
        if running:
            yield r.finding(
                f"'{c.name}' ({ctx.role(c)}) is a regular container of a {ctx.workload.kind} "
                f"and keeps running ({why}); the Job will never complete",
                line=c.line,
                container=c,
                fix=by_sidecar_support(ctx.kubernetes_version, native=r.fix, older=EXIT_ON_DONE),
            )


@rule(
    id="job-restart-policy",
    title="Job pod template uses restartPolicy Always",
    severity="error",
    rationale="Jobs and CronJobs accept only restartPolicy OnFailure or Never in the pod "
    "template; the default (Always) is rejected by the API server.",
    fix="Set spec.template.spec.restartPolicy to Never or OnFailure.",
)
def job_restart_policy(r: Rule, ctx: Context) -> Iterator[Finding]:
    if not ctx.workload.is_batch:
        return
    policy = ctx.pod.spec.get("restartPolicy")
    if policy not in ("OnFailure", "Never"):
        shown = "not set (defaults to Always)" if policy is None else f"{policy!r}"
        yield r.finding(
            f"restartPolicy is {shown}; a {ctx.workload.kind} needs OnFailure or Never",
            line=line_of(ctx.pod.spec, "restartPolicy") or ctx.pod.line,
        )


# Images whose default command is a shell or an interpreter: without a command (and without a
# terminal) they start and exit at once.
SHELL_IMAGES = frozenset(
    [
        "busybox",
        "alpine",
        "ubuntu",
        "debian",
        "centos",
        "fedora",
        "rockylinux",
        "almalinux",
        "amazonlinux",
        "python",
        "node",
        "ruby",
        "golang",
        "openjdk",
        "eclipse-temurin",
        "bash",
    ]
)
SERVICE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController")


def _restarts_forever(ctx: Context) -> bool:
    """Tell whether the pod restarts exited containers (controllers force Always)."""
    if ctx.workload.kind in SERVICE_KINDS:
        return True
    return ctx.workload.kind == "Pod" and ctx.pod.restart_policy == "Always"


@rule(
    id="helper-exits-at-once",
    title="A helper has no command and its image exits at once",
    severity="warning",
    rationale="A container without command or args runs its image's default command. For "
    "base images (busybox, alpine, ubuntu, python, ...) that is a shell or an interpreter, "
    "which exits at once without a terminal: a classic sidecar then restarts in a back-off "
    "loop (CrashLoopBackOff) and a native sidecar keeps being restarted, doing nothing.",
    fix="Give the helper the command it is meant to run.",
)
def helper_exits_at_once(r: Rule, ctx: Context) -> Iterator[Finding]:
    for c in ctx.pod.all_containers:
        if c.lifecycle == "init" or ctx.role(c) == "app":
            continue
        if "command" in c.raw or "args" in c.raw or not c.image.strip():
            continue
        segment = image_keys(c.image).segment
        if segment in SHELL_IMAGES:
            yield r.finding(
                f"'{c.name}' ({ctx.role(c)}) sets no command, and the {segment} image's default "
                "command exits at once: the container is restarted over and over",
                line=c.line,
                container=c,
            )


@rule(
    id="app-exits-at-once",
    title="The app's command ends at once in a workload that restarts it",
    severity="warning",
    rationale="A Deployment, StatefulSet or DaemonSet (and a Pod with restartPolicy Always) "
    "restarts a container whenever it exits. An app whose command only runs short steps "
    "(echo, cp, a brief sleep) exits at once and is restarted with a growing back-off: the pod "
    "shows CrashLoopBackOff and never becomes ready. Work that should finish belongs in a Job.",
    fix="Run the work in a Job (or CronJob), or make the command start the long-running process.",
)
def app_exits_at_once(r: Rule, ctx: Context) -> Iterator[Finding]:
    if not _restarts_forever(ctx):
        return
    for c in ctx.pod.containers:
        if ctx.role(c) != "app" or not ("command" in c.raw or "args" in c.raw):
            continue
        running, why = ctx.is_long_running(c)
        if not running and "short steps" in why:
            yield r.finding(
                f"'{c.name}' is the app of a {ctx.workload.kind}, but {why}; the kubelet "
                "restarts it in a loop (CrashLoopBackOff)",
                line=container_line(c, "command") or container_line(c, "args") or c.line,
                container=c,
            )


RULES = [
    no_containers,
    duplicate_container_name,
    classic_sidecar_blocks_job,
    job_restart_policy,
    helper_exits_at_once,
    app_exits_at_once,
]
