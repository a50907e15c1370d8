"""Parsed YAML values that remember where they came from.

Mappings are ``LDict``: a plain ``dict`` (so ``json.dumps`` and ``==`` work) that also carries
``line`` (1-based line of the mapping's first key) and ``lines`` (key -> 1-based line of the key).
Sequences are plain lists whose mapping items carry their own lines. Values built in code, or
parsed from somewhere without positions, are ordinary dicts: every helper here tolerates them.
"""

from __future__ import annotations

from typing import Any


class LDict(dict):
    """A dict with the source line of itself and of each key."""

    __slots__ = ("duplicates", "line", "lines")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line: int | None = None
        self.lines: dict[Any, int] = {}
        # key -> lines of the earlier occurrences a later one overwrote (None when none)
        self.duplicates: dict[Any, list[int]] | None = None


def line_of(mapping: Any, key: Any = None) -> int | None:
    """Return the line of ``key`` in ``mapping`` (or of the mapping itself), if known."""
    if isinstance(mapping, LDict):
        if key is not None and key in mapping.lines:
            return mapping.lines[key]
        return mapping.line
    return None


def get_map(mapping: Any, key: str) -> dict:
    """Return ``mapping[key]`` if it is a mapping, else an empty dict (tolerates bad input)."""
    if isinstance(mapping, dict):
        value = mapping.get(key)
        if isinstance(value, dict):
            return value
    return {}


def get_list(mapping: Any, key: str) -> list:
    """Return ``mapping[key]`` if it is a list, else an empty list (tolerates bad input)."""
    if isinstance(mapping, dict):
        value = mapping.get(key)
        if isinstance(value, list):
            return value
    return []


def get_str(mapping: Any, key: str, default: str = "") -> str:
    """Return ``mapping[key]`` as text when it is a scalar, else ``default``."""
    if isinstance(mapping, dict):
        value = mapping.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
    return default


def get_int(mapping: Any, key: str) -> int | None:
    """Return ``mapping[key]`` when it is an integer (not a bool), else None."""
    if isinstance(mapping, dict):
        value = mapping.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None
