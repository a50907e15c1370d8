"""The analysis budget on the web (README "Limits"): settings, statuses, and the body guard.

* :func:`budget` builds the core's :class:`~advisor.core.budget.Budget` from the
  ``ADVISOR_MAX_*`` settings, read on every call so ``override_settings`` works.
* :func:`breach` finds the first budget breach in a report: the web answers it with
  :func:`status_of` (413 for bytes, 422 for the other limits) instead of a normal 200.
* :class:`BodyBudgetMiddleware` guards what no view should meet: a JSON body nested deeper
  than ``ADVISOR_MAX_DEPTH`` (``json.loads`` would recurse until RecursionError, a 500), or
  holding NUL characters or lone surrogates (PostgreSQL refuses them: a false "database
  unavailable"), answered 422 with the field and line; and an answer larger than
  ``ADVISOR_MAX_OUTPUT_BYTES``, replaced by a 413 that says so.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse, UnreadablePostError

from advisor.core.analyze import Report
from advisor.core.budget import Budget, BudgetExceeded, check_storable, limit_of
from advisor.core.errors import InputError

JSON_TYPES = frozenset({"application/json"})


def budget() -> Budget:
    """The web's budget, from settings (read on every call; built once per distinct value)."""
    return _budget(
        max_bytes=settings.ADVISOR_MAX_INPUT_BYTES,
        max_nodes=settings.ADVISOR_MAX_NODES,
        max_depth=settings.ADVISOR_MAX_DEPTH,
        max_documents=settings.ADVISOR_MAX_DOCUMENTS,
        max_containers=settings.ADVISOR_MAX_CONTAINERS,
        max_workloads=settings.ADVISOR_MAX_WORKLOADS,
        max_digits=settings.ADVISOR_MAX_DIGITS,
        max_output_bytes=settings.ADVISOR_MAX_OUTPUT_BYTES,
    )


@functools.lru_cache(maxsize=8)
def _budget(**limits: int) -> Budget:
    # Budget is frozen: one instance serves every request with the same settings.
    return Budget(**limits)


def breach(report: Report) -> str | None:
    """The first problem of ``report`` that is a budget breach, as its full message."""
    for problem in report.errors:
        if limit_of(problem.message) is not None:
            where = [f"document {problem.document}"] if problem.document else []
            where += [f"line {problem.line}"] if problem.line else []
            return f"{', '.join(where)}: {problem.message}" if where else problem.message
    return None


def status_of(report: Report, ok: int = 200) -> int:
    """413 (bytes) or 422 (other limits) when ``report`` went over the budget, else ``ok``."""
    for problem in report.errors:
        limit = limit_of(problem.message)
        if limit is not None:
            return 413 if limit in ("max_bytes", "max_output_bytes") else 422
    return ok


def status_for(message: str, default: int = 400) -> int:
    """413 or 422 when ``message`` names a budget limit, else ``default``."""
    limit = limit_of(message)
    if limit is None:
        return default
    return 413 if limit in ("max_bytes", "max_output_bytes") else 422


def refuse_breach(report: Report) -> None:
    """Raise :class:`InputError` for a report over the budget (nothing over it is stored)."""
    message = breach(report)
    if message is not None:
        raise InputError(message)


# --- JSON bodies -------------------------------------------------------------------------------


def json_depth(body: bytes, limit: int) -> int | None:
    """The byte offset where ``body``'s JSON nesting passes ``limit``, or None (linear scan)."""
    depth = 0
    in_string = False
    escaped = False
    for at, byte in enumerate(body):
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return at
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return None


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, child in item.items():
                yield f"{where} (a key)", key
                stack.append((child, f"{where}.{key}"))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(item))


def body_problem(body: bytes, max_depth: int) -> str | None:
    """Why a JSON body must be refused before any view parses it, or None."""
    at = json_depth(body, max_depth)
    if at is not None:
        line = body.count(b"\n", 0, at) + 1
        return f"line {line}: the JSON body is nested deeper than {max_depth} levels"
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None  # not JSON: the view says so in its own words
    for where, text in _strings(data, "body"):
        try:
            check_storable(text, name=where)
        except InputError as exc:
            return exc.describe()
    return None


class BodyBudgetMiddleware:
    """422 for hostile JSON bodies; 413 for answers over the output budget."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("POST", "PUT", "PATCH") and request.content_type in JSON_TYPES:
            try:
                body = request.body
            except (RequestDataTooBig, UnreadablePostError):
                body = b""  # the view meets the same error and answers it (413, 400)
            problem = body_problem(body, settings.ADVISOR_MAX_DEPTH)
            if problem is not None:
                return JsonResponse({"detail": problem}, status=422)
        response = self.get_response(request)
        return self._bounded(request, response)

    def _bounded(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        limit = settings.ADVISOR_MAX_OUTPUT_BYTES
        if response.streaming or len(response.content) <= limit:
            return response
        message = BudgetExceeded(
            "max_output_bytes", limit, detail=f"the answer would be {len(response.content):,} bytes"
        ).message
        if response.get("Content-Type", "").startswith("application/json"):
            return JsonResponse({"detail": message}, status=413)
        return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
