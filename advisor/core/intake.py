"""Read manifest objects into workloads, HPAs and skipped documents.

Every workload kind becomes one pod template with its source position: Pod (``spec``),
Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job
(``spec.template.spec``), CronJob (``spec.jobTemplate.spec.template.spec``) and PodTemplate
(``template.spec``). ``kind: List`` (and a top-level sequence of objects) is opened item by item.
HorizontalPodAutoscalers of autoscaling/v1, v2beta1, v2beta2 and v2 are normalised. Anything
else is listed as skipped with the reason, never an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from advisor.core.errors import InputError
from advisor.core.model import HPA, HPAMetric, ParseResult, PodTemplate, Problem, Skipped, Workload
from advisor.core.records import dataclass
from advisor.core.source import get_int, get_list, get_map, get_str, line_of
from advisor.core.yamlload import DEFAULT_LIMITS, Document, Limits, iter_documents, with_big_stack

# kind -> path of the pod template (metadata beside spec) inside the object
POD_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": (),
    "PodTemplate": ("template",),
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
HPA_KIND = "HorizontalPodAutoscaler"
LIST_KINDS = ("List",)
MAX_LIST_DEPTH = 5


def listed_only(kind: str) -> bool:
    """Tell whether documents of ``kind`` are only listed as skipped (their body is not read)."""
    return kind not in POD_PATHS and kind != HPA_KIND and not kind.endswith("List")


@dataclass(frozen=True)
class Item:
    """One object read from a document (a List contributes several)."""

    document: Document
    value: Any


def parse(text: str, *, file: str = "", limits: Limits = DEFAULT_LIMITS) -> ParseResult:
    """Read every document of ``text`` into workloads, HPAs, skipped kinds and errors."""
    return with_big_stack(lambda: _parse(text, file, limits))


def _parse(text: str, file: str, limits: Limits) -> ParseResult:
    workloads: list[Workload] = []
    hpas: list[HPA] = []
    skipped: list[Skipped] = []
    errors: list[Problem] = []
    documents = 0
    for document in iter_documents(text, file=file, limits=limits, shallow=listed_only):
        documents += 1
        for entry in read_document(document, file=file):
            if isinstance(entry, Workload):
                workloads.append(entry)
            elif isinstance(entry, HPA):
                hpas.append(entry)
            elif isinstance(entry, Skipped):
                skipped.append(entry)
            else:
                errors.append(entry)
    return ParseResult(tuple(workloads), tuple(hpas), tuple(skipped), tuple(errors), documents)


def read_document(document: Document, *, file: str) -> Iterator[Workload | HPA | Skipped | Problem]:
    """Yield what one loaded document holds."""
    if document.error is not None:
        err = document.error
        yield Problem(file, err.document or document.number, err.line, err.message)
        return
    yield from _read_value(document.value, document, file, depth=0)


def _read_value(
    value: Any, document: Document, file: str, *, depth: int
) -> Iterator[Workload | HPA | Skipped | Problem]:
    if value is None:
        return
    if isinstance(value, list) and depth < MAX_LIST_DEPTH:
        for item in value:
            yield from _read_value(item, document, file, depth=depth + 1)
        return
    if not isinstance(value, dict):
        yield Problem(
            file,
            document.number,
            document.line,
            f"expected a Kubernetes object (a mapping with apiVersion and kind), "
            f"found {_type_name(value)}",
        )
        return
    kind = get_str(value, "kind")
    if kind in LIST_KINDS or (kind.endswith("List") and isinstance(value.get("items"), list)):
        for item in get_list(value, "items"):
            yield from _read_value(item, document, file, depth=depth + 1)
        return
    yield read_object(value, document=document, file=file)


def read_object(obj: dict, *, document: Document, file: str) -> Workload | HPA | Skipped:
    """Classify one object: a pod-creating workload, an HPA, or a skipped kind."""
    kind = get_str(obj, "kind")
    line = line_of(obj) or document.line
    name = _name(obj)
    if kind in POD_PATHS:
        return _workload(obj, kind=kind, document=document, file=file, line=line)
    if kind == HPA_KIND:
        return _hpa(obj, document=document, file=file, line=line)
    return Skipped(file, document.number, line, kind, name, _skip_reason(obj, kind))


def _name(obj: dict) -> str:
    metadata = get_map(obj, "metadata")
    return get_str(metadata, "name") or get_str(metadata, "generateName")


def _skip_reason(obj: dict, kind: str) -> str:
    if not kind:
        return "no 'kind': not a Kubernetes object the advisor can read"
    api_version = get_str(obj, "apiVersion")
    group = api_version.split("/")[0] if "/" in api_version else ""
    if group and "." in group and not group.endswith(".k8s.io"):
        return (
            f"{kind} is a custom resource ({api_version}); its controller decides what pods "
            "it creates, so there is no pod template to analyse"
        )
    return f"{kind} does not define a pod"


def _workload(obj: dict, *, kind: str, document: Document, file: str, line: int | None) -> Workload:
    path = POD_PATHS[kind]
    holder: Any = obj
    for key in path:
        holder = get_map(holder, key)
    spec = get_map(holder, "spec")
    metadata = get_map(holder, "metadata") if path else get_map(obj, "metadata")
    spec_path = ".".join((*path, "spec"))
    pod = PodTemplate.from_raw(spec, metadata, path=spec_path)
    metadata_obj = get_map(obj, "metadata")
    return Workload(
        file=file,
        document=document.number,
        line=line,
        kind=kind,
        api_version=get_str(obj, "apiVersion"),
        name=_name(obj),
        namespace=get_str(metadata_obj, "namespace"),
        pod=pod,
        raw=obj,
    )


def _hpa(obj: dict, *, document: Document, file: str, line: int | None) -> HPA:
    spec = get_map(obj, "spec")
    ref = get_map(spec, "scaleTargetRef")
    metadata = get_map(obj, "metadata")
    return HPA(
        file=file,
        document=document.number,
        line=line,
        api_version=get_str(obj, "apiVersion"),
        name=_name(obj),
        namespace=get_str(metadata, "namespace"),
        target_kind=get_str(ref, "kind"),
        target_name=get_str(ref, "name"),
        target_line=line_of(spec, "scaleTargetRef"),
        metrics=tuple(_hpa_metrics(spec)),
        raw=obj,
    )


def _hpa_metrics(spec: dict) -> Iterator[HPAMetric]:
    """Normalise metrics; autoscaling/v1's targetCPUUtilizationPercentage is a cpu Resource."""
    if get_int(spec, "targetCPUUtilizationPercentage") is not None:
        yield HPAMetric("Resource", "cpu", "", line_of(spec, "targetCPUUtilizationPercentage"))
    for metric in get_list(spec, "metrics"):
        if not isinstance(metric, dict):
            continue
        mtype = get_str(metric, "type")
        body = get_map(metric, "containerResource" if mtype == "ContainerResource" else "resource")
        yield HPAMetric(
            type=mtype,
            resource=get_str(body, "name"),
            container=get_str(body, "container"),
            line=line_of(metric),
        )


def _type_name(value: Any) -> str:
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {shown!r}"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "a list"


def same_namespace(a: str, b: str) -> bool:
    """Compare namespaces, treating an empty namespace as 'default'."""
    return (a or "default") == (b or "default")


def hpa_targets(hpa: HPA, workload: Workload) -> bool:
    """Return True if ``hpa`` scales ``workload``."""
    return (
        hpa.target_kind == workload.kind
        and hpa.target_name == workload.name
        and same_namespace(hpa.namespace, workload.namespace)
    )


__all__ = ["InputError", "Item", "hpa_targets", "parse", "read_document", "read_object"]
