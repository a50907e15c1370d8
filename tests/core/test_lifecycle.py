"""Startup and shutdown timelines: the Kubernetes lifecycle vectors and what the chart shows."""

from __future__ import annotations

import math

import pytest
import yaml

from advisor.core.lifecycle import (
    Assumptions,
    Marker,
    Segment,
    Timeline,
    assumptions_from_mapping,
    simulate_shutdown,
    simulate_startup,
)
from advisor.core.model import PodTemplate
from tests.conftest import VECTORS as VECTORS_DIR

VECTORS = VECTORS_DIR / "k8s-requests-sample.yaml"


def _lifecycle_vectors(kind: str) -> list[dict]:
    data = yaml.safe_load(VECTORS.read_text(encoding="utf-8"))
    return [v for v in data["lifecycle_vectors"] if v["kind"] == kind]


def _pod(spec: dict) -> PodTemplate:
    return PodTemplate.from_raw(spec, {}, path="spec")


def _markers(t: Timeline, label: str, container: str | None = None) -> list[Marker]:
    return [m for m in t.markers if m.label == label and container in (None, m.container)]


def _signal_at(t: Timeline, container: str) -> float:
    (marker,) = [m for m in t.markers if m.label == "SIGTERM" and m.container == container]
    return marker.time


def _segments(t: Timeline, container: str, phase: str | None = None) -> list[Segment]:
    return [s for s in t.segments if s.container == container and phase in (None, s.phase)]


def _first_start(t: Timeline, container: str) -> float:
    return min(s.start for s in _segments(t, container))


def _signal_groups(t: Timeline) -> list[set[str]]:
    """Containers grouped by the time they get SIGTERM, earliest first."""
    groups: dict[float, set[str]] = {}
    for m in sorted(t.markers, key=lambda m: m.time):
        if m.label == "SIGTERM" and m.container:
            groups.setdefault(m.time, set()).add(m.container)
    return list(groups.values())


@pytest.mark.parametrize("vector", _lifecycle_vectors("termination_order"), ids=lambda v: v["name"])
def test_termination_order_vectors(vector: dict) -> None:
    pod = _pod(vector["pod"])
    assumptions = Assumptions(
        exit_after_sigterm_seconds=vector.get("per_container_exit_seconds", 1.0)
    )
    t = simulate_shutdown(
        pod, assumptions=assumptions, grace_seconds=vector.get("grace_period_seconds")
    )
    expected = [set(e) if isinstance(e, list) else {e} for e in vector["order"]]
    assert _signal_groups(t) == expected
    for name, seconds in vector.get("expected_wait_before_signal_seconds", {}).items():
        # No preStop hooks: the wait starts at deletion; the kubelet reports it in whole seconds.
        waited = sum(s.end - s.start for s in _segments(t, name, "waiting-for-others"))
        assert math.floor(waited + 1e-9) == seconds, name
        assert _signal_at(t, name) == pytest.approx(waited)


@pytest.mark.parametrize("vector", _lifecycle_vectors("startup_order"), ids=lambda v: v["name"])
def test_startup_order_vectors(vector: dict) -> None:
    t = simulate_startup(_pod(vector["pod"]))
    names = [
        c["name"] for c in vector["pod"].get("initContainers", []) + vector["pod"]["containers"]
    ]
    assert sorted(names, key=lambda n: _first_start(t, n)) == vector["order"]
    assert len({_first_start(t, n) for n in names}) == len(names)


SIDECAR_WITH_PROBE = {
    "initContainers": [
        {
            "name": "proxy",
            "restartPolicy": "Always",
            "startupProbe": {
                "httpGet": {"port": 15021},
                "initialDelaySeconds": 5,
                "periodSeconds": 2,
            },
        }
    ],
    "containers": [{"name": "app"}],
}


def test_it_delays_the_app_until_the_sidecar_startup_probe_passes() -> None:
    t = simulate_startup(_pod(SIDECAR_WITH_PROBE))
    # proxy runs at 1s; first probe tick at or after 5s is 6s -> started at 7s.
    assert _markers(t, "startup probe passes", "proxy")[0].time == 7
    assert _first_start(t, "app") == 7
    probe = _segments(t, "proxy", "startup-probe")[0]
    assert (probe.start, probe.end) == (1, 7)
    assert _segments(t, "proxy", "running")[0].end == t.total_seconds > 8


def test_it_never_starts_the_app_when_the_sidecar_startup_probe_fails() -> None:
    spec = {
        "initContainers": [
            {
                "name": "proxy",
                "restartPolicy": "Always",
                "startupProbe": {
                    "exec": {"command": ["true"]},
                    "periodSeconds": 10,
                    "failureThreshold": 3,
                },
            }
        ],
        "containers": [{"name": "app"}],
    }
    slow = Assumptions(per_container={"proxy": {"ready_after_seconds": 100}})
    t = simulate_startup(_pod(spec), assumptions=slow)
    assert _segments(t, "app") == []
    (kill,) = _markers(t, "startup probe would kill the container", "proxy")
    assert kill.time == 31 == t.total_seconds
    assert any("gives up after 30s" in n and "never start" in n for n in t.notes)


def test_it_signals_the_sidecar_after_main_prestop_sleep() -> None:
    spec = {
        "terminationGracePeriodSeconds": 30,
        "initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
        "containers": [{"name": "app", "lifecycle": {"preStop": {"sleep": {"seconds": 20}}}}],
    }
    t = simulate_shutdown(_pod(spec))
    pre_stop = _segments(t, "app", "pre-stop")[0]
    assert (pre_stop.start, pre_stop.end) == (0, 20)
    assert _signal_at(t, "app") == 20
    assert _signal_at(t, "proxy") == 21
    assert _segments(t, "proxy", "waiting-for-others")[0].end == 21
    assert "9s left before SIGKILL" in _segments(t, "proxy", "terminating")[0].why
    assert _markers(t, "grace deadline (30s)")[0].time == 30
    assert t.total_seconds == 22


def test_it_kills_a_slow_main_and_still_gives_the_sidecar_two_seconds() -> None:
    spec = {
        "terminationGracePeriodSeconds": 30,
        "initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
        "containers": [{"name": "app"}],
    }
    slow = Assumptions(
        per_container={
            "app": {"exit_after_sigterm_seconds": 40},
            "proxy": {"exit_after_sigterm_seconds": 3},
        }
    )
    t = simulate_shutdown(_pod(spec), assumptions=slow)
    assert [m.time for m in _markers(t, "SIGKILL", "app")] == [30]
    assert _segments(t, "app", "killed")[0].end == 30
    assert _signal_at(t, "proxy") == 30
    assert [m.time for m in _markers(t, "SIGKILL", "proxy")] == [32]
    assert t.total_seconds == 32
    assert any("overruns the grace period by 2s (2s minimum stop grace)" in n for n in t.notes)


def test_it_signals_classic_containers_at_once_without_ordering() -> None:
    spec = {"containers": [{"name": "app"}, {"name": "log-shipper"}]}
    shutdown = simulate_shutdown(_pod(spec))
    assert _signal_groups(shutdown) == [{"app", "log-shipper"}]
    assert _signal_at(shutdown, "app") == 0
    assert any(
        n.startswith("no native sidecars: all containers are signalled at once")
        for n in shutdown.notes
    )
    startup = simulate_startup(_pod(spec))
    assert any("no readiness ordering" in n for n in startup.notes)


def test_it_blocks_the_next_regular_container_on_post_start_only() -> None:
    spec = {
        "containers": [
            {"name": "app", "lifecycle": {"postStart": {"sleep": {"seconds": 3}}}},
            {"name": "proxy", "startupProbe": {"tcpSocket": {"port": 1}, "periodSeconds": 5}},
            {"name": "last"},
        ]
    }
    t = simulate_startup(_pod(spec))
    assert _first_start(t, "proxy") == 4  # app: 1s start + 3s postStart sleep
    assert _first_start(t, "last") == 5  # proxy's startup probe does not hold it back
    assert _segments(t, "proxy", "startup-probe")[0].end == 10


def test_it_applies_assumption_overrides_per_container() -> None:
    spec = {
        "initContainers": [{"name": "migrate"}, {"name": "seed"}],
        "containers": [{"name": "app"}],
    }
    data = {"init_run_seconds": "3", "per_container": {"seed": {"init_run_seconds": 10}}}
    t = simulate_startup(_pod(spec), assumptions=assumptions_from_mapping(data))
    assert _segments(t, "migrate", "running-to-completion")[0].end == 4
    assert _segments(t, "seed", "running-to-completion")[0].end == 15
    assert _first_start(t, "app") == 15
    assert "init container 'migrate' runs 3s (assumed)" in t.assumptions
    assert "init container 'seed' runs 10s (set for this container)" in t.assumptions


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"init_run_seconds": "-1"}, "init_run_seconds: '-1' is negative"),
        ({"image_start_seconds": "nan"}, "image_start_seconds: 'nan' is not a number"),
        ({"exec_prestop_seconds": "1e9"}, "more than 86400 seconds"),
        ({"post_start_seconds": "abc"}, "post_start_seconds: 'abc' is not a number"),
        (
            {"per_container": {"proxy": {"ready_after_seconds": "abc"}}},
            "per_container.proxy.ready_after",
        ),
        ({"per_container": {"proxy": {"typo": 1}}}, "unknown assumption 'typo'"),
        ({"init_run_secs": 1}, "unknown assumption 'init_run_secs'"),
    ],
)
def test_it_rejects_bad_assumption_values(data: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        assumptions_from_mapping(data)


def test_it_reads_assumptions_from_form_input() -> None:
    a = assumptions_from_mapping(
        {
            "init_run_seconds": "3",
            "ready_after_seconds": "",
            "per_container": {"istio-proxy": {"ready_after_seconds": 4}},
        }
    )
    assert a.init_run_seconds == 3
    assert a.ready_after_seconds == Assumptions().ready_after_seconds
    assert a.for_container("istio-proxy", "ready_after_seconds") == 4
    assert a.for_container("app", "ready_after_seconds") == 2


def test_it_falls_back_to_probe_defaults_for_garbage_fields() -> None:
    spec = {
        "initContainers": [
            {
                "name": "proxy",
                "restartPolicy": "Always",
                "startupProbe": {
                    "periodSeconds": "ten",
                    "failureThreshold": -2,
                    "initialDelaySeconds": 1.5,
                },
            }
        ],
        "containers": [{"name": "app"}],
    }
    t = simulate_startup(_pod(spec))
    # defaults: period 10, initial delay 0 -> first tick at or after 2s (ready_after) is 10s.
    assert _markers(t, "startup probe passes", "proxy")[0].time == 11
    assert _first_start(t, "app") == 11
    assert any("periodSeconds 'ten'" in n and "default 10" in n for n in t.notes)


def test_it_lists_every_assumed_value_it_used() -> None:
    spec = {
        "initContainers": [
            {
                "name": "proxy",
                "restartPolicy": "Always",
                "lifecycle": {"preStop": {"exec": {"command": ["x"]}}},
            }
        ],
        "containers": [{"name": "app"}],
    }
    t = simulate_shutdown(_pod(spec))
    assert set(t.assumptions) == {
        "preStop hook of 'proxy' takes 2s (assumed)",
        "'proxy' exits 1s after its stop signal (assumed)",
        "'app' exits 1s after its stop signal (assumed)",
    }
    # proxy's preStop (2s) outlasts app (exits at 1s): it is signalled right after its hook.
    assert _signal_at(t, "proxy") == 2


def test_it_uses_the_container_stop_signal() -> None:
    spec = {"containers": [{"name": "nginx", "lifecycle": {"stopSignal": "SIGQUIT"}}]}
    t = simulate_shutdown(_pod(spec), grace_seconds=0)
    assert [m.label for m in t.markers if m.container == "nginx"] == ["SIGQUIT"]
    assert any("grace period 0s" in n for n in t.notes)
    assert "2s left before SIGKILL (2s minimum stop grace)" in _segments(t, "nginx")[0].why


def test_it_says_which_start_dependencies_the_order_guarantees() -> None:
    from advisor.core.lifecycle import start_dependencies
    from advisor.core.model import PodTemplate
    from advisor.core.wiring import wire

    proxy = {"name": "proxy", "image": "p", "ports": [{"containerPort": 5432}]}
    app = {"name": "app", "image": "a", "env": [{"name": "DB", "value": "127.0.0.1:5432"}]}
    gated = dict(proxy, restartPolicy="Always", startupProbe={"tcpSocket": {"port": 5432}})
    cases = {
        "classic": ({"containers": [app, proxy]}, False, "start together"),
        "native, no probe": (
            {"initContainers": [dict(proxy, restartPolicy="Always")], "containers": [app]},
            False,
            "without a startupProbe",
        ),
        "native with probe": ({"initContainers": [gated], "containers": [app]}, True, "wait"),
    }
    for name, (spec, guaranteed, words) in cases.items():
        pod = PodTemplate.from_raw(spec, {}, path="inline")
        (dep,) = start_dependencies(pod, wire(pod))
        assert (dep.dependant, dep.helper, dep.guaranteed) == ("app", "proxy", guaranteed), name
        assert words in dep.why, name
