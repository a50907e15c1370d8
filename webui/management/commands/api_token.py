"""``manage.py api_token USERNAME [NAME]``: issue a token for the JSON API."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from webui.models import ApiToken


class Command(BaseCommand):
    help = "Issue an API token for a user; the token is printed once and only its hash is stored."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("name", nargs="?", default="cli")

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        try:
            user = user_model.objects.get(username=options["username"])
        except user_model.DoesNotExist:
            raise CommandError(f"no user named {options['username']!r}") from None
        _, token = ApiToken.issue(user, options["name"])
        self.stdout.write(token)
