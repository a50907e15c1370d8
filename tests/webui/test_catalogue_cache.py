"""The team catalogue is read from the database once per change, not once per analysis."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from webui import services
from webui.models import CatalogueImage

pytestmark = pytest.mark.django_db

POD = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
    "  - {name: app, image: registry.example/shop:1}\n"
    "  - {name: helper, image: registry.example/acme-tunnel:2}\n"
)


def _helper_role() -> str:
    report = services.analyse(POD, kubernetes_version="1.37", api_defaults=True)
    return {c.name: c.role for c in report.workloads[0].containers}["helper"]


def _catalogue_queries() -> int:
    with CaptureQueriesContext(connection) as queries:
        services.team_catalogue()
    return sum("webui_catalogueimage" in q["sql"] for q in queries.captured_queries)


def test_it_reads_the_team_catalogue_once_for_many_analyses() -> None:
    assert _catalogue_queries() == 1
    assert _catalogue_queries() == 0
    assert _catalogue_queries() == 0


def test_it_sees_an_entry_saved_in_the_admin_at_the_next_analysis() -> None:
    assert _helper_role() != "ambassador"
    entry = CatalogueImage.objects.create(
        entry_id="acme-tunnel",
        title="Acme tunnel",
        role="ambassador",
        match="acme-tunnel",
        description="our egress tunnel",
    )
    assert _helper_role() == "ambassador"
    entry.enabled = False
    entry.save()
    assert _helper_role() != "ambassador"
    entry.enabled = True
    entry.save()
    assert _helper_role() == "ambassador"
    entry.delete()
    assert _helper_role() != "ambassador"


def test_it_rebuilds_when_another_process_bumps_the_shared_version() -> None:
    services.team_catalogue()
    assert _catalogue_queries() == 0
    # Another worker saved an entry: only the shared version moved, not this process's memo.
    cache.incr(services.CATALOGUE_VERSION_KEY)
    assert _catalogue_queries() == 1
    assert _catalogue_queries() == 0
