"""The one budget: each limit is enforced where the cost arises and named in the message."""

from __future__ import annotations

import json

import pytest

from advisor.core import sizing
from advisor.core.analyze import analyze_text
from advisor.core.budget import Budget, BudgetExceeded, limit_of
from advisor.core.fixes import FixError, fix
from advisor.core.report import to_dict
from advisor.core.yamlload import Limits, load_documents

POD = """apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  terminationGracePeriodSeconds: {grace}
  containers:
  - {{name: app, image: nginx}}
"""


def sidecars(n: int, name: str = "p") -> str:
    inits = "".join(
        f"  - {{name: s{i}, image: envoy, restartPolicy: Always, "
        f"resources: {{requests: {{cpu: {i + 1}m, memory: 1Mi}}}}}}\n"
        for i in range(n)
    )
    return (
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  initContainers:\n"
        f"{inits}  containers:\n  - {{name: app, image: nginx}}\n"
    )


def test_the_loader_limits_are_the_budget() -> None:
    assert Limits is Budget
    with pytest.raises(ValueError, match="max_depth"):
        Budget(max_depth=0)


def test_a_breach_names_the_limit_its_value_and_where() -> None:
    exc = Budget().exceeded("max_digits", file="a.yaml", document=2, line=7, detail="long")
    assert isinstance(exc, BudgetExceeded)
    assert str(exc) == (
        "a.yaml, document 2, line 7: long (max_digits = 100 characters in one number)"
    )
    assert (exc.status, Budget().exceeded("max_bytes").status) == (422, 413)
    assert limit_of(exc.message) == "max_digits"


@pytest.mark.parametrize(
    "number",
    ["1:" * 20_000 + "1", "9" * 5_000, "0x" + "f" * 5_000, "1." + "5" * 5_000 + "e+10"],
    ids=["base-60", "long-int", "long-hex", "long-float"],
)
def test_a_long_number_is_refused_before_pyyaml_converts_it(number: str) -> None:
    text = "kind: ConfigMap\n---\n" + POD.format(name="p", grace=number)
    report = analyze_text(text)
    [problem] = report.errors
    assert (problem.document, problem.line) == (2, 7)  # lines of the whole input
    assert "max_digits = 100" in problem.message


def test_merge_keys_count_as_nesting() -> None:
    chain = "a0: &a0 {x: 1}\n" + "".join(
        f"a{i}: &a{i}\n  <<: *a{i - 1}\n  y{i}: 1\n" for i in range(1, 30)
    )
    [doc] = load_documents(chain, limits=Limits(max_depth=10))
    assert doc.error is not None and "max_depth = 10" in doc.error.message
    [ok] = load_documents(chain)
    assert ok.value["a29"]["x"] == 1


def test_a_pod_over_the_container_limit_is_refused_and_the_others_analysed() -> None:
    text = sidecars(5, "big") + "---\n" + sidecars(2, "small")
    report = analyze_text(text, limits=Budget(max_containers=4))
    assert [w.workload.name for w in report.workloads] == ["small"]
    [problem] = report.errors
    assert problem.document == 1
    assert "Pod 'big' has 6 containers" in problem.message
    assert "max_containers = 4" in problem.message


def test_workloads_past_the_limit_are_not_analysed() -> None:
    text = "---\n".join(POD.format(name=f"p{i}", grace=30) for i in range(5))
    report = analyze_text(text, limits=Budget(max_workloads=3))
    assert len(report.workloads) == 3
    [problem] = report.errors
    assert problem.document == 4 and "max_workloads = 3" in problem.message


def test_a_big_pod_lists_per_phase_only_what_changes_with_the_same_numbers(monkeypatch) -> None:
    text = sidecars(60)
    condensed = analyze_text(text).workloads[0].sizing
    monkeypatch.setattr(sizing, "BREAKDOWN_CONTAINERS", 1_000)
    full = analyze_text(text).workloads[0].sizing
    assert (condensed.breakdown, full.breakdown) == ("changes", "full")
    assert condensed.requests == full.requests and condensed.limits == full.limits
    assert condensed.dominant == full.dominant
    for c, f in zip(condensed.phases, full.phases, strict=True):
        assert (c.name, c.total_requests, c.total_limits) == (
            f.name,
            f.total_requests,
            f.total_limits,
        )
    assert sum(len(p.requests) for p in condensed.phases) == 61  # each container once
    assert sum(len(p.requests) for p in full.phases) > 60 * 60 / 2
    assert any("each phase lists only the containers it starts" in n for n in condensed.notes)


def test_the_report_grows_linearly_with_the_containers() -> None:
    small = len(json.dumps(to_dict(analyze_text(sidecars(50)))))
    large = len(json.dumps(to_dict(analyze_text(sidecars(200 - 1)))))
    assert large < 5 * small  # 4x the containers; a square breakdown would be 16x


def _job_with_aliases(levels: int) -> str:
    lines = ["        a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"]
    for i in range(1, levels):
        lines.append(f"        a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n")
    return (
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\nspec:\n  template:\n"
        "    metadata:\n      annotations:\n" + "".join(lines) + "    spec:\n"
        "      restartPolicy: Never\n      containers:\n      - name: app\n        image: busybox\n"
        '        command: [sh, -c, "echo hi"]\n      - name: logshipper\n        image: busybox\n'
        '        command: [sh, -c, "tail -F /opt/logs.txt"]\n'
    )


def test_the_fix_refuses_an_alias_bomb_before_round_trip_work() -> None:
    text = _job_with_aliases(9)  # 10**9 nodes once expanded; under 1 KB as written
    assert len(text) < 1024
    with pytest.raises(FixError, match=r"line 9: .*max_nodes = 200,000"):
        fix(text, rule="classic-sidecar-blocks-job", document=1, container="logshipper")


def test_the_fix_still_patches_a_document_with_a_few_aliases() -> None:
    patched = fix(
        _job_with_aliases(3), rule="classic-sidecar-blocks-job", document=1, container="logshipper"
    ).patched
    assert "restartPolicy: Always" in patched and "a2: &a2 [*a1" in patched


def test_a_lone_surrogate_is_an_error_with_its_line_not_an_exception() -> None:
    report = analyze_text(POD.format(name="p", grace=30) + "# \ud800\n")
    [problem] = report.errors
    assert problem.line == 8 and "lone surrogate (U+D800)" in problem.message


def test_the_fix_refuses_a_document_too_long_to_round_trip_in_time() -> None:
    args = "        args:\n" + "        - x\n" * 2_500
    text = _job_with_aliases(1).replace(
        "      - name: logshipper\n", args + "      - name: logshipper\n"
    )
    with pytest.raises(FixError, match=r"has 2,5\d\d lines; the fix-it rewrites documents of up"):
        fix(text, rule="classic-sidecar-blocks-job", document=1, container="logshipper")


def test_the_command_line_takes_every_limit_as_a_flag_and_exits_2_past_one(tmp_path) -> None:
    import io

    from advisor import cli

    path = tmp_path / "pods.yaml"
    path.write_text(sidecars(5, "big"))
    err = io.StringIO()
    code = cli.main([str(path), "--max-containers", "4"], stdout=io.StringIO(), stderr=err)
    assert code == 2
    assert "document 1, line 1: Pod 'big' has 6 containers (max_containers = 4" in err.getvalue()
    err = io.StringIO()
    # The output limit, when given, bounds the bytes written to each output (SARIF here).
    held = [str(path), "--format", "sarif", "--max-output-bytes", "100"]
    assert cli.main(held, stdout=io.StringIO(), stderr=err) == 2
    assert "(max_output_bytes = 100 bytes of output)" in err.getvalue()
    err = io.StringIO()
    assert cli.main([str(path), "--max-digits", "0"], stdout=io.StringIO(), stderr=err) == 2
    assert "max_digits must be a positive whole number" in err.getvalue()
