"""Production static files: compressed copies and content-hashed names from collectstatic."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def test_it_collects_compressed_cache_busted_static_files(tmp_path) -> None:
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "test-only-" + "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "localhost",
        "STATIC_ROOT": str(tmp_path),
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    names = {p.name for p in tmp_path.rglob("*")}
    hashed = [n for n in names if n.startswith("app.") and n.endswith(".css") and n != "app.css"]
    assert hashed, "no content-hashed copy of app.css"
    assert f"{hashed[0]}.gz" in names
    assert any(n.startswith("plotly-basic-") and n.endswith(".min.js.gz") for n in names)
    assert "staticfiles.json" in names
