"""Module-level constants that cost nothing until a run uses them.

Compiling a regular expression takes tens of microseconds; the core defines over a hundred and a
typical run uses a fraction of them, so each is compiled on its first use instead of at import.
"""

from __future__ import annotations

import re
from typing import Any, cast

# The attributes of a compiled pattern copied onto the lazy one at its first use, so that later
# calls go straight to the compiled pattern's methods.
_ATTRIBUTES = (
    "match",
    "search",
    "fullmatch",
    "finditer",
    "findall",
    "sub",
    "subn",
    "split",
    "pattern",
    "flags",
    "groups",
    "groupindex",
)


class LazyPattern:
    """A regular expression compiled the first time one of its attributes is read."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes not found normally, i.e. before the first compile.
        if name.startswith("__") or name == "_source":
            raise AttributeError(name)
        compiled = re.compile(*self._source)
        for attribute in _ATTRIBUTES:
            self.__dict__[attribute] = getattr(compiled, attribute)
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy_re({self._source[0]!r}, {self._source[1]!r})"


def lazy_re(pattern: str, flags: int | re.RegexFlag = 0) -> re.Pattern[str]:
    """Return ``re.compile(pattern, flags)``, compiled when first used."""
    return cast("re.Pattern[str]", LazyPattern(pattern, int(flags)))
