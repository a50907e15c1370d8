"""``GET /healthz``: is this process able to serve, database included?

Load balancers, ``docker compose`` and Kubernetes probes call it. It answers 200 ``ok`` after a
``SELECT 1`` on the default database and 503 when the database cannot be reached, so a replica
cut off from its database is taken out of rotation instead of serving errors.
"""

from __future__ import annotations

from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

PLAIN = "text/plain; charset=utf-8"


def database_is_up(alias: str = "default") -> bool:
    """True when ``SELECT 1`` succeeds on the database ``alias``."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return False
    return True


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """200 ``ok`` when the database answers, 503 otherwise (plain text, never cached)."""
    if database_is_up():
        return HttpResponse("ok", content_type=PLAIN)
    return HttpResponse("database unavailable", status=503, content_type=PLAIN)
