"""The command-line benchmark still runs (CI proves it once per run; no time is asserted)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_it_measures_each_row_against_its_floor(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "bench/cli.py", "--quick", "--rows", "corpus,tiny", "--results", tmp_path],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = (tmp_path / "cli-latest.md").read_text()
    rows = re.findall(r"^\| (corpus|tiny) \| (\d+) file\(s\).*\*\*(\d+\.\d+)x\*\*", report, re.M)
    assert [(name, files) for name, files, _ in rows] == [("corpus", "76"), ("tiny", "1")]
    assert all(float(ratio) > 0 for _, _, ratio in rows)
    assert "Importing the command line" in report
