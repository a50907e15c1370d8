"""Read the manifest fixtures of tests/fixtures/manifests and run the analyzer on them.

A fixture starts with header comments::

    # rule: classic-sidecar-blocks-job
    # line: 17                   (firing fixtures only: line of the rule's first finding)
    # kubernetes-version: 1.28   (optional; default the newest supported)
    # why: one sentence on the scenario

Files named ``dont-fire-<area>-<scenario>.yaml`` must not trigger their rule; every other file,
``<area>-<scenario>.yaml``, must.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from advisor.core.analyze import Report, analyze_text
from advisor.core.rules import Finding
from advisor.core.versions import NEWEST, parse_version
from tests.conftest import CORPUS, FIXTURES

MANIFESTS = FIXTURES / "manifests"
DONT_FIRE = "dont-fire-"
_HEADER = re.compile(r"#\s*([a-z-]+):\s*(.*?)\s*")


@dataclass(frozen=True)
class Fixture:
    """One manifest fixture and what its header promises."""

    path: Path
    rule: str
    line: int | None
    kubernetes_version: tuple[int, int]
    why: str

    @property
    def fires(self) -> bool:
        return not self.path.name.startswith(DONT_FIRE)

    @property
    def area(self) -> str:
        """The area the file name claims: the part before the first dash of the scenario."""
        return self.path.name.removeprefix(DONT_FIRE).split("-", 1)[0]

    @property
    def id(self) -> str:
        return self.path.stem

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    def analyze(self) -> Report:
        return analyze_text(
            self.text(), file=self.path.name, kubernetes_version=self.kubernetes_version
        )


def read_header(path: Path) -> dict[str, str]:
    """Return the ``# key: value`` comments at the top of a file."""
    header: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        match = _HEADER.fullmatch(raw.strip())
        if match is None:
            break
        header[match[1]] = match[2]
    return header


def read_fixture(path: Path) -> Fixture:
    """Parse a fixture's header; a malformed header raises ValueError naming the file."""
    header = read_header(path)
    if not header.get("rule"):
        raise ValueError(f"{path.name}: no '# rule:' header")
    line = header.get("line")
    if line is not None and not line.isdigit():
        raise ValueError(f"{path.name}: '# line: {line}' is not a line number")
    version = header.get("kubernetes-version")
    return Fixture(
        path=path,
        rule=header["rule"],
        line=int(line) if line is not None else None,
        kubernetes_version=parse_version(version) if version else NEWEST,
        why=header.get("why", ""),
    )


def fixture_paths() -> list[Path]:
    return sorted(MANIFESTS.glob("*.yaml"))


def all_fixtures() -> list[Fixture]:
    return [read_fixture(p) for p in fixture_paths()]


def firing_fixtures() -> list[Fixture]:
    return [f for f in all_fixtures() if f.fires]


def dont_fire_fixtures() -> list[Fixture]:
    return [f for f in all_fixtures() if not f.fires]


def findings(report: Report, rule: str | None = None) -> list[Finding]:
    """Every finding of the report, workload by workload in report order, of one rule or all."""
    return [f for _, f in report.findings() if rule is None or f.rule == rule]


def suppressed(report: Report, rule: str | None = None) -> list[Finding]:
    return [f for w in report.workloads for f in w.suppressed if rule is None or f.rule == rule]


def manifest(name: str) -> str:
    """Return the text of a fixture by file name."""
    return (MANIFESTS / name).read_text(encoding="utf-8")


def corpus_text(name: str) -> str:
    """Return the text of a shared corpus file, unmodified."""
    return (CORPUS / name).read_text(encoding="utf-8")


def analyze_manifest(name: str, **options: object) -> Report:
    """Analyse a fixture file by name with analyzer options (``kubernetes_version=(1, 28)``)."""
    return analyze_text(manifest(name), file=name, **options)
