"""The JSON report's text does not depend on which encoder wrote it."""

from __future__ import annotations

import json

import pytest

from advisor.core.analyze import analyze
from advisor.core.report import dumps, to_dict, to_sarif
from tests.conftest import FIXTURES, corpus_files

MANIFESTS = sorted((FIXTURES / "manifests").glob("*.yaml"))


@pytest.mark.parametrize("path", corpus_files() + MANIFESTS, ids=lambda p: p.name)
def test_it_writes_the_same_bytes_as_the_standard_encoder(path) -> None:
    report = analyze([(path.name, path.read_bytes())])
    for document in (to_dict(report), to_sarif(report)):
        assert dumps(document) == json.dumps(document, indent=2, ensure_ascii=False)
        assert dumps(document, indent=None) == json.dumps(document, ensure_ascii=False)


def test_it_falls_back_for_what_the_fast_encoder_refuses() -> None:
    document = {"huge": 2**70, "text": "ü"}
    assert dumps(document) == json.dumps(document, indent=2, ensure_ascii=False)
