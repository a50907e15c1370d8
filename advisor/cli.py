"""``pod-advisor``: the installable checker (no Django, no database).

Subcommands: ``analyze PATH...`` (the default when the first argument is a path), ``rules``,
``version``, ``config`` (the effective configuration and where each value came from) and
``schema`` (the JSON Schema of ``--format json``). ``python manage.py analyze`` is a thin alias
of ``analyze`` with the same options.

Exit codes of ``analyze``: 0 no finding at or above ``--fail-on``; 1 at least one; 2 unusable
input, arguments or configuration (message on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from advisor.core import ANALYZER_VERSION
from advisor.core.versions import NEWEST, OLDEST, format_version

if typing.TYPE_CHECKING:
    from advisor.core.analyze import Options, Report

# The analysis core is imported when a command needs it, so `--version`, `schema` and `--help`
# start without it (bench/startup.py measures the difference).
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
FORMATS = ("text", "json", "sarif", "github", "junit")
COMMANDS = ("analyze", "rules", "version", "config", "schema")
SCHEMA_RESOURCE = "report.schema.json"
DEFAULT_MAX_BYTES = 16 * 1024 * 1024  # advisor.core.budget.Budget().max_bytes
# The rest of the budget's limits as flags (advisor.core.budget.DESCRIPTIONS, kept here so that
# --help does not import the core; a test keeps the two lists equal). Defaults: Budget's.
BUDGET_FLAGS = {
    "max_nodes": "YAML nodes added by alias and merge-key expansion",
    "max_depth": "levels of nesting, merge keys included",
    "max_documents": "documents in one input",
    "max_containers": "containers in one pod, init containers included",
    "max_workloads": "workloads in one run",
    "max_digits": "characters in one number",
    "max_output_bytes": "bytes written to each output (default: no limit; reports are not held)",
}


class UsageError(Exception):
    """Bad command-line arguments; the message is for stderr."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> typing.NoReturn:
        raise UsageError(f"{self.format_usage()}{self.prog}: error: {message}")


def build_parser(prog: str = "pod-advisor") -> argparse.ArgumentParser:
    """Return the parser of ``pod-advisor`` and its subcommands."""
    parser = _Parser(
        prog=prog,
        description="Check Kubernetes pods with more than one container: roles, resources, "
        "start-up and shutdown order, and what to fix.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    analyze_parser = sub.add_parser("analyze", help="analyse manifests (the default command)")
    add_arguments(analyze_parser)
    rules = sub.add_parser("rules", help="list the rules")
    rules.add_argument("--format", choices=("text", "json"), default="text")
    sub.add_parser("version", help="print the version")
    config = sub.add_parser("config", help="print the effective configuration")
    add_arguments(config, paths=False)
    sub.add_parser("schema", help="print the JSON Schema of the JSON report")
    return parser


def add_arguments(parser: argparse.ArgumentParser, *, paths: bool = True) -> None:
    """The options of ``analyze`` (shared with ``config`` and ``manage.py analyze``).

    Values default to None so that :mod:`advisor.config` can tell a flag from its absence.
    """
    if paths:
        parser.add_argument(
            "paths",
            nargs="*",
            metavar="PATH",
            help="manifest files, directories (walked for .yaml, .yml, .json; Kustomize "
            "directories rendered) or - for standard input",
        )
        parser.add_argument(
            "--format",
            action="append",
            choices=FORMATS,
            help="text (default), json, sarif, github or junit; repeat with --output to write "
            "several reports in one run",
        )
        parser.add_argument(
            "--output",
            action="append",
            metavar="FILE",
            help="write the report of the matching --format (first to first, second to "
            "second...) to FILE instead of standard output",
        )
        parser.add_argument("--list-rules", action="store_true", help=argparse.SUPPRESS)
    else:
        parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="config file (default: the nearest "
        ".pod-advisor.yaml at or above the working directory)",
    )
    parser.add_argument(
        "--kubernetes-version",
        help=f"target version, {format_version(OLDEST)} to {format_version(NEWEST)} "
        f"(default {format_version(NEWEST)})",
    )
    parser.add_argument(
        "--no-api-defaults",
        action="store_true",
        help="compute resources on the manifest as written (no API server defaulting)",
    )
    parser.add_argument(
        "--fail-on",
        choices=("error", "warning", "info", "never"),
        help="exit 1 when a finding is at least this severe (default error)",
    )
    parser.add_argument(
        "--disable", action="append", metavar="RULE", help="turn a rule off (repeatable)"
    )
    parser.add_argument(
        "--severity",
        action="append",
        metavar="RULE=LEVEL",
        help="report a rule as error, warning or info (repeatable)",
    )
    parser.add_argument(
        "--assume",
        action="append",
        metavar="NAME=SECONDS",
        help="override a simulation assumption, e.g. init_run_seconds=3 or "
        "istio-proxy.ready_after_seconds=4 (repeatable)",
    )
    parser.add_argument(
        "--catalogue",
        action="append",
        metavar="YAML",
        help="extra image catalogue entries (repeatable)",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        metavar="GLOB",
        help="skip paths matching GLOB when walking directories (repeatable)",
    )
    parser.add_argument(
        "--no-kustomize",
        action="store_true",
        help="read Kustomize directories as plain files instead of rendering them",
    )
    parser.add_argument(
        "--max-bytes",
        type=int,
        default=DEFAULT_MAX_BYTES,
        help="largest input accepted (default 16 MiB)",
    )
    for name, what in BUDGET_FLAGS.items():  # the rest of the budget (README "Limits")
        flag = "--" + name.replace("_", "-")
        parser.add_argument(flag, type=int, default=None, metavar="N", help=f"most {what}")
    parser.add_argument(
        "--jobs",
        type=_positive,
        default=None,
        metavar="N",
        help="processes that analyse files, and slices of large files, side by side (default: "
        "the cores; inputs under 1 MiB in all use one); the reports are the same",
    )


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run ``pod-advisor``; return the exit code."""
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version"):
        argv.insert(0, "analyze")  # `pod-advisor deploy/` means `pod-advisor analyze deploy/`
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        stderr.write(f"{exc}\n")
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return EXIT_USAGE if exc.code else EXIT_OK
    if args.version or args.command == "version":
        stdout.write(version_text())
        return EXIT_OK
    if args.command == "rules":
        stdout.write(list_rules(args.format))
        return EXIT_OK
    if args.command == "schema":
        stdout.write(report_schema())
        return EXIT_OK
    if args.command == "config":
        return show_config(args, stdout=stdout, stderr=stderr)
    if args.command is None:
        stderr.write(build_parser().format_help())
        return EXIT_USAGE
    return run(args, stdin=stdin, stdout=stdout, stderr=stderr)


def entry_point() -> None:
    """The ``pod-advisor`` console script."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # `pod-advisor analyze k8s/ | head`: the reader left early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 141  # what a shell reports for a command ended by SIGPIPE
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


def version_text() -> str:
    return (
        f"pod-advisor {ANALYZER_VERSION} (Kubernetes {format_version(OLDEST)} to "
        f"{format_version(NEWEST)})\n"
    )


def report_schema() -> str:
    """The JSON Schema of the ``--format json`` report, as shipped in the package."""
    from importlib import resources

    return resources.files("advisor.core").joinpath("data", SCHEMA_RESOURCE).read_text("utf-8")


def show_config(args: argparse.Namespace, *, stdout: TextIO, stderr: TextIO) -> int:
    from advisor.config import ConfigError, describe, resolve

    try:
        settings = resolve(args)
    except ConfigError as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    if args.format == "json":
        document = {
            "config_file": settings.config_file,
            "settings": settings.as_dict(),
            "sources": dict(settings.sources),
        }
        stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        stdout.write(describe(settings))
    return EXIT_OK


def _destinations(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    """Pair formats with outputs: the n-th --output gets the n-th --format."""
    formats = list(getattr(args, "format", None) or ["text"])
    outputs = list(getattr(args, "output", None) or [])
    if len(outputs) > len(formats):
        raise UsageError(
            f"{len(outputs)} --output but {len(formats)} --format: give a --format for "
            "each --output (the n-th --output receives the n-th --format)"
        )
    pairs: list[tuple[str, str | None]] = [
        (fmt, outputs[i] if i < len(outputs) else None) for i, fmt in enumerate(formats)
    ]
    seen: dict[Path, str] = {}
    for output in outputs:  # the reports are written side by side: one file cannot hold two
        same = seen.setdefault(Path(output).resolve(), output)
        if same is not output:
            raise UsageError(f"--output {output} and --output {same} are the same file")
    to_stdout = [fmt for fmt, out in pairs if out is None]
    if len(to_stdout) > 1:
        raise UsageError(
            f"formats {', '.join(to_stdout)} would all go to standard output: "
            "give an --output for each --format but one"
        )
    return pairs


# What a terminal would act on rather than print: C0 controls but tab and newline, DEL, C1
# controls (ESC [ ... and CSI start colour changes, cursor moves, title rewrites) and the
# bidirectional overrides that reorder what a reader sees. Manifests are untrusted text, and
# the text and GitHub formats (and every message) echo their names and values: each such
# character is shown as its escape instead (\x1b, \u202e).
_UNPRINTABLE = {
    c: f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"
    for c in (
        *range(0x00, 0x09),
        *range(0x0B, 0x20),
        *range(0x7F, 0xA0),
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    )
}


def printable(text: str) -> str:
    """``text`` with the characters a terminal would act on shown as escapes."""
    return text.translate(_UNPRINTABLE)


class _Printable:
    """A text stream that writes :func:`printable` text to the one it wraps."""

    def __init__(self, inner: typing.Any) -> None:
        self.inner = inner

    def write(self, text: str) -> int:
        return self.inner.write(printable(text))

    def __getattr__(self, name: str) -> typing.Any:
        return getattr(self.inner, name)


def run(args: argparse.Namespace, *, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    """Run ``analyze`` with parsed arguments (also called by ``manage.py analyze``)."""
    stderr = typing.cast(TextIO, _Printable(stderr))
    from advisor.config import ConfigError, resolve
    from advisor.core.errors import InputError
    from advisor.inputs import collect

    if getattr(args, "list_rules", False):
        formats = getattr(args, "format", None) or ["text"]
        stdout.write(list_rules("json" if formats[0] == "json" else "text"))
        return EXIT_OK
    paths = getattr(args, "paths", None) or getattr(args, "files", None) or []
    if not paths:
        stderr.write("error: give at least one PATH (file or directory), or - for stdin\n")
        return EXIT_USAGE
    try:
        destinations = _destinations(args)
        settings = resolve(args)
        options = _options(settings, args.max_bytes, args)
        inputs = collect(paths, stdin=stdin, exclude=settings.exclude, kustomize=settings.kustomize)
    except (UsageError, ConfigError, ValueError, InputError) as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    except OSError as exc:
        name = exc.filename or ""
        stderr.write(f"error: {name}: {exc.strerror or exc}\n")
        return EXIT_USAGE
    for note in inputs.notes:
        stderr.write(note + "\n")
    return _stream(args, destinations, inputs, options, settings, stdout, stderr)


# Every format is written as the analysis runs, one workload at a time, so memory follows the
# largest document rather than the input (advisor.core.stream), on --jobs processes; several
# outputs share one pass. The text is what render() writes from the whole report (the tests
# compare the two, byte for byte).
STREAMED = FORMATS


class OutputTooLarge(Exception):
    """An output would pass --max-output-bytes: the run stops there."""

    def __init__(self, what: str, written: int) -> None:
        super().__init__(what, written)
        self.what, self.written = what, written


class _Limited:
    """A text stream that refuses to write past ``limit`` bytes (UTF-8) in all.

    ``what`` names the report and where it goes, for the message.
    """

    def __init__(self, inner: typing.Any, limit: int, what: str) -> None:
        self.inner, self.limit, self.what, self.written = inner, limit, what, 0

    def write(self, text: str) -> int:
        size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
        if self.written + size > self.limit:
            raise OutputTooLarge(self.what, self.written)
        self.written += size
        return self.inner.write(text)

    def __getattr__(self, name: str) -> typing.Any:
        return getattr(self.inner, name)


def _stream(
    args: argparse.Namespace,
    destinations: list[tuple[str, str | None]],
    inputs: typing.Any,
    options: Options,
    settings: typing.Any,
    stdout: TextIO,
    stderr: TextIO,
) -> int:
    from contextlib import ExitStack

    from advisor.config import policy_workload
    from advisor.core.analyze import WorkloadReport
    from advisor.inputs import remap_item
    from advisor.parallel import default_jobs, write_files

    remaps = inputs.remaps

    def transform(item: typing.Any) -> typing.Any:
        item = remap_item(item, remaps)
        return policy_workload(item, settings) if isinstance(item, WorkloadReport) else item

    jobs = args.jobs if getattr(args, "jobs", None) is not None else default_jobs()
    # Only when given: no report is held whole, so by default none is refused for its size.
    limit = getattr(args, "max_output_bytes", None)
    with ExitStack() as files:
        outputs: list[tuple[str, typing.Any]] = []
        for fmt, output in destinations:
            try:
                sink: typing.Any = stdout if output is None else files.enter_context(_open(output))
            except OSError as exc:
                stderr.write(f"error: cannot write {output}: {exc.strerror or exc}\n")
                return EXIT_USAGE
            if limit is not None:
                sink = _Limited(sink, limit, f"the {fmt} report to {output or 'standard output'}")
            if fmt in ("text", "github"):
                sink = _Printable(sink)
            outputs.append((fmt, sink))
        try:
            tally = write_files(
                inputs.texts,
                outputs=outputs,
                options=options,
                jobs=jobs,
                transform=transform,
                trailing=inputs.problems,
                base=Path.cwd().resolve().as_posix(),
            )
        except OutputTooLarge as exc:  # what was written stays: the first bytes of the report
            detail = f"{exc.what} stopped after {exc.written:,} bytes"
            breach = options.limits.exceeded("max_output_bytes", detail=detail)
            stderr.write(f"error: {breach.message}\n")
            return EXIT_USAGE
    for problem in tally.errors:
        where = f"document {problem.document}, " if problem.document else ""
        stderr.write(
            f"error: {problem.file}: {where}line {problem.line or '?'}: {problem.message}\n"
        )
    return _exit_code(bool(tally.errors), tally.worst_severity(), settings.fail_on)


def _open(path: str) -> TextIO:
    return open(path, "w", encoding="utf-8")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _budget(max_bytes: int, args: argparse.Namespace) -> typing.Any:
    """The command line's budget: the defaults, with the limits given as flags."""
    from advisor.core.budget import Budget

    given = {n: getattr(args, n) for n in BUDGET_FLAGS if getattr(args, n, None) is not None}
    return Budget(max_bytes=max_bytes, **given)  # refuses a limit under 1, naming it


def _options(settings: typing.Any, max_bytes: int, args: argparse.Namespace) -> Options:
    from advisor.core.analyze import Options
    from advisor.core.lifecycle import assumptions_from_mapping
    from advisor.core.roles import load_catalogue
    from advisor.core.versions import parse_version

    if max_bytes < 1:
        raise ValueError("--max-bytes must be positive")
    return Options(
        kubernetes_version=parse_version(settings.kubernetes_version),
        api_defaults=settings.api_defaults,
        assumptions=assumptions_from_mapping(settings.assumptions_mapping()),
        limits=_budget(max_bytes, args),
        catalogue=load_catalogue(*settings.catalogue) if settings.catalogue else None,
    )


def render(report: Report, fmt: str) -> str:
    """One whole report in one format.

    ``analyze`` no longer calls it (every format is streamed); it is the reference the
    streamed output is compared with, byte for byte (tests/test_cli_streamed.py).
    """
    from advisor.core import outputs
    from advisor.core import report as formats

    if fmt == "json":
        return formats.to_json(report) + "\n"
    if fmt == "sarif":
        base = Path.cwd().resolve().as_posix()
        return outputs.sarif_json(outputs.to_sarif_for_ci(report, base=base))
    if fmt == "github":
        return outputs.to_github(report)
    if fmt == "junit":
        return outputs.to_junit(report)
    return formats.to_text(report)


def exit_code(report: Report, fail_on: str) -> int:
    """2 for unreadable input, 1 for a finding at or above ``fail_on``, else 0."""
    return _exit_code(bool(report.errors), report.worst_severity(), fail_on)


def _exit_code(unreadable: bool, worst: str | None, fail_on: str) -> int:
    from advisor.core.rules import SEVERITY_RANK

    if unreadable:
        return EXIT_USAGE
    if fail_on == "never" or worst is None:
        return EXIT_OK
    return EXIT_FINDINGS if SEVERITY_RANK[worst] >= SEVERITY_RANK[fail_on] else EXIT_OK


def list_rules(fmt: str) -> str:
    """Describe every registered rule, from the registry."""
    from advisor.core.rules import REGISTRY

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
