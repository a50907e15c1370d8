"""Measure what a first visit to the analysis page downloads, compressed.

    .venv/bin/python bench/page_weight.py

Fetches /analyze/ through Django, follows every stylesheet, script and icon it references, and
gzips each body at level 9 (what whitenoise's CompressedManifestStaticFilesStorage serves to a
browser that accepts gzip; brotli would be smaller). Writes bench/results/page-weight-latest.md.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisor.settings")

TARGET = 500 * 1024
ASSET = re.compile(r'<(?:script|link)[^>]+(?:src|href)="(/static/[^"]+)"')


def measure() -> list[tuple[str, int, int]]:
    import django

    django.setup()
    from django.contrib.staticfiles import finders
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    response = client.get("/analyze/")
    assert response.status_code == 200, response.status_code
    html = response.content
    rows = [("/analyze/ (HTML)", len(html), len(gzip.compress(html, 9)))]
    for url in dict.fromkeys(ASSET.findall(html.decode())):
        path = finders.find(url.removeprefix("/static/"))
        body = Path(path).read_bytes()
        rows.append((url, len(body), len(gzip.compress(body, 9))))
    return rows


def main() -> None:
    rows = measure()
    total_raw = sum(r[1] for r in rows)
    total_gz = sum(r[2] for r in rows)
    lines = [
        f"# Page weight of the analysis page, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        "| resource | bytes | gzip -9 |",
        "| --- | ---: | ---: |",
        *[f"| `{name}` | {raw:,} | {gz:,} |" for name, raw, gz in rows],
        f"| **total** | **{total_raw:,}** | **{total_gz:,}** |",
        "",
        f"Target: at most {TARGET:,} bytes compressed; "
        f"{'met' if total_gz <= TARGET else 'MISSED'} ({total_gz / TARGET:.0%} of it).",
    ]
    text = "\n".join(lines) + "\n"
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "page-weight-latest.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
