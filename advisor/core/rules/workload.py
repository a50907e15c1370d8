"""Rules about the pod as a whole: containers present, names, Jobs."""

from __future__ import annotations

from collections.abc import Iterator

from advisor.core.rules.base import Context, Finding, Rule, container_line, rule
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


RULES = [no_containers, duplicate_container_name, classic_sidecar_blocks_job, job_restart_policy]
