"""``manage.py analyze``: a thin alias of ``pod-advisor analyze`` (see advisor/cli.py)."""

from __future__ import annotations

import sys
from typing import Any, ClassVar

from django.core.management.base import BaseCommand

from advisor import cli


class Command(BaseCommand):
    help = "Analyse Kubernetes manifests (same options as `pod-advisor analyze`)."
    requires_system_checks: ClassVar[list[str]] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: Any) -> None:
        cli.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        import argparse

        namespace = argparse.Namespace(**options)
        # Reports are written in pieces as the analysis runs: Django's wrapper would end each
        # piece with a new line of its own.
        self.stdout.ending = self.stderr.ending = ""
        code = cli.run(namespace, stdin=sys.stdin, stdout=self.stdout, stderr=self.stderr)
        if code:
            sys.exit(code)
