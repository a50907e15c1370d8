"""PostgreSQL restarted during a load run: the app recovers by itself, no review is lost.

The scenario is ``bench/faults.py`` (its docstring has every step), run lighter here: a private
PostgreSQL cluster of its own (never the machine's shared server on port 5432, whichever
database the rest of the suite runs on), ``deploy/entrypoint.sh`` serving it with production
settings, four clients creating reviews and probing ``/healthz`` while the cluster is stopped
and started again. Everything it starts is stopped, and its directory removed, even on failure.

Without PostgreSQL's server binaries the test skips, except in CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

from bench import faults

LIGHT = faults.Config(
    clients=4,
    warmup=3.0,
    down=1.5,
    after=5.0,
    max_requests=400,
    max_seconds=25.0,
    pace=0.02,
    client_timeout=10.0,
    mode="fast",
)


@pytest.mark.slow
def test_it_recovers_from_a_postgresql_restart_under_load_without_losing_a_review() -> None:
    try:
        result = faults.run(LIGHT)
    except faults.PostgresUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs PostgreSQL's server binaries for this test: {exc}")
        pytest.skip(str(exc))
    except faults.ScenarioError as exc:
        pytest.fail(f"the scenario could not run: {exc}")
    print(result.summary())
    context = f"{result.summary()}\n--- gunicorn log (tail) ---\n{result.app_log_tail}"

    # The database really went away and came back, while requests were being made.
    before, after = result.postmasters
    assert before and after and before != after, "PostgreSQL was not restarted"
    assert result.during_outage, "no request overlapped the outage: the run proves nothing"

    # The same gunicorn master and workers throughout: nothing restarted the app.
    assert result.same_processes, f"{result.pids_before} -> {result.pids_after}\n{context}"

    # Failures were clean 5xx, fast (no hang up to the client timeout), during the outage only.
    assert result.unclean == [], context
    assert {s.status for s in result.failures} <= {500, 503}, context
    assert result.outside_outage == [], context
    assert max(s.end - s.start for s in result.samples) < LIGHT.client_timeout, context

    # Recovery by itself, within the bound, and the last requests of every client succeeded.
    assert result.recovery_seconds <= faults.RECOVERY_BOUND, context
    later = Counter(s.kind for s in result.after_recovery if s.ok)
    assert later["create"] >= 4 and later["health"] >= 4, f"{dict(later)}\n{context}"
    assert result.last_requests_failed() == {}, context
    assert result.exit_code == 0, f"gunicorn did not stop cleanly on SIGTERM\n{context}"

    # In the database: every 201 saved whole, nothing half-written, nothing unexplained.
    integrity = result.integrity
    assert integrity.acknowledged > 0, context
    assert integrity.problems == [], context
    assert integrity.reviews == integrity.acknowledged + integrity.unacknowledged
    failed_creates = sum(1 for s in result.failures if s.kind == "create")
    assert integrity.unacknowledged <= failed_creates, context

    assert result.problems() == [], context  # the benchmark's verdict agrees
