"""The analysis core stays pure: importable without Django, plotly or the web app."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

CORE_MODULES = [
    "advisor.core.analyze",
    "advisor.core.report",
    "advisor.core.matrix",
    "advisor.core.patterns",
    "advisor.core.rules",
    "advisor.cli",
]


def test_it_imports_the_core_without_django_or_plotly() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in CORE_MODULES)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('django', 'plotly', 'webui'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "", f"the core pulled in: {out.stdout.strip()}"
