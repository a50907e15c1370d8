"""System checks of the advisor's own settings, run by ``manage.py check`` (``--deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def metrics_token(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Metrics served to anyone who asks tell how busy the service is and which rules fire."""
    if getattr(settings, "ADVISOR_METRICS", False) and not settings.ADVISOR_METRICS_TOKEN:
        return [
            Warning(
                "ADVISOR_METRICS is on without ADVISOR_METRICS_TOKEN: /metrics answers anyone.",
                hint="Set ADVISOR_METRICS_TOKEN and give it to Prometheus as a bearer token, "
                "or keep /metrics off every ingress.",
                id="advisor.W001",
            )
        ]
    return []
