"""kubectl commands to debug one workload's containers, with its real names filled in.

Names come from the user's manifest, so every argument is shell-quoted: a container called
``a; rm -rf ~`` must not become a command when someone pastes the line into a terminal.
"""

from __future__ import annotations

import shlex

from advisor.core.model import Workload
from advisor.core.records import dataclass
from advisor.core.source import get_map

# kubectl's short resource names that `logs`/`exec` accept and resolve to one of the pods.
POD_OWNER = {
    "Deployment": "deploy",
    "StatefulSet": "sts",
    "DaemonSet": "ds",
    "ReplicaSet": "rs",
    "ReplicationController": "rc",
    "Job": "job",
}
POD_PLACEHOLDER = "POD"
KINDS = {"init": "init container", "native-sidecar": "native sidecar"}


@dataclass(frozen=True)
class Command:
    """One command and what it shows."""

    title: str
    command: str


def kubectl_commands(workload: Workload) -> tuple[Command, ...]:
    """Return the commands a person runs to debug this workload's pod."""
    ns = f" -n {shlex.quote(workload.namespace)}" if workload.namespace else ""
    out = [_describe(workload, ns)]
    pod = shlex.quote(workload.name) if workload.kind == "Pod" else POD_PLACEHOLDER
    if workload.kind != "Pod":
        out.append(
            Command(
                f"List its pods (use one as {POD_PLACEHOLDER} below)",
                f"kubectl get pods{ns}{_selector(workload)}",
            )
        )
    out.append(
        Command(
            "Every container's state, restarts and the events", f"kubectl describe pod {pod}{ns}"
        )
    )
    target = _target(workload, pod)
    for c in workload.pod.all_containers:
        out.extend(_container_commands(c.name, c.lifecycle, target, pod, ns))
    return tuple(out)


def _describe(workload: Workload, ns: str) -> Command:
    ref = shlex.quote(f"{workload.kind.lower()}/{workload.name}")
    return Command(f"Describe the {workload.kind}", f"kubectl describe {ref}{ns}")


def _container_commands(name: str, lifecycle: str, target: str, pod: str, ns: str) -> list[Command]:
    quoted = shlex.quote(name)
    what = KINDS.get(lifecycle, "container")
    commands = [
        Command(f"Logs of {what} '{name}'", f"kubectl logs {target} -c {quoted}{ns}"),
        Command(
            f"Logs of the previous (crashed) run of '{name}'",
            f"kubectl logs {target} -c {quoted} --previous{ns}",
        ),
    ]
    if lifecycle != "init":
        commands.append(
            Command(f"A shell in '{name}'", f"kubectl exec -it {target} -c {quoted}{ns} -- sh")
        )
        commands.append(
            Command(
                f"Debug '{name}' from a throwaway container (for images without a shell)",
                f"kubectl debug -it {pod} --image=busybox:1.37 --target={quoted}{ns}",
            )
        )
    return commands


def _target(workload: Workload, pod: str) -> str:
    """What `kubectl logs`/`exec` take: the pod, or the controller (kubectl picks a pod)."""
    short = POD_OWNER.get(workload.kind)
    return shlex.quote(f"{short}/{workload.name}") if short else pod


def _selector(workload: Workload) -> str:
    """``-l`` with the labels that pick the workload's pods: its selector's matchLabels
    (spec.selector is the map itself for a ReplicationController); a Job's pods carry
    ``job-name``; only without either, every pod template label."""
    spec = get_map(workload.raw, "spec")
    selector = spec.get("selector")
    if isinstance(selector, dict) and workload.kind == "ReplicationController":
        labels = selector
    elif isinstance(selector, dict) and isinstance(selector.get("matchLabels"), dict):
        labels = selector["matchLabels"]
    elif workload.kind == "Job" and workload.name:
        labels = {"job-name": workload.name}
    else:
        labels = get_map(workload.pod.metadata, "labels")
    pairs = [f"{k}={v}" for k, v in labels.items() if isinstance(v, (str, int))]
    return f" -l {shlex.quote(','.join(pairs))}" if pairs else ""
