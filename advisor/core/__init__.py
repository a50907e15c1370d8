"""Pure analysis core: Kubernetes parsing, sizing, lifecycle, roles, rules. No Django here."""

from __future__ import annotations

ANALYZER_VERSION = "0.1.0"
