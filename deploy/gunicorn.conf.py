"""gunicorn's settings for every way the advisor is served (README "Deploy", "gunicorn").

``deploy/entrypoint.sh`` passes this file (``gunicorn -c deploy/gunicorn.conf.py``), so docker
compose, the Kubernetes manifests and the tests all run the same settings. Each is read from the
environment with the default below.

* ``timeout`` 30 s (``GUNICORN_TIMEOUT``): a sync worker silent that long is killed and replaced.
  An analysis within the input limits takes well under a second; this is the backstop for
  whatever escapes the budget, not a working limit, and it stays below the 45 s the pods are
  given to stop.
* ``graceful_timeout`` 30 s: on SIGTERM, requests in flight get that long to finish; with the
  pods' 5 s preStop that fits in their terminationGracePeriodSeconds of 45.
* ``max_requests`` 1000 with ``max_requests_jitter`` 100 (``GUNICORN_MAX_REQUESTS``, ``0``
  turns it off): each worker is replaced after 1000 to 1100 requests, so slow growth (caches,
  fragmentation) never accumulates, and the jitter keeps the workers from restarting together.
* The memory guard (``ADVISOR_WORKER_MAX_RSS_MB``, 180 MiB; ``0`` turns it off): after each
  request a worker whose resident memory is over the threshold finishes and is replaced (as
  ``max_requests`` does: nothing in flight is cut). Measured here, a worker serves analyses at
  about 70 MiB and the master holds 25 MiB, so two workers at the threshold plus the master
  leave about 125 MiB of the pods' 512 MiB limit for the request that pushes a worker over:
  the kernel's OOM killer, which would cut every request of the pod, is not the first line.
* Access log on standard output, unless ``LOG_FORMAT=json``: then the app writes one JSON line
  per request itself (webui.middleware), gunicorn's own line would be a second, unparsed one,
  and gunicorn's other lines are written as JSON too.
"""

from __future__ import annotations

import os
import resource
from typing import Any


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"gunicorn.conf.py: {name} must be an integer, not {value!r}") from None


wsgi_app = "advisor.wsgi:application"
bind = [f"0.0.0.0:{_int('PORT', 8000)}"]
workers = _int("WEB_CONCURRENCY", 2)
worker_class = "sync"
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 30
keepalive = 2
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = max_requests // 10
# No control socket: it would be written under $HOME, which a read-only container lacks.
control_socket_disable = True
JSON_LOGS = os.environ.get("LOG_FORMAT", "").strip().lower() == "json"
accesslog = None if JSON_LOGS else "-"
errorlog = "-"
if JSON_LOGS:
    # gunicorn's own lines (workers booting, timeouts, the memory guard) as JSON like the app's.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "webui.logformat.JsonFormatter"}},
        "handlers": {
            "error_console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": "INFO", "handlers": []},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            # The app's request line replaces the access log.
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
    }

MAX_RSS_BYTES = _int("ADVISOR_WORKER_MAX_RSS_MB", 180) * 1024 * 1024


def resident_bytes() -> int:
    """This process's resident memory now (Linux ``/proc``), else its peak (getrusage)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if os.uname().sysname == "Darwin" else peak * 1024


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    """The memory guard: over the threshold, finish this worker once the request is answered."""
    if MAX_RSS_BYTES <= 0 or not worker.alive:
        return
    rss = resident_bytes()
    if rss > MAX_RSS_BYTES:
        worker.log.warning(
            "memory guard: worker %s uses %d MiB, over ADVISOR_WORKER_MAX_RSS_MB=%d; recycling it",
            worker.pid,
            rss // (1024 * 1024),
            MAX_RSS_BYTES // (1024 * 1024),
        )
        worker.alive = False
