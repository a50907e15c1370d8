"""The decision matrix: answers in, one pattern out, with reasons, pitfalls and version notes."""

from __future__ import annotations

import itertools
from dataclasses import fields

import pytest
import yaml

from advisor.core.matrix import (
    MATRIX,
    NEEDS,
    QUESTIONS,
    Answers,
    advise_container,
    answers_from_mapping,
    match,
    recommend,
)
from advisor.core.patterns import PATTERNS, POD_HELPER_PATTERNS, helper_form, starter_manifest
from advisor.core.versions import SUPPORTED

HELPER_NEEDS = (
    "long-lived-helper",
    "outbound-proxy",
    "translate-output",
    "block-until-helper-ready",
    "batch-job-helper",
)


def _rec(need: str, version: tuple[int, int] = (1, 37), **kwargs: object):
    return recommend(Answers(need=need, kubernetes_version=version, **kwargs))  # type: ignore[arg-type]


def _text(items: tuple[str, ...]) -> str:
    return " ".join(items)


@pytest.mark.parametrize(
    ("need", "pattern"),
    [
        ("setup-before-start", "init-container"),
        ("long-lived-helper", "native-sidecar"),
        ("outbound-proxy", "ambassador"),
        ("translate-output", "adapter"),
        ("block-until-helper-ready", "native-sidecar"),
        ("batch-job-helper", "native-sidecar"),
        ("fleet-wide-proxy", "separate-deployment"),
        ("unrelated-apps", "separate-pods"),
    ],
)
def test_it_covers_each_row_of_the_matrix(need: str, pattern: str) -> None:
    rec = _rec(need)
    assert rec.pattern == pattern
    assert rec.matrix_row == need
    assert rec.title == PATTERNS[pattern].title
    assert rec.reasons and rec.pitfalls


def test_it_has_rows_for_every_need() -> None:
    assert {row.need for row in MATRIX} == set(NEEDS)


@pytest.mark.parametrize(
    ("need", "pattern"),
    [
        ("setup-before-start", "init-container"),
        ("long-lived-helper", "classic-sidecar"),
        ("outbound-proxy", "ambassador"),
        ("translate-output", "adapter"),
        ("block-until-helper-ready", "classic-sidecar"),
        ("batch-job-helper", "classic-sidecar"),
        ("fleet-wide-proxy", "separate-deployment"),
        ("unrelated-apps", "separate-pods"),
    ],
)
def test_it_avoids_native_sidecars_on_1_28(need: str, pattern: str) -> None:
    rec = _rec(need, (1, 28))
    assert rec.pattern == pattern
    assert not match(Answers(need=need, kubernetes_version=(1, 28))).native


def test_it_switches_to_native_sidecars_between_1_28_and_1_29() -> None:
    old, new = _rec("long-lived-helper", (1, 28)), _rec("long-lived-helper", (1, 29))
    assert (old.pattern, new.pattern) == ("classic-sidecar", "native-sidecar")
    assert any(
        n.startswith("1.28: SidecarContainers is alpha and off by default")
        and "classic sidecar is recommended" in n
        for n in old.version_notes
    )
    assert "Kubernetes 1.28 has no native sidecars" in _text(old.reasons)
    assert any("beta (on by default) in 1.29-1.32 and GA from 1.33" in n for n in new.version_notes)


@pytest.mark.parametrize("version", [(1, 25), (1, 26), (1, 27)])
def test_it_says_native_sidecars_do_not_exist_before_1_28(version: tuple[int, int]) -> None:
    rec = _rec("batch-job-helper", version)
    assert rec.pattern == "classic-sidecar"
    assert any("SidecarContainers does not exist yet" in n for n in rec.version_notes)


def test_it_notes_beta_up_to_1_32_and_ga_from_1_33() -> None:
    beta, ga = _rec("outbound-proxy", (1, 32)), _rec("outbound-proxy", (1, 33))
    assert any("beta (on by default) in 1.29-1.32" in n for n in beta.version_notes)
    assert not any("beta" in n and "sidecar" in n.lower() for n in ga.version_notes)
    assert any("Native sidecars" in n and "GA since 1.33" in n for n in ga.version_notes)


def test_it_notes_container_metrics_for_hpas_by_version() -> None:
    old, new = _rec("translate-output", (1, 26)), _rec("translate-output", (1, 27))
    assert any("HPAContainerMetrics is alpha and off by default" in n for n in old.version_notes)
    assert any("ContainerResource metrics" in n and "beta" in n for n in new.version_notes)
    assert not any("HPA" in n for n in _rec("translate-output", workload="batch").version_notes)


def test_it_notes_pod_level_resources_from_1_32() -> None:
    def notes(version: tuple[int, int]) -> str:
        return _text(_rec("long-lived-helper", version).version_notes)

    assert "PodLevelResources" not in notes((1, 31))
    assert "PodLevelResources is alpha and off by default" in notes((1, 33))
    assert "beta and on by default from 1.34" in notes((1, 34))


def test_it_gives_no_sidecar_notes_for_patterns_without_a_pod_helper() -> None:
    for need in ("setup-before-start", "fleet-wide-proxy", "unrelated-apps"):
        assert _rec(need, (1, 28)).version_notes == ()


@pytest.mark.parametrize("need", HELPER_NEEDS)
def test_it_moves_a_helper_that_does_not_scale_with_the_app_out_of_the_pod(need: str) -> None:
    rec = _rec(need, helper_scales_with_app=False)
    assert rec.pattern == "separate-deployment"
    assert rec.matrix_row == need
    assert "does not grow with one app replica" in _text(rec.reasons)


@pytest.mark.parametrize("need", HELPER_NEEDS)
def test_it_moves_a_helper_that_shares_nothing_out_of_the_pod(need: str) -> None:
    rec = _rec(need, shares_files_or_localhost=False)
    assert rec.pattern == "separate-deployment"
    assert "needs none of the app's files, localhost or processes" in _text(rec.reasons)


def test_it_lets_a_waiting_init_container_wait_only_for_a_helper_outside_the_pod() -> None:
    rec = _rec("block-until-helper-ready", helper_scales_with_app=False)
    assert "init container in the app's pod can then wait" in _text(rec.reasons)


def test_it_keeps_setup_and_unrelated_apps_regardless_of_scaling_answers() -> None:
    for need, pattern in (
        ("setup-before-start", "init-container"),
        ("unrelated-apps", "separate-pods"),
    ):
        rec = _rec(need, helper_scales_with_app=False, shares_files_or_localhost=False)
        assert rec.pattern == pattern


@pytest.mark.parametrize(
    ("need", "pattern"),
    [
        ("long-lived-helper", "native-sidecar"),
        ("outbound-proxy", "ambassador"),
        ("translate-output", "adapter"),
    ],
)
def test_it_uses_the_native_form_for_helpers_of_batch_workloads(need: str, pattern: str) -> None:
    answers = Answers(need=need, workload="batch")
    rec = recommend(answers)
    assert rec.pattern == pattern
    assert match(answers).native
    assert "cannot hold the Job open" in _text(rec.reasons)
    assert not match(Answers(need="translate-output")).native


@pytest.mark.parametrize("need", ["long-lived-helper", "outbound-proxy", "translate-output"])
def test_it_warns_that_a_classic_helper_blocks_an_old_job(need: str) -> None:
    rec = _rec(need, (1, 28), workload="batch")
    assert not match(Answers(need=need, workload="batch", kubernetes_version=(1, 28))).native
    assert any("never completes" in p and "/quitquitquit" in p for p in rec.pitfalls)


def test_it_treats_a_batch_job_helper_as_batch_whatever_the_workload_answer() -> None:
    answers = Answers(need="batch-job-helper", workload="service")
    assert answers.manifest_kind == "Job"
    assert "cannot hold the Job open" in _text(recommend(answers).reasons)


@pytest.mark.parametrize("need", ["long-lived-helper", "translate-output", "outbound-proxy"])
def test_it_gates_the_app_on_a_helper_it_needs_at_start(need: str) -> None:
    rec = _rec(need, app_needs_helper_at_start=True)
    assert rec.pattern in ("native-sidecar", "ambassador")
    assert match(Answers(need=need, app_needs_helper_at_start=True)).native
    assert "startupProbe" in _text(rec.reasons)


def test_it_turns_an_adapter_the_app_needs_at_start_into_a_native_sidecar() -> None:
    assert _rec("translate-output").pattern == "adapter"
    rec = _rec("translate-output", app_needs_helper_at_start=True)
    assert rec.pattern == "native-sidecar"
    assert ("adapter", "if the app can start before the adapter is ready") in rec.alternatives


def test_it_has_no_kubernetes_way_to_block_start_before_1_29() -> None:
    rec = _rec("block-until-helper-ready", (1, 28))
    assert rec.pattern == "classic-sidecar"
    assert "make the app wait" in _text(rec.reasons)
    assert any("An init container cannot do the waiting" in p for p in rec.pitfalls)
    assert "separate-deployment" in dict(rec.alternatives)
    assert "native-sidecar" in dict(rec.alternatives)


def test_it_warns_about_the_per_pod_proxy_bottleneck() -> None:
    assert any("bottleneck" in p for p in _rec("outbound-proxy").pitfalls)


def test_it_fills_in_the_target_version_in_every_text() -> None:
    rec = _rec("long-lived-helper", (1, 27), app_needs_helper_at_start=True)
    texts = _text(rec.reasons + rec.pitfalls)
    assert "{version}" not in texts
    assert "Kubernetes 1.27 cannot hold the app back" in texts


ALL_ANSWERS = [
    Answers(need, workload, at_start, scales, shares, version)
    for need, workload, at_start, scales, shares, version in itertools.product(
        NEEDS, ("service", "batch"), (False, True), (False, True), (False, True), SUPPORTED
    )
]


def test_it_recommends_a_catalogued_pattern_for_every_combination_of_answers() -> None:
    for answers in ALL_ANSWERS:
        rec = recommend(answers)
        assert rec.pattern in PATTERNS
        assert all(pid in PATTERNS and pid != rec.pattern for pid, _ in rec.alternatives)
        assert len(set(rec.pitfalls)) == len(rec.pitfalls)


def test_it_only_recommends_native_sidecars_where_the_version_has_them() -> None:
    for answers in ALL_ANSWERS:
        if answers.kubernetes_version < (1, 29):
            assert match(answers).native is False
            assert recommend(answers).pattern != "native-sidecar"


def test_it_agrees_with_the_starter_manifest_on_how_the_helper_is_declared() -> None:
    for answers in ALL_ANSWERS:
        row = match(answers)
        if row.pattern not in POD_HELPER_PATTERNS:
            continue
        form = helper_form(
            row.pattern,
            workload=answers.manifest_kind,
            kubernetes_version=answers.kubernetes_version,
        )
        assert (form == "native") == row.native, answers


def test_it_never_recommends_a_starter_with_a_helper_in_a_jobs_containers_from_1_29() -> None:
    for answers in ALL_ANSWERS:
        if answers.manifest_kind != "Job" or answers.kubernetes_version < (1, 29):
            continue
        text = starter_manifest(
            recommend(answers).pattern,
            workload="Job",
            kubernetes_version=answers.kubernetes_version,
        )
        (job,) = [d for d in yaml.safe_load_all(text) if d["kind"] == "Job"]
        assert [c["name"] for c in job["spec"]["template"]["spec"]["containers"]] == ["app"]


def test_it_asks_about_every_answer_field_in_form_order() -> None:
    assert [q.id for q in QUESTIONS] == [f.name for f in fields(Answers)]
    versions = dict(QUESTIONS[-1].choices)
    assert list(versions) == [f"1.{minor}" for minor in range(25, 38)]
    assert all(q.text.endswith("?") and q.help and q.choices for q in QUESTIONS)


def test_it_reads_the_question_defaults_back_as_the_answer_defaults() -> None:
    form = {q.id: q.default for q in QUESTIONS} | {"need": "outbound-proxy"}
    assert answers_from_mapping(form) == Answers(need="outbound-proxy")


def test_it_accepts_every_offered_choice() -> None:
    for question in QUESTIONS:
        for value, _label in question.choices:
            answers_from_mapping({"need": "long-lived-helper", question.id: value})


def test_it_parses_form_strings_into_answers() -> None:
    answers = answers_from_mapping(
        {
            "need": "batch-job-helper",
            "workload": "batch",
            "app_needs_helper_at_start": "true",
            "helper_scales_with_app": "False",
            "shares_files_or_localhost": "on",
            "kubernetes_version": "1.31",
            "csrfmiddlewaretoken": "ignored",
        }
    )
    assert answers == Answers("batch-job-helper", "batch", True, False, True, (1, 31))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "need: choose"),
        ({"need": "sidecar-please"}, "need: 'sidecar-please' is not one of setup-before-start"),
        ({"need": "outbound-proxy", "workload": "cron"}, "workload: 'cron' is not one of"),
        (
            {"need": "outbound-proxy", "app_needs_helper_at_start": "maybe"},
            "expected true or false",
        ),
        ({"need": "outbound-proxy", "kubernetes_version": "1.24"}, "1.24 is not supported"),
        (
            {"need": "outbound-proxy", "kubernetes_version": "banana"},
            "kubernetes_version: 'banana'",
        ),
    ],
)
def test_it_rejects_bad_form_values_with_a_clear_message(data: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        answers_from_mapping(data)


def test_it_rejects_invalid_answers_built_in_code() -> None:
    with pytest.raises(ValueError, match="need must be one of"):
        Answers(need="mesh")
    with pytest.raises(ValueError, match="True or False"):
        Answers(need="outbound-proxy", helper_scales_with_app="false")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not supported"):
        Answers(need="outbound-proxy", kubernetes_version=(1, 38))


def _advise(**kwargs: object) -> str | None:
    base: dict[str, object] = {
        "name": "proxy",
        "role": "ambassador",
        "lifecycle": "regular",
        "workload_kind": "Deployment",
        "rule_ids": (),
        "kubernetes_version": (1, 37),
    }
    return advise_container(**(base | kwargs))  # type: ignore[arg-type]


def test_it_moves_a_classic_helper_out_of_a_jobs_containers() -> None:
    advice = _advise(
        name="shipper", role="sidecar", workload_kind="Job", rule_ids=["classic-sidecar-blocks-job"]
    )
    assert advice == (
        "Move 'shipper' to initContainers with restartPolicy: Always so it no longer keeps "
        "the Job running."
    )
    old = _advise(
        workload_kind="CronJob", rule_ids=["classic-sidecar-blocks-job"], kubernetes_version=(1, 28)
    )
    assert old is not None and "exit when the app is done" in old


def test_it_turns_a_classic_proxy_the_app_needs_into_a_gated_native_sidecar() -> None:
    advice = _advise()
    assert advice is not None and "restartPolicy: Always and a startupProbe" in advice
    older = _advise(kubernetes_version=(1, 27))
    assert older is not None and "Make the app retry until 'proxy' is ready" in older


def test_it_asks_for_a_startup_probe_on_a_native_sidecar() -> None:
    advice = _advise(lifecycle="native-sidecar", rule_ids=["sidecar-without-startup-probe"])
    assert (
        advice == "Add a startupProbe to 'proxy' so the containers after it wait until it is ready."
    )
    assert _advise(lifecycle="native-sidecar") is None


@pytest.mark.parametrize(("version", "text"), [((1, 28), "alpha"), ((1, 27), "has no native")])
def test_it_advises_upgrading_for_native_sidecars_before_1_29(
    version: tuple[int, int], text: str
) -> None:
    advice = _advise(lifecycle="native-sidecar", kubernetes_version=version)
    assert advice is not None and text in advice
    assert "upgrade to 1.29+ or move it to containers as a classic sidecar" in advice


def test_it_has_no_advice_for_apps_plain_init_containers_or_idle_helpers() -> None:
    assert _advise(role="app") is None
    assert _advise(role="app", workload_kind="Job", rule_ids=["classic-sidecar-blocks-job"]) is None
    assert _advise(lifecycle="init") is None
    assert _advise(role="adapter") is None
    assert _advise(role="sidecar", workload_kind="Job") is None
