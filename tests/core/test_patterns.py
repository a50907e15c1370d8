"""The pattern catalogue and the starter manifests the questionnaire hands out."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import yaml

from advisor.core.patterns import (
    PATTERNS,
    feature_stage,
    helper_form,
    starter_manifest,
    yaml_scalar,
)
from advisor.core.versions import SUPPORTED

PATTERN_IDS = (
    "init-container",
    "native-sidecar",
    "classic-sidecar",
    "ambassador",
    "adapter",
    "separate-deployment",
    "separate-pods",
)
POD_KINDS = ("Deployment", "Job")
HOSTILE = (
    'x"\n  evil: true',
    "x'\n  evil: true",
    "a: b",
    "evil: true",
    "- evil",
    "# not a comment",
    "true",
    "1.30",
    "null",
    "{evil: true}",
    "[evil]",
    "&anchor",
    "*alias",
    "!!python/object/apply:os.system ['true']",
    "line\u2028evil: true",
    "tab\there",
    "x\r\nevil: true",
    "ünïcode ☃",
    "trailing space ",
    "x\\",
)


def _docs(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


def _pod(doc: dict) -> dict:
    return doc["spec"]["template"]["spec"]


def _workloads(text: str) -> list[dict]:
    return [d for d in _docs(text) if d.get("kind") in POD_KINDS]


def _all_containers(doc: dict) -> list[dict]:
    pod = _pod(doc)
    return [*pod.get("initContainers", []), *pod["containers"]]


def _keys(node: object) -> Iterator[object]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from _keys(item)


def _native_sidecars(doc: dict) -> list[dict]:
    return [c for c in _pod(doc).get("initContainers", []) if c.get("restartPolicy") == "Always"]


def _assert_well_formed(text: str) -> None:
    workloads = _workloads(text)
    assert workloads, "no Deployment or Job in the manifest"
    for doc in workloads:
        assert _pod(doc)["containers"], "spec.containers must not be empty"
        for c in _all_containers(doc):
            assert isinstance(c["name"], str) and c["name"]
            assert isinstance(c["image"], str) and c["image"]
            assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"]
        for c in _native_sidecars(doc):
            assert "startupProbe" in c, f"native sidecar {c['name']} has no startupProbe"
        if doc["kind"] == "Job":
            assert _pod(doc)["restartPolicy"] in ("Never", "OnFailure")


def test_it_catalogues_exactly_the_seven_patterns() -> None:
    assert tuple(PATTERNS) == PATTERN_IDS
    assert all(PATTERNS[pid].id == pid for pid in PATTERN_IDS)


@pytest.mark.parametrize("pattern_id", PATTERN_IDS)
def test_it_describes_each_pattern_fully(pattern_id: str) -> None:
    p = PATTERNS[pattern_id]
    sentences = re.split(r"(?<=\.)\s+(?=[A-Z])", p.summary.strip())
    assert 2 <= len(sentences) <= 3, sentences
    assert p.title and p.when_to_use and p.pitfalls


@pytest.mark.parametrize("pattern_id", PATTERN_IDS)
def test_it_ships_examples_that_parse_with_named_containers(pattern_id: str) -> None:
    _assert_well_formed(PATTERNS[pattern_id].example_yaml)


def test_it_shows_each_pod_local_pattern_in_its_example() -> None:
    def declared(pid: str) -> list[dict]:
        return _workloads(PATTERNS[pid].example_yaml)

    (init_doc,) = declared("init-container")
    assert _pod(init_doc)["initContainers"] and not _native_sidecars(init_doc)
    (native_doc,) = declared("native-sidecar")
    assert native_doc["kind"] == "Job" and _native_sidecars(native_doc)
    (classic_doc,) = declared("classic-sidecar")
    assert len(_pod(classic_doc)["containers"]) == 2
    (ambassador_doc,) = declared("ambassador")
    assert _native_sidecars(ambassador_doc)
    assert any(d["kind"] == "Service" for d in _docs(PATTERNS["separate-deployment"].example_yaml))
    assert len(declared("separate-pods")) == 2


def test_it_requires_1_29_only_for_native_sidecars() -> None:
    assert PATTERNS["native-sidecar"].min_version == (1, 29)
    assert [p.id for p in PATTERNS.values() if p.min_version] == ["native-sidecar"]


@pytest.mark.parametrize("pattern_id", PATTERN_IDS)
@pytest.mark.parametrize("workload", POD_KINDS)
@pytest.mark.parametrize("version", SUPPORTED)
def test_it_builds_starters_that_parse_with_named_containers(
    pattern_id: str, workload: str, version: tuple[int, int]
) -> None:
    text = starter_manifest(pattern_id, workload=workload, kubernetes_version=version)
    _assert_well_formed(text)
    assert _workloads(text)[0]["kind"] == workload


@pytest.mark.parametrize("pattern_id", PATTERN_IDS)
@pytest.mark.parametrize("workload", POD_KINDS)
def test_it_substitutes_hostile_names_without_injecting_keys(
    pattern_id: str, workload: str
) -> None:
    app, helper = 'x"\n  evil: true', "y'\n  evil: true"
    image = "registry.example/app:1.0\n    evil: true"
    text = starter_manifest(
        pattern_id, app_name=app, helper_name=helper, app_image=image, workload=workload
    )
    docs = _docs(text)
    assert "evil" not in set(_keys(docs))
    names = {c["name"] for d in _workloads(text) for c in _all_containers(d)}
    assert app in names
    assert _workloads(text)[0]["metadata"]["name"] == app


@pytest.mark.parametrize("value", HOSTILE)
def test_it_renders_any_text_as_one_scalar_that_reads_back_unchanged(value: str) -> None:
    rendered = yaml_scalar(value)
    assert len(rendered.splitlines()) == 1
    assert yaml.safe_load(f"key: {rendered}\nother: 1\n") == {"key": value, "other": 1}
    assert yaml.safe_load(f"- {rendered}\n") == [value]


def test_it_leaves_ordinary_names_unquoted() -> None:
    assert yaml_scalar("registry.example/app:1.0") == "registry.example/app:1.0"
    assert yaml_scalar("app") == "app"
    assert yaml_scalar("true") == '"true"'


@pytest.mark.parametrize("pattern_id", PATTERN_IDS)
@pytest.mark.parametrize("version", [v for v in SUPPORTED if v >= (1, 29)])
def test_it_never_leaves_a_helper_in_a_jobs_containers_from_1_29(
    pattern_id: str, version: tuple[int, int]
) -> None:
    text = starter_manifest(pattern_id, workload="Job", kubernetes_version=version)
    (job,) = [d for d in _docs(text) if d["kind"] == "Job"]
    assert [c["name"] for c in _pod(job)["containers"]] == ["app"]
    if pattern_id in ("native-sidecar", "classic-sidecar", "ambassador", "adapter"):
        assert [c["name"] for c in _native_sidecars(job)] == ["helper"]


@pytest.mark.parametrize("pattern_id", ["native-sidecar", "ambassador"])
def test_it_falls_back_to_a_classic_sidecar_before_1_29_and_says_why(pattern_id: str) -> None:
    text = starter_manifest(pattern_id, kubernetes_version=(1, 28))
    (deployment,) = _workloads(text)
    assert not _pod(deployment).get("initContainers")
    assert [c["name"] for c in _pod(deployment)["containers"]] == ["app", "helper"]
    assert "# Kubernetes 1.28: SidecarContainers is alpha and off by default" in text
    old = starter_manifest(pattern_id, kubernetes_version=(1, 27))
    assert "# Kubernetes 1.27: SidecarContainers does not exist yet" in old


def test_it_uses_a_native_sidecar_with_a_startup_probe_from_1_29() -> None:
    (deployment,) = _workloads(starter_manifest("native-sidecar", kubernetes_version=(1, 29)))
    (sidecar,) = _native_sidecars(deployment)
    assert sidecar["name"] == "helper"
    assert sidecar["startupProbe"]["tcpSocket"]["port"] == sidecar["ports"][0]["containerPort"]


def test_it_explains_the_exit_signal_for_a_classic_helper_in_an_old_job() -> None:
    text = starter_manifest("classic-sidecar", workload="Job", kubernetes_version=(1, 28))
    (job,) = _workloads(text)
    assert [c["name"] for c in _pod(job)["containers"]] == ["app", "helper"]
    assert "/quitquitquit" in text and "/shared/done" in text


def test_it_keeps_classic_sidecars_classic_in_a_deployment() -> None:
    (deployment,) = _workloads(starter_manifest("classic-sidecar", kubernetes_version=(1, 37)))
    assert [c["name"] for c in _pod(deployment)["containers"]] == ["app", "helper"]


def test_it_points_the_app_at_the_helper_service_in_a_separate_deployment() -> None:
    text = starter_manifest("separate-deployment", app_name="shop", helper_name="egress")
    app, helper = _workloads(text)
    (service,) = [d for d in _docs(text) if d["kind"] == "Service"]
    assert service["metadata"]["name"] == "egress"
    assert service["spec"]["selector"] == helper["spec"]["template"]["metadata"]["labels"]
    env = {e["name"]: e["value"] for e in _pod(app)["containers"][0]["env"]}
    port = service["spec"]["ports"][0]["port"]
    assert env["HELPER_URL"] == f"http://egress:{port}"


def test_it_routes_the_app_through_the_ambassador_on_localhost() -> None:
    (deployment,) = _workloads(starter_manifest("ambassador"))
    (proxy,) = _native_sidecars(deployment)
    env = {e["name"]: e["value"] for e in _pod(deployment)["containers"][0]["env"]}
    assert env["UPSTREAM_URL"] == f"http://localhost:{proxy['ports'][0]['containerPort']}"


@pytest.mark.parametrize(
    ("pattern_id", "workload", "version", "form"),
    [
        ("init-container", "Job", (1, 37), "init"),
        ("native-sidecar", "Deployment", (1, 28), "classic"),
        ("native-sidecar", "Deployment", (1, 29), "native"),
        ("ambassador", "Deployment", (1, 29), "native"),
        ("adapter", "Deployment", (1, 37), "classic"),
        ("adapter", "Job", (1, 37), "native"),
        ("classic-sidecar", "Job", (1, 29), "native"),
        ("classic-sidecar", "Job", (1, 28), "classic"),
        ("separate-deployment", "Job", (1, 37), "separate"),
        ("separate-pods", "Deployment", (1, 25), "separate"),
    ],
)
def test_it_picks_the_helper_form_from_pattern_workload_and_version(
    pattern_id: str, workload: str, version: tuple[int, int], form: str
) -> None:
    assert helper_form(pattern_id, workload=workload, kubernetes_version=version) == form


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pattern_id": "mesh"}, "unknown pattern"),
        ({"pattern_id": "adapter", "workload": "CronJob"}, "workload must be"),
        ({"pattern_id": "adapter", "kubernetes_version": (1, 24)}, "not a supported version"),
        ({"pattern_id": "adapter", "app_name": "same", "helper_name": "same"}, "must differ"),
        ({"pattern_id": "adapter", "app_name": " "}, "must not be empty"),
        ({"pattern_id": "adapter", "helper_image": ""}, "helper_image must not be empty"),
    ],
)
def test_it_rejects_bad_starter_arguments(kwargs: dict, message: str) -> None:
    pattern_id = kwargs.pop("pattern_id")
    with pytest.raises(ValueError, match=message):
        starter_manifest(pattern_id, **kwargs)


def test_it_states_feature_stages_with_their_versions() -> None:
    assert feature_stage("SidecarContainers", (1, 32)) == (
        "Native sidecars (restartPolicy: Always) are beta (on by default) in 1.29-1.32 "
        "and GA from 1.33"
    )
    assert feature_stage("SidecarContainers", (1, 33)).endswith("are GA since 1.33")
    assert feature_stage("PodLevelResources", (1, 34)).endswith("from 1.34, not GA yet")
