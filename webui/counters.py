"""Counters in Django's cache, for the rate limits (:mod:`webui.limits`) and the metrics
(:mod:`webui.metrics`), in as few round trips to the cache server as the backend allows.

With Django's Redis backend (``REDIS_URL``) the commands one request needs are sent together:
a rate-limit count is SET NX EX and INCRBY in one MULTI/EXEC transaction, and a request's
metrics are INCRBYs in one pipeline. Through Django's own calls they would cost more: its
Redis ``incr`` asks EXISTS first, so ``add`` then ``incr`` is three round trips, and every
metric two. Any other backend gets ``add`` and ``incr``, atomic as far as that backend is.
Errors (the cache server down or slow) reach the caller, which decides what they mean.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache


def _redis() -> tuple[RedisCache, Any] | None:
    """The default cache and a client to its (first, writable) server, if it is Redis."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    return backend, backend._cache.get_client(None, write=True)


def count(key: str, timeout: int) -> int:
    """Add one to the counter ``key``, made at 0 to expire ``timeout`` seconds later if it does
    not exist, and return its new value."""
    redis = _redis()
    if redis is not None:
        backend, client = redis
        full_key = backend.make_and_validate_key(key)
        pipeline = client.pipeline(transaction=True)  # nothing runs between the two
        pipeline.set(full_key, 0, ex=timeout, nx=True)
        pipeline.incrby(full_key, 1)
        _, value = pipeline.execute()
        return int(value)
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.add(key, 0, timeout=timeout)
        return cache.incr(key)


def add(deltas: Mapping[str, int]) -> None:
    """Add each delta to its counter; a counter that does not exist starts at 0 and never
    expires. On Redis, one round trip for all of them (INCRBY makes a missing key at 0)."""
    if not deltas:
        return
    redis = _redis()
    if redis is not None:
        backend, client = redis
        pipeline = client.pipeline(transaction=False)
        for key, delta in deltas.items():
            pipeline.incrby(backend.make_and_validate_key(key), delta)
        pipeline.execute()
        return
    for key, delta in deltas.items():
        try:
            cache.incr(key, delta)
        except ValueError:  # the first count of this counter
            cache.add(key, 0, timeout=None)
            cache.incr(key, delta)
