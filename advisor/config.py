"""The checker's configuration: ``.pod-advisor.yaml`` merged with command-line flags.

The file is found by walking up from the working directory (the first ``.pod-advisor.yaml`` or
``.pod-advisor.yml`` wins), or named with ``--config FILE``. Flags win over the file: a single
value given on the command line replaces the file's; lists (``disable``, ``catalogue``,
``exclude``) are the file's plus the flags'; ``severity`` and ``assume`` are merged key by key,
the flag winning. Unknown keys and bad values raise :class:`ConfigError` naming file and line.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from advisor.core.analyze import Report, WorkloadReport
from advisor.core.errors import InputError
from advisor.core.lifecycle import FIELD_NAMES, assumptions_from_mapping
from advisor.core.rules import REGISTRY, SEVERITY_RANK
from advisor.core.source import line_of
from advisor.core.versions import NEWEST, format_version, parse_version
from advisor.core.yamlload import decode, load_documents

CONFIG_NAMES = (".pod-advisor.yaml", ".pod-advisor.yml")
FAIL_ON = ("error", "warning", "info", "never")
SEVERITIES = ("error", "warning", "info")
KEYS = {
    "kubernetes-version": "target Kubernetes version, e.g. '1.31'",
    "api-defaults": "true to compute resources as the API server defaults them",
    "disable": "list of rule ids to turn off",
    "severity": "mapping of rule id to error, warning or info",
    "fail-on": "error, warning, info or never",
    "catalogue": "list of extra image catalogue files (relative to the config file)",
    "assume": "mapping of assumption (or container.assumption) to seconds",
    "exclude": "list of globs of paths to skip when walking directories",
    "kustomize": "false to read Kustomize directories as plain files",
}


class ConfigError(ValueError):
    """A configuration the checker cannot use; the message names file and line."""


@dataclass(frozen=True)
class Settings:
    """The effective configuration, and where each value came from."""

    kubernetes_version: str = format_version(NEWEST)
    api_defaults: bool = True
    disable: tuple[str, ...] = ()
    severity: Mapping[str, str] = field(default_factory=dict)
    fail_on: str = "error"
    catalogue: tuple[str, ...] = ()
    assume: Mapping[str, str] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    kustomize: bool = True
    config_file: str | None = None
    sources: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kubernetes-version": self.kubernetes_version,
            "api-defaults": self.api_defaults,
            "disable": list(self.disable),
            "severity": dict(self.severity),
            "fail-on": self.fail_on,
            "catalogue": list(self.catalogue),
            "assume": dict(self.assume),
            "exclude": list(self.exclude),
            "kustomize": self.kustomize,
        }

    def assumptions_mapping(self) -> dict[str, object]:
        data: dict[str, object] = {}
        per_container: dict[str, dict[str, str]] = {}
        for key, value in self.assume.items():
            container, dot, name = key.rpartition(".")
            if dot:
                per_container.setdefault(container, {})[name] = value
            else:
                data[key] = value
        if per_container:
            data["per_container"] = per_container
        return data


def find_config(start: Path) -> Path | None:
    """The nearest ``.pod-advisor.yaml`` at or above ``start``."""
    for directory in (start, *start.parents):
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
    return None


def load_file(path: Path) -> dict[str, tuple[Any, int | None]]:
    """Read and check a config file; return key -> (value, line)."""
    where = str(path)
    try:
        docs = load_documents(decode(path.read_bytes(), file=where), file=where)
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the config file: {exc.strerror}") from None
    except InputError as exc:
        raise ConfigError(f"{where}: {exc.message}") from None
    values = [d for d in docs if d.error is not None or d.value is not None]
    if not values:
        return {}
    if len(values) > 1:
        raise ConfigError(f"{where}: expected one YAML document, found {len(values)}")
    doc = values[0]
    if doc.error is not None:
        raise ConfigError(f"{where}: line {doc.error.line or '?'}: {doc.error.message}")
    if not isinstance(doc.value, dict):
        raise ConfigError(f"{where}: line {doc.line}: expected a mapping of settings")
    out: dict[str, tuple[Any, int | None]] = {}
    for key, value in doc.value.items():
        line = line_of(doc.value, key)
        if key not in KEYS:
            raise ConfigError(
                f"{where}: line {line or '?'}: unknown setting {key!r}; "
                f"expected one of {', '.join(KEYS)}"
            )
        out[key] = (_check(key, value, f"{where}: line {line or '?'}: {key}", path.parent), line)
    return out


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: expected a list of text values")
    return tuple(value)


def _rule_ids(ids: tuple[str, ...], where: str) -> tuple[str, ...]:
    unknown = [i for i in ids if i not in REGISTRY]
    if unknown:
        raise ConfigError(
            f"{where}: unknown rule id(s) {', '.join(unknown)}; `pod-advisor rules` lists them"
        )
    return ids


def _check(key: str, value: Any, where: str, base: Path) -> Any:
    """Validate one file value and return it in the :class:`Settings` form."""
    if key == "kubernetes-version":
        if isinstance(value, float | int) and not isinstance(value, bool):
            raise ConfigError(
                f"{where}: quote the version (e.g. '1.30'), YAML reads it as a number"
            )
        return _version(value, where)
    if key in ("api-defaults", "kustomize"):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if key == "disable":
        return _rule_ids(_strings(value, where), where)
    if key == "severity":
        return _severity(value, where)
    if key == "fail-on":
        if value not in FAIL_ON:
            raise ConfigError(f"{where}: expected one of {', '.join(FAIL_ON)}, got {value!r}")
        return value
    if key == "catalogue":
        files = _strings(value, where)
        resolved = tuple(str(base / f) for f in files)
        missing = [f for f in resolved if not Path(f).is_file()]
        if missing:
            raise ConfigError(f"{where}: no such file: {', '.join(missing)}")
        return resolved
    if key == "assume":
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping of assumption to seconds")
        return _assume({str(k): str(v) for k, v in value.items()}, where)
    if key == "exclude":
        return _strings(value, where)
    raise AssertionError(key)  # pragma: no cover - KEYS is checked first


def _version(value: Any, where: str) -> str:
    try:
        return format_version(parse_version(str(value)))
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _severity(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping of rule id to error, warning or info")
    out = {}
    for rule, level in value.items():
        _rule_ids((str(rule),), where)
        if level not in SEVERITIES:
            raise ConfigError(f"{where}: {rule}: expected error, warning or info, got {level!r}")
        out[str(rule)] = str(level)
    return out


def _assume(values: dict[str, str], where: str) -> dict[str, str]:
    for key in values:
        name = key.rpartition(".")[2]
        if name not in FIELD_NAMES:
            raise ConfigError(
                f"{where}: unknown assumption {name!r}; expected one of {', '.join(FIELD_NAMES)}"
            )
    probe = Settings(assume=values)
    try:
        assumptions_from_mapping(probe.assumptions_mapping())
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return values


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{flag} {item!r}: expected NAME=VALUE")
        out[key.strip()] = value.strip()
    return out


def resolve(args: argparse.Namespace, *, cwd: Path | None = None) -> Settings:
    """Merge defaults, the config file and the flags in ``args`` into :class:`Settings`."""
    cwd = cwd or Path.cwd()
    explicit = getattr(args, "config", None)
    path = Path(explicit) if explicit else find_config(cwd)
    if explicit and not Path(explicit).is_file():
        raise ConfigError(f"--config {explicit}: no such file")
    file_values = load_file(path) if path else {}
    label = str(path) if path else ""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    defaults = Settings().as_dict()
    for key in KEYS:
        values[key] = defaults[key]
        sources[key] = "default"
        if key in file_values:
            value, line = file_values[key]
            values[key] = value
            sources[key] = f"{label}:{line}" if line else label

    def flag(key: str, value: Any, merge: bool = False) -> None:
        if merge:
            if isinstance(values[key], dict):
                values[key] = {**values[key], **value}
            else:
                values[key] = tuple(dict.fromkeys([*values[key], *value]))
            sources[key] = (
                "command line" if sources[key] == "default" else f"{sources[key]} + command line"
            )
        else:
            values[key] = value
            sources[key] = "command line"

    if getattr(args, "kubernetes_version", None) is not None:
        flag("kubernetes-version", _version(args.kubernetes_version, "--kubernetes-version"))
    if getattr(args, "no_api_defaults", False):
        flag("api-defaults", False)
    if getattr(args, "no_kustomize", False):
        flag("kustomize", False)
    if getattr(args, "fail_on", None) is not None:
        flag("fail-on", args.fail_on)
    if getattr(args, "disable", None):
        flag("disable", _rule_ids(tuple(args.disable), "--disable"), merge=True)
    if getattr(args, "severity", None):
        flag("severity", _severity(_pairs(args.severity, "--severity"), "--severity"), merge=True)
    if getattr(args, "catalogue", None):
        flag("catalogue", tuple(args.catalogue), merge=True)
    if getattr(args, "exclude", None):
        flag("exclude", tuple(args.exclude), merge=True)
    if getattr(args, "assume", None):
        pairs = _pairs(args.assume, "--assume")
        flag("assume", _assume(pairs, "--assume"), merge=True)
    return Settings(
        kubernetes_version=values["kubernetes-version"],
        api_defaults=values["api-defaults"],
        disable=tuple(values["disable"]),
        severity=dict(values["severity"]),
        fail_on=values["fail-on"],
        catalogue=tuple(values["catalogue"]),
        assume=dict(values["assume"]),
        exclude=tuple(values["exclude"]),
        kustomize=values["kustomize"],
        config_file=label or None,
        sources=sources,
    )


def describe(settings: Settings) -> str:
    """The effective configuration as YAML-like text, each value with its source."""
    lines = [f"# config file: {settings.config_file or 'none found'}"]
    for key, value in settings.as_dict().items():
        lines.append(f"{key}: {json.dumps(value)}  # {settings.sources.get(key, 'default')}")
    return "\n".join(lines) + "\n"


def apply_policy(report: Report, settings: Settings) -> Report:
    """Drop disabled rules' findings and apply severity overrides, keeping the order rules."""
    if not settings.disable and not settings.severity:
        return report
    return replace(report, workloads=tuple(policy_workload(w, settings) for w in report.workloads))


def policy_workload(w: WorkloadReport, settings: Settings) -> WorkloadReport:
    """One workload's findings without disabled rules and with severity overrides applied."""
    if not settings.disable and not settings.severity:
        return w
    disabled = set(settings.disable)
    kept = [
        replace(f, severity=settings.severity.get(f.rule, f.severity))
        for f in w.findings
        if f.rule not in disabled
    ]
    kept.sort(key=lambda f: (-SEVERITY_RANK[f.severity], f.line or 0, f.rule))
    return replace(w, findings=tuple(kept))
