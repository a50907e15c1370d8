"""One budget for everything an input may cost, whichever way it comes in.

The web form, ``/fix/``, the API, review save, edit and import, re-analysis and the command line
all analyse under a :class:`Budget`. The web builds it from Django settings (environment
variables ``ADVISOR_MAX_*``), the command line from its flags; the defaults below are the
command line's and are documented in the README ("Limits").

Going over any limit raises (or reports, per document) :class:`BudgetExceeded`, which names the
limit, its value, and the document and line where it was passed. The web answers 413 for
``bytes`` (and ``bytes_out``) and 422 for the others; the command line exits with 2.
"""

from __future__ import annotations

from dataclasses import fields

from advisor.core.errors import InputError
from advisor.core.records import dataclass

MIB = 1024 * 1024

# What each limit is called in messages, and the environment variable / flag that sets it.
# max_output_bytes: on the web, the bytes of one answer (the result page or the API's JSON, held
# whole); on the command line, the bytes written to each output, checked only when
# --max-output-bytes is given (every report is written as the analysis runs and none is held
# whole, so by default none is refused for its size; advisor.cli BUDGET_FLAGS, README "Limits").
DESCRIPTIONS: dict[str, str] = {
    "max_bytes": "bytes of input",
    "max_nodes": "YAML nodes added by alias and merge-key expansion",
    "max_depth": "levels of nesting, merge keys included",
    "max_documents": "documents",
    "max_containers": "containers in one pod, init containers included",
    "max_workloads": "workloads in one request",
    "max_digits": "characters in one number",
    "max_output_bytes": "bytes of output",
}


@dataclass(frozen=True)
class Budget:
    """Bounds on what one input may cost; every field is a positive count."""

    max_bytes: int = 16 * MIB
    max_nodes: int = 200_000
    max_depth: int = 100
    max_documents: int = 20_000
    max_containers: int = 200
    # The command line writes each workload as it is analysed, so memory does not grow with
    # their number; the web (ADVISOR_MAX_WORKLOADS) holds a whole result and sets a lower bound.
    max_workloads: int = 1_000_000
    max_digits: int = 100
    # The command line applies it only when --max-output-bytes is given (see DESCRIPTIONS).
    max_output_bytes: int = 64 * MIB

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{f.name} must be a positive whole number, not {value!r}")

    @property
    def max_alias_nodes(self) -> int:
        """The name the YAML loader used for :attr:`max_nodes` before the budget existed."""
        return self.max_nodes

    def exceeded(
        self,
        limit: str,
        *,
        file: str = "",
        document: int | None = None,
        line: int | None = None,
        detail: str = "",
    ) -> BudgetExceeded:
        """The error for going over ``limit`` (a field name), with where it happened."""
        return BudgetExceeded(
            limit, getattr(self, limit), file=file, document=document, line=line, detail=detail
        )


class BudgetExceeded(InputError):
    """An input over one limit of the :class:`Budget`: says which, its value, and where."""

    def __init__(
        self,
        limit: str,
        value: int,
        *,
        file: str = "",
        document: int | None = None,
        line: int | None = None,
        detail: str = "",
    ) -> None:
        self.limit = limit
        self.value = value
        self.detail = detail
        what = DESCRIPTIONS.get(limit, limit)
        message = f"{detail} (" if detail else "over the limit ("
        message += f"{limit} = {value:,} {what})"
        super().__init__(message, file=file, document=document, line=line)

    @property
    def status(self) -> int:
        """The HTTP status for this breach: 413 for sizes in bytes, 422 for the rest."""
        return 413 if self.limit in ("max_bytes", "max_output_bytes") else 422


DEFAULT_BUDGET = Budget()


def limit_of(message: str) -> str | None:
    """The budget field a problem message names (``(max_depth = 100 ...)``), or None."""
    for name in DESCRIPTIONS:
        if f"({name} = " in message:
            return name
    return None


def check_storable(text: str, *, name: str = "", file: str = "") -> None:
    """Refuse text a database cannot store: NUL characters and lone surrogates.

    PostgreSQL refuses both (and SQLite would keep them only to fail later on export); the
    message names the line so the user can find the character. ``name`` says which field.
    """
    bad = _unstorable(text)
    if bad is None:
        return
    at, what = bad
    line = text.count("\n", 0, at) + 1
    raise InputError(f"{what}, which cannot be stored; remove it", file=name or file, line=line)


def _unstorable(text: str) -> tuple[int, str] | None:
    at = text.find("\x00")
    if at >= 0:
        return at, "a NUL character (U+0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(text[exc.start])
        return exc.start, f"a lone surrogate (U+{code:04X}), not valid Unicode text"
    return None
