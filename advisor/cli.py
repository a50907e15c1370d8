"""The ``analyze`` command line: read manifests, print a report, exit with a CI-friendly code.

Exit codes: 0 no finding at or above ``--fail-on``; 1 at least one; 2 unusable input or
arguments (message on stderr). ``python manage.py analyze`` runs :func:`main`.
"""

from __future__ import annotations

import argparse
import json
import sys
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from advisor.core.analyze import Options, Report, analyze
from advisor.core.budget import DEFAULT_BUDGET, DESCRIPTIONS, Budget
from advisor.core.errors import InputError
from advisor.core.lifecycle import assumptions_from_mapping
from advisor.core.report import to_json, to_sarif, to_text
from advisor.core.roles import load_catalogue
from advisor.core.rules import REGISTRY, SEVERITY_RANK
from advisor.core.versions import NEWEST, OLDEST, format_version, parse_version
from advisor.core.yamlload import Limits

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad command-line arguments; the message is for stderr."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> typing.NoReturn:
        raise UsageError(f"{self.format_usage()}{self.prog}: error: {message}")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser (shared by the management command)."""
    parser = _Parser(
        prog="manage.py analyze",
        description="Analyse Kubernetes manifests with more than one container per pod.",
    )
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", metavar="FILE", help="manifest files; - for stdin")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    parser.add_argument(
        "--kubernetes-version",
        default=format_version(NEWEST),
        help=f"target version, {format_version(OLDEST)} to {format_version(NEWEST)} "
        f"(default {format_version(NEWEST)})",
    )
    parser.add_argument(
        "--no-api-defaults",
        action="store_true",
        help="compute resources on the manifest as written (no API server defaulting)",
    )
    parser.add_argument("--fail-on", choices=("error", "warning", "never"), default="error")
    parser.add_argument("--list-rules", action="store_true", help="list the rules and exit")
    parser.add_argument(
        "--assume",
        action="append",
        default=[],
        metavar="NAME=SECONDS",
        help="override a simulation assumption, e.g. init_run_seconds=3 or "
        "istio-proxy.ready_after_seconds=4 (repeatable)",
    )
    parser.add_argument(
        "--catalogue",
        action="append",
        default=[],
        metavar="YAML",
        help="extra image catalogue entries (repeatable)",
    )
    parser.add_argument(
        "--max-bytes", type=int, default=Limits().max_bytes, help="largest input accepted"
    )
    for name, what in DESCRIPTIONS.items():  # the rest of the budget (README "Limits")
        if name != "max_bytes":
            flag = "--" + name.replace("_", "-")
            default = getattr(DEFAULT_BUDGET, name)
            parser.add_argument(flag, type=int, default=default, help=f"most {what}")


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the command; return the exit code."""
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        stderr.write(f"{exc}\n")
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return EXIT_USAGE if exc.code else EXIT_OK
    return run(args, stdin=stdin, stdout=stdout, stderr=stderr)


def run(args: argparse.Namespace, *, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    """Run with parsed arguments."""
    if args.list_rules:
        stdout.write(list_rules(args.format))
        return EXIT_OK
    if not args.files:
        stderr.write("error: give at least one FILE, or - to read standard input\n")
        return EXIT_USAGE
    try:
        options = _options(args)
        inputs = _read_inputs(args.files, stdin)
    except (ValueError, InputError, OSError) as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    report = analyze(inputs, options=options)
    output = render(report, args.format)
    if len(output) > options.limits.max_output_bytes:  # characters: a lower bound of the bytes
        stderr.write(f"error: {options.limits.exceeded('max_output_bytes').message}\n")
        return EXIT_USAGE
    stdout.write(output)
    for problem in report.errors:
        where = f"document {problem.document}, " if problem.document else ""
        stderr.write(
            f"error: {problem.file}: {where}line {problem.line or '?'}: {problem.message}\n"
        )
    return exit_code(report, args.fail_on)


def _options(args: argparse.Namespace) -> Options:
    version = parse_version(args.kubernetes_version)
    assumptions = assumptions_from_mapping(_parse_assumptions(args.assume))
    catalogue = load_catalogue(*args.catalogue) if args.catalogue else None
    if args.max_bytes < 1:
        raise ValueError("--max-bytes must be positive")
    return Options(
        kubernetes_version=version,
        api_defaults=not args.no_api_defaults,
        assumptions=assumptions,
        limits=Budget(**{name: getattr(args, name) for name in DESCRIPTIONS}),
        catalogue=catalogue,
    )


def _parse_assumptions(items: Sequence[str]) -> dict[str, object]:
    """Turn ``name=value`` and ``container.name=value`` into the assumptions mapping."""
    data: dict[str, object] = {}
    per_container: dict[str, dict[str, str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--assume {item!r}: expected NAME=SECONDS")
        container, dot, name = key.rpartition(".")
        if dot:
            per_container.setdefault(container, {})[name] = value
        else:
            data[key] = value
    if per_container:
        data["per_container"] = per_container
    return data


def _read_inputs(files: Sequence[str], stdin: TextIO) -> list[tuple[str, str | bytes]]:
    inputs: list[tuple[str, str | bytes]] = []
    for name in files:
        if name == "-":
            buffer = getattr(stdin, "buffer", None)
            inputs.append(("stdin", buffer.read() if buffer is not None else stdin.read()))
        else:
            inputs.append((name, Path(name).read_bytes()))
    return inputs


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return to_json(report) + "\n"
    if fmt == "sarif":
        return json.dumps(to_sarif(report), indent=2) + "\n"
    return to_text(report)


def exit_code(report: Report, fail_on: str) -> int:
    """2 for unreadable input, 1 for a finding at or above ``fail_on``, else 0."""
    if report.errors:
        return EXIT_USAGE
    worst = report.worst_severity()
    if fail_on == "never" or worst is None:
        return EXIT_OK
    return EXIT_FINDINGS if SEVERITY_RANK[worst] >= SEVERITY_RANK[fail_on] else EXIT_OK


def list_rules(fmt: str) -> str:
    """Describe every registered rule, from the registry."""
    rules = list(REGISTRY.values())
    if fmt == "json":
        return (
            json.dumps(
                [
                    {
                        "id": r.id,
                        "title": r.title,
                        "severity": r.severity,
                        "area": r.area,
                        "scope": r.scope,
                        "rationale": r.rationale,
                        "fix": r.fix,
                    }
                    for r in rules
                ],
                indent=2,
            )
            + "\n"
        )
    width = max(len(r.id) for r in rules)
    lines = [f"{r.id:<{width}}  {r.severity:<7}  {r.title}" for r in rules]
    return "\n".join(lines) + f"\n\n{len(rules)} rules\n"


if __name__ == "__main__":
    sys.exit(main())
