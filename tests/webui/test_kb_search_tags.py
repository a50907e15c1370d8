"""Searching reviews matches their tags too (on SQLite and PostgreSQL alike)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.webui.test_kb import POD, list_titles, make_review

pytestmark = pytest.mark.django_db


def test_search_finds_a_review_by_its_tag() -> None:
    alice = User.objects.create_user("alice", password="pw-alice-123")
    client = Client()
    client.force_login(alice)
    tagged = make_review(alice, "Checkout sidecars", POD.format(name="alpha"), tags=("payments",))
    make_review(alice, "Other work", POD.format(name="beta"), tags=("search",))
    assert list_titles(client, q="payments") == {tagged.title}
    assert list_titles(client, q="#payments") == {tagged.title}
    assert list_titles(client, q="payments checkout") == {tagged.title}  # tag and title
    assert list_titles(client, q="payments beta") == set()  # every word must match
