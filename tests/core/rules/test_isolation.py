"""Rules about what the containers of one pod share, and whether they should."""

from __future__ import annotations

from advisor.core.analyze import analyze_text
from tests.core.rules.fixtures_test_helpers import analyze_manifest, corpus_text, findings, manifest

SHARE_PID = "kubernetes__website__content__en__examples__pods__share-process-namespace.yaml"


def test_it_says_how_many_containers_see_each_others_processes() -> None:
    report = analyze_manifest("isolation-share-process-namespace.yaml")
    (finding,) = findings(report, "share-process-namespace")
    assert finding.severity == "warning"
    assert "exposes the processes of all 2 containers to each other" in finding.message


def test_it_flags_the_share_process_namespace_example_of_the_kubernetes_docs() -> None:
    report = analyze_text(corpus_text(SHARE_PID), file="share-process-namespace.yaml")
    (finding,) = findings(report, "share-process-namespace")
    assert finding.line == 6


def test_it_names_the_two_apps_that_share_nothing() -> None:
    report = analyze_manifest("isolation-unrelated-containers.yaml")
    (finding,) = findings(report, "unrelated-containers")
    assert finding.container == "billing"
    assert "'orders' and 'billing' both serve their own ports" in finding.message


def test_it_sees_a_call_over_localhost_as_coupling() -> None:
    text = manifest("isolation-unrelated-containers.yaml").replace(
        '"postgres://billing-db.shop.svc.cluster.local:5432/billing"', '"http://127.0.0.1:8080"'
    )
    assert findings(analyze_text(text), "unrelated-containers") == []


def test_it_does_not_count_a_catalogued_helper_as_a_second_app() -> None:
    text = manifest("dont-fire-ports-duplicate-container-port.yaml").replace(
        'value: "localhost:9125"', 'value: "statsd.monitoring.svc:9125"'
    )
    assert findings(analyze_text(text), "unrelated-containers") == []
