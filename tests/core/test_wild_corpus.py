"""The analyser on real manifests nobody tuned it to, against a reviewer's labels.

``tests/fixtures/wild/`` holds real multi-container manifests copied unmodified from public
repositories (INDEX.tsv: repository, path, commit; LICENSES.md) and ``labels.yaml``: for each
workload the role and lifecycle a careful reviewer gives every container, and ``clean: true`` on
the controls that deserve no warning. ``bench/accuracy.py`` prints the full report.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.conf import settings

from advisor.core.analyze import Options, analyze
from advisor.core.roles import ROLES
from advisor.core.yamlload import Limits
from bench.accuracy import evaluate, load_labels
from tests.conftest import FIXTURES

WILD = FIXTURES / "wild"
WILD_META = {"INDEX.tsv", "LICENSES.md", "labels.yaml"}
LIFECYCLES = {"init", "native-sidecar", "regular"}

# Share of judged containers (regular containers and native sidecars) that must get the
# reviewer's role. Set just below what the analyser measured when the labels were written
# (bench/results/accuracy-latest.md); the roles are being reworked in parallel and should only
# raise it: raise this floor with them, never lower it to make a change pass.
ROLE_ACCURACY_FLOOR = 0.93  # measured 94.5% (103/109) after the wiring-driven role rules
# The same, counted only in pods with two or more non-init containers, where single-container
# controls cannot pad the figure: measured 92.1% (70/76).
MULTI_CONTAINER_ROLE_ACCURACY_FLOOR = 0.91

# tests/fixtures/heldout/ was copied and labelled BEFORE the role rules were changed against the
# wild set's mismatches, and is never used to tune them: its figure is the honest one on unseen
# manifests. Measured 78.8% (41/52) with the code of the day it was labelled, 92.3% (48/52) now.
HELDOUT = FIXTURES / "heldout"
HELDOUT_ROLE_ACCURACY_FLOOR = 0.90


def wild_files() -> list[Path]:
    return sorted(p for p in WILD.iterdir() if p.is_file() and p.name not in WILD_META)


LABELS = load_labels((WILD / "labels.yaml",))[WILD]


def test_the_folder_holds_sixty_labelled_real_manifests_with_provenance() -> None:
    names = {p.name for p in wild_files()}
    rows = [line.split("\t") for line in (WILD / "INDEX.tsv").read_text().splitlines()[1:]]
    assert len(names) >= 60
    assert {r[0] for r in rows} == names, "INDEX.tsv and the folder disagree"
    assert all(len(r) == 6 and len(r[3]) == 40 for r in rows), "each row needs a 40-hex commit"
    assert set(LABELS) == names, "every manifest needs labels, and every label a manifest"
    corpus = {tuple(line.split("\t")[1:3]) for line in (FIXTURES / "corpus" / "INDEX.tsv").open()}
    assert not corpus & {(r[1], r[2]) for r in rows}, "a wild file duplicates the corpus"


def test_labels_use_the_analysers_vocabulary() -> None:
    for name, workloads in LABELS.items():
        for w in workloads:
            assert w["kind"] and "name" in w, name
            for cname, label in w["containers"].items():
                assert label["role"] in ROLES, f"{name} {cname}: {label['role']}"
                assert label["lifecycle"] in LIFECYCLES, f"{name} {cname}"
                assert (label["role"] == "init") == (label["lifecycle"] == "init"), (name, cname)


@pytest.mark.parametrize("path", wild_files(), ids=lambda p: p.name[-60:])
def test_every_wild_file_analyses_within_the_servers_input_budget(path: Path) -> None:
    limits = Limits(
        max_bytes=settings.ADVISOR_MAX_INPUT_BYTES, max_depth=settings.ADVISOR_MAX_DEPTH
    )
    report = analyze([(path.name, path.read_bytes())], options=Options(limits=limits))
    if not LABELS[path.name]:
        # Labelled with no workload: the file cannot be read (kept to show it is reported).
        assert report.errors and all(e.line for e in report.errors), report.errors
        return
    assert report.errors == (), [e.message for e in report.errors]
    assert report.workloads, "a labelled wild file produced no workload"
    for workload in report.workloads:
        assert all(c.role and c.reason for c in workload.containers), workload.workload.name


@pytest.fixture(scope="module")
def evaluation():
    return evaluate({WILD: LABELS})


def test_every_labelled_workload_and_container_is_found(evaluation) -> None:
    assert evaluation.crashes == []
    assert evaluation.missing == []


def test_lifecycles_match_the_labels_exactly(evaluation) -> None:
    wrong = [f"{m.file} {m.container}: {m.given}" for m in evaluation.lifecycle_mismatches]
    assert wrong == []


def test_plain_init_containers_are_called_init(evaluation) -> None:
    assert evaluation.init_total > 0
    assert evaluation.init_right == evaluation.init_total


def test_role_accuracy_stays_above_the_floor(evaluation) -> None:
    assert evaluation.judged >= 60
    assert evaluation.role_accuracy >= ROLE_ACCURACY_FLOOR, (
        f"{evaluation.role_accuracy:.1%} of {evaluation.judged} roles right; mismatches: "
        + "; ".join(f"{m.container} {m.expected}->{m.given}" for m in evaluation.mismatches)
    )


def test_role_accuracy_in_multi_container_pods_stays_above_its_floor(evaluation) -> None:
    assert evaluation.multi_judged >= 60
    share = evaluation.multi_right / evaluation.multi_judged
    assert share >= MULTI_CONTAINER_ROLE_ACCURACY_FLOOR, f"{share:.1%} of {evaluation.multi_judged}"


def test_clean_controls_raise_no_error(evaluation) -> None:
    assert evaluation.clean_workloads >= 8
    errors = [f for f in evaluation.clean_findings if ": error " in f]
    assert errors == []


def test_the_labels_file_is_plain_yaml_with_one_entry_per_workload() -> None:
    data = yaml.safe_load((WILD / "labels.yaml").read_text(encoding="utf-8"))
    for name, workloads in data["files"].items():
        keys = [(w["kind"], w["name"]) for w in workloads]
        assert len(keys) == len(set(keys)), f"{name} labels a workload twice"


HELDOUT_LABELS = load_labels((HELDOUT / "labels.yaml",))[HELDOUT]


def test_the_held_out_set_is_twenty_labelled_real_manifests_from_other_sources() -> None:
    names = {p.name for p in HELDOUT.iterdir() if p.is_file() and p.name not in WILD_META}
    rows = [line.split("\t") for line in (HELDOUT / "INDEX.tsv").read_text().splitlines()[1:]]
    assert len(names) >= 20
    assert {r[0] for r in rows} == names, "INDEX.tsv and the folder disagree"
    assert all(len(r) == 6 and len(r[3]) == 40 for r in rows), "each row needs a 40-hex commit"
    assert set(HELDOUT_LABELS) == names, "every manifest needs labels, and every label a manifest"
    seen = {tuple(line.split("\t")[1:3]) for line in (WILD / "INDEX.tsv").open()}
    seen |= {tuple(line.split("\t")[1:3]) for line in (FIXTURES / "corpus" / "INDEX.tsv").open()}
    assert not seen & {(r[1], r[2]) for r in rows}, "a held-out file is already in wild or corpus"


def test_held_out_roles_stay_above_their_floor() -> None:
    ev = evaluate({HELDOUT: HELDOUT_LABELS})
    assert ev.crashes == [] and ev.missing == [] and ev.lifecycle_mismatches == []
    assert ev.judged >= 50
    assert ev.role_accuracy >= HELDOUT_ROLE_ACCURACY_FLOOR, (
        f"{ev.role_accuracy:.1%} of {ev.judged} held-out roles right; mismatches: "
        + "; ".join(f"{m.container} {m.expected}->{m.given}" for m in ev.mismatches)
    )
