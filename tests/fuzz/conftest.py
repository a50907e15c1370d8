"""Hypothesis profiles for the fuzz suite, and the run's seed and example counts in the summary.

Profiles (``HYPOTHESIS_PROFILE``, default ``ci``): ``max_examples`` is the budget *unit*; each
property takes a multiple of it (``strategies.fuzz(share)``), 4.9 units in all:

* ``ci``: 2,500 a unit, 12,250 examples a run (about 3 minutes on 2 cores);
* ``dev``: 50 a unit, 245 examples, for a quick local check (``HYPOTHESIS_PROFILE=dev``).

No example database (``database=None``): a run is reproduced from its seed alone, printed at
the end of the session: ``FUZZ_SEED=<seed> .venv/bin/python -m pytest tests/fuzz``. A failing
example is also printed with a ``@reproduce_failure`` blob.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from tests.fuzz.strategies import COUNTS, SEED

settings.register_profile(
    "ci",
    max_examples=2_500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=False,
    database=None,
    print_blob=True,
)
settings.register_profile("dev", parent=settings.get_profile("ci"), max_examples=50)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or "ci")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not COUNTS:
        return
    profile = os.environ.get("HYPOTHESIS_PROFILE") or "ci"
    total = sum(COUNTS.values())
    terminalreporter.write_sep("-", f"fuzz: {total:,} examples, seed {SEED}, profile {profile}")
    for name, n in sorted(COUNTS.items()):
        terminalreporter.write_line(f"  {n:>7,}  {name}")
    terminalreporter.write_line(
        f"  replay: FUZZ_SEED={SEED} HYPOTHESIS_PROFILE={profile} "
        ".venv/bin/python -m pytest tests/fuzz -p no:cacheprovider"
    )
