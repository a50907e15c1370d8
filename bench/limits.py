"""Measure the analysis rate limit a client really gets from one and from two gunicorn servers,
with the per-process cache and with Redis.

    .venv/bin/python bench/limits.py [--limit 20] [--requests 200] [--redis redis://127.0.0.1:6379/2]

Each server is ``deploy/entrypoint.sh`` in production settings (gunicorn with
``deploy/gunicorn.conf.py``, 2 workers, a SQLite file migrated in a temporary folder) on a free
port, with ``ADVISOR_RATE_ANALYZE=LIMIT/day``. For each case (in-process cache or Redis; one
server or two, standing for two replicas behind a load balancer) it sends ``--requests`` analyses
from one address, 4 at a time, spread round-robin over the servers, and counts the ones answered
200: the effective limit. With Redis the servers use a key prefix of their own, deleted after.
Writes bench/results/limits-latest.md (and a dated copy).
"""

from __future__ import annotations

import argparse
import secrets
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from tests.test_deploy import Server, free_port, production_env  # noqa: E402
from tests.test_webtier import post_analysis  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def effective_limit(
    url: str, folder: Path, servers: int, limit: int, requests: int, redis_url: str
) -> tuple[int, int]:
    """(answers 200, answers 429) for ``requests`` analyses spread over ``servers`` servers."""
    prefix = f"advisor-bench-{secrets.token_hex(6)}"
    extra = {"MIGRATE_ON_START": "false", "ADVISOR_RATE_ANALYZE": f"{limit}/day"}
    if redis_url:
        extra |= {"REDIS_URL": redis_url, "DJANGO_CACHE_KEY_PREFIX": prefix}
    running: list[Server] = []
    try:
        for i in range(servers):
            env = production_env(url, folder, free_port(), **extra)
            server = Server(env, folder / f"server-{servers}-{i}-{prefix}.log")
            running.append(server)
            server.wait_healthy()
        bases = [s.base for s in running]
        with ThreadPoolExecutor(max_workers=4) as pool:
            statuses = list(
                pool.map(lambda n: post_analysis(bases[n % len(bases)]).status, range(requests))
            )
        return statuses.count(200), statuses.count(429)
    finally:
        for server in running:
            server.__exit__(None, None, None)
        if redis_url:
            client = redis.Redis.from_url(redis_url)
            keys = list(client.scan_iter(match=f"{prefix}:*"))
            if keys:
                client.delete(*keys)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/2")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'advisor.sqlite3'}"
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            env=production_env(url, folder, 0),
            check=True,
        )
        for cache, redis_url in (("per process (no REDIS_URL)", ""), ("Redis", args.redis)):
            for servers in (1, 2):
                start = time.monotonic()
                ok, limited = effective_limit(
                    url, folder, servers, args.limit, args.requests, redis_url
                )
                rows.append((cache, servers, ok, limited, time.monotonic() - start))
                print(f"{cache}, {servers} server(s): {ok} allowed, {limited} refused", flush=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    now = datetime.now(UTC)
    lines = [
        "# Effective analysis rate limit, one and two gunicorn servers",
        "",
        f"{now:%Y-%m-%d %H:%M} UTC, commit {commit}, `bench/limits.py`: limit "
        f"`ADVISOR_RATE_ANALYZE={args.limit}/day`, {args.requests} analyses from one address, "
        "4 at a time, round-robin over the servers; each server gunicorn with 2 workers.",
        "",
        "| cache | servers (x 2 workers) | allowed | refused (429) | allowed / limit |",
        "| --- | --- | --- | --- | --- |",
    ]
    for cache, servers, ok, limited, _ in rows:
        lines.append(f"| {cache} | {servers} | {ok} | {limited} | {ok / args.limit:.2f}x |")
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "limits-latest.md").write_text(text)
    (RESULTS / f"limits-{now:%Y%m%d-%H%M}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
