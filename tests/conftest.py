"""Shared test helpers: paths to the fixtures (real corpus, Kubernetes vectors, manifests)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Real manifests from public repositories (INDEX.tsv: repository, path, commit; LICENSES.md).
CORPUS = FIXTURES / "corpus"
# Vectors transcribed from Kubernetes' own unit tests.
VECTORS = FIXTURES / "vectors"
CORPUS_META = {"INDEX.tsv", "LICENSES.md"}


def corpus_files() -> list[Path]:
    """Every manifest of the corpus (its index and licence notes excluded)."""
    return sorted(p for p in CORPUS.iterdir() if p.is_file() and p.name not in CORPUS_META)


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the corpus is missing at {CORPUS}")
    return CORPUS


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Hash test users' passwords cheaply: PBKDF2's deliberate slowness only slows tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _rate_limits_off_unless_marked(request, settings) -> None:
    """The suites run hundreds of analyses from one address: rate limits are off in every test
    but those marked ``@pytest.mark.ratelimit`` (tests/security/test_limits.py)."""
    if request.node.get_closest_marker("ratelimit") is None:
        settings.ADVISOR_RATE_ANALYZE = "off"
        settings.ADVISOR_RATE_LOGIN = "off"
        settings.ADVISOR_RATE_LOGIN_ADDRESS = "off"
        settings.ADVISOR_RATE_WRITE = "off"
        settings.ADVISOR_RATE_PASSWORD = "off"


@pytest.fixture(autouse=True)
def _fresh_team_catalogue() -> None:
    """Forget the process's cached team catalogue: a test's entries are rolled back with its
    transaction, which no signal announces (in production the rebuild happens in a later
    request, after the transaction that changed the entries has ended)."""
    from webui import services

    services._catalogue_memo = None
