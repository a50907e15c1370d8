"""Many workloads in a real browser: how soon the summary is usable, how long the page freezes.

    .venv/bin/python bench/browser_large.py [--deployments 300] [--repeat 3]

Starts the app as production does (gunicorn, DEBUG off; ``bench/web.py``'s server), opens
/analyze/ in Debian's Chromium through Playwright, pastes generated Deployments
(``bench/generate.py``'s template) and presses Analyse. Reported, per run:

* **time to usable**: from the click to the first frame after the summary table has all its
  rows (the page answers clicks then: a later frame has been painted and the main thread ran);
* **longest main-thread task** from a ``PerformanceObserver`` for ``longtask`` entries (tasks over
  50 ms) between the click and one second after the summary is usable;
* the size of the HTML answer, and the time to open one workload (its detail and four charts).

Targets (issue "Many workloads on one page"): usable within 2 s, no task over 200 ms, HTML at
most 1 MB. The floor in the same run is the analysis alone (the API's JSON answer for the same
text, timed from Python), so the browser's own share can be read off. Writes
``bench/results/browser-large-latest.md``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import TEMPLATE  # noqa: E402
from bench.run_all import load_average, provenance, write_result  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
TARGET_USABLE_MS = 2000
TARGET_TASK_MS = 200
TARGET_HTML_BYTES = 1_000_000

# Installed before any page script: collects every long task the page runs.
OBSERVER = """
window.__longTasks = [];
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]);
  }).observe({ type: "longtask", buffered: true });
} catch (e) { window.__longTasks = null; }
"""


def deployments(count: int) -> str:
    """``count`` generated Deployments (each with a Service)."""
    return "".join(TEMPLATE.format(i=i, ns=i % 17) for i in range(count))


def measure(page: Any, base: str, text: str, rows: int) -> dict[str, float]:
    """Analyse ``text`` on ``page`` (a Playwright page) and measure; ``rows`` workloads expected.

    Shared with tests/browser/test_many_workloads.py, which records the same figures.
    """
    page.add_init_script(OBSERVER)
    page.goto(f"{base}/analyze/")
    # As a paste does: one input event (Playwright's fill() is slow on a 30,000-line text).
    page.locator("#id_manifest").evaluate(
        "(area, text) => { area.value = text; area.dispatchEvent(new Event('input')); }", text
    )
    sizes: list[int] = []

    def on_response(response: Any) -> None:
        if response.request.method == "POST" and response.url.endswith("/analyze/"):
            sizes.append(len(response.body()))

    page.on("response", on_response)
    start = page.evaluate(
        "() => { const t = performance.now();"
        " document.querySelector('#analyze-form button.primary').click(); return t; }"
    )
    page.wait_for_function(
        f"() => document.querySelectorAll('#result .summary-table tbody tr').length === {rows}",
        timeout=60_000,
        polling="raf",
    )
    usable = page.evaluate(
        "() => new Promise((r) => requestAnimationFrame(() => setTimeout(() =>"
        " r(performance.now()), 0)))"
    )
    page.wait_for_timeout(1000)
    tasks = page.evaluate("() => window.__longTasks") or []
    longest = max((d for t, d in tasks if t + d >= start), default=0.0)
    opened = page.evaluate("() => performance.now()")
    page.locator("#result .summary-table a[data-open]").first.click()
    page.wait_for_function(
        "() => document.querySelectorAll('#w0 .chart[data-drawn=\"1\"]').length === 4",
        timeout=60_000,
    )
    detail = page.evaluate("() => performance.now()") - opened
    page.remove_listener("response", on_response)
    return {
        "usable_ms": usable - start,
        "longest_task_ms": longest,
        "html_bytes": float(sizes[-1] if sizes else 0),
        "detail_ms": detail,
        "long_tasks": float(len([1 for t, d in tasks if t + d >= start])),
    }


def analysis_floor(port: int, text: str) -> float:
    """Seconds the API takes for the same text (the server's share of time to usable)."""
    body = json.dumps({"manifest": text, "kubernetes_version": "1.37"}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        began = time.perf_counter()
        conn.request(
            "POST", "/api/v1/analyze", body=body, headers={"Content-Type": "application/json"}
        )
        conn.getresponse().read()
        return time.perf_counter() - began
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deployments", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    from bench.web import Server

    text = deployments(args.deployments)
    load = load_average()
    runs: list[dict[str, float]] = []
    floors: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp))
        try:
            server.start()
            base = f"http://127.0.0.1:{server.port}"
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
                )
                for _ in range(args.repeat):
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    page = context.new_page()
                    runs.append(measure(page, base, text, args.deployments))
                    context.close()
                    floors.append(analysis_floor(server.port, text))
                browser.close()
        finally:
            server.stop()

    def median(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    usable, task, html = (
        median("usable_ms"),
        max(r["longest_task_ms"] for r in runs),
        median("html_bytes"),
    )
    floor = statistics.median(floors) * 1000

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    lines = [
        "# Many workloads in a real browser",
        "",
        provenance(load=load),
        "",
        f"Input: {args.deployments} Deployments (each with a Service), {len(text):,} bytes; "
        f"{args.repeat} runs in Chromium (headless), app under gunicorn with DEBUG off.",
        "",
        "| figure | median | target | |",
        "| --- | --- | --- | --- |",
        f"| time to usable summary | {usable:,.0f} ms | {TARGET_USABLE_MS:,} ms | "
        f"{verdict(usable <= TARGET_USABLE_MS)} |",
        f"| longest main-thread task (worst run) | {task:,.0f} ms | {TARGET_TASK_MS} ms | "
        f"{verdict(task <= TARGET_TASK_MS)} |",
        f"| HTML of the answer | {html:,.0f} bytes | {TARGET_HTML_BYTES:,} bytes | "
        f"{verdict(html <= TARGET_HTML_BYTES)} |",
        f"| open one workload (detail + 4 charts) | {median('detail_ms'):,.0f} ms | | |",
        f"| floor: the API's analysis of the same text | {floor:,.0f} ms | | |",
        "",
        f"Time to usable is {usable / floor:.2f}x the analysis alone (same run).",
        "",
        "| run | usable ms | longest task ms | long tasks | HTML bytes | open one ms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for i, r in enumerate(runs, 1):
        lines.append(
            f"| {i} | {r['usable_ms']:,.0f} | {r['longest_task_ms']:,.0f} | "
            f"{r['long_tasks']:.0f} | {r['html_bytes']:,.0f} | {r['detail_ms']:,.0f} |"
        )
    write_result("browser-large", "\n".join(lines) + "\n", {"runs": runs, "floor_ms": floor})
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
