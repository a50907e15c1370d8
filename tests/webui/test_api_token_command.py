"""Issuing API tokens from the command line."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client

from webui.models import ApiToken

pytestmark = pytest.mark.django_db


def test_it_prints_a_token_that_the_api_accepts() -> None:
    User.objects.create_user("ci-bot", password="x-123456789")
    out = io.StringIO()
    call_command("api_token", "ci-bot", "pipeline", stdout=out)
    token = out.getvalue().strip()
    assert ApiToken.objects.get().digest == ApiToken.hash(token)
    assert token not in ApiToken.objects.get().digest
    response = Client().get("/api/v1/reviews", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200


def test_it_refuses_an_unknown_user() -> None:
    with pytest.raises(CommandError, match="no user named"):
        call_command("api_token", "nobody")
