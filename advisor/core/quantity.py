"""Exact Kubernetes resource quantities: parsing, arithmetic and canonical text.

This mirrors ``k8s.io/apimachinery/pkg/api/resource`` (``ParseQuantity`` and
``Quantity.String``) with exact rational arithmetic instead of int64/inf.Dec.

Grammar, as Kubernetes scans it: an optional sign, digits, an optional ``.``
and more digits, then a suffix. Suffixes are the decimal SI ones (``n u m``,
none, ``k M G T P E``), the binary ones (``Ki Mi Gi Ti Pi Ei``) and decimal
exponents (``e``/``E`` followed by an optionally signed integer).

Behaviours kept from Kubernetes, odd as some are:

* ``"1."``, ``".5"`` and ``"1.G"`` are valid. A bare sign, a bare ``.`` or a
  bare suffix (``"-"``, ``"."``, ``"Mi"``) parse as zero, as the API server does.
* A non-zero magnitude finer than 1n rounds away from zero to the next nano:
  ``"0.1n"`` is ``1n``, ``"1e-100"`` prints ``1e-9``.
* A value written with a binary suffix is silently capped at 2^63-1, so
  ``"8Ei"`` prints ``9223372036854775807``; a binary value below 1 in magnitude
  switches to DecimalSI (``"0.5Ki"`` is ``512`` but ``".0001Ki"`` is ``102400u``).
* Decimal values are not capped: ``"9E"`` and ``"12E"`` keep their exact value.
* Sums and differences keep the left operand's format unless the left operand
  is zero, in which case they take the right one's (Kubernetes ``Add``/``Sub``).

Decisions where Kubernetes is unhelpful or where this tool needs a limit:

* A DecimalSI value past ``E`` (10^18) prints in exponent form (``"1000E"``
  prints ``1e21``), as current apimachinery does; older releases dropped the
  suffix and printed ``1``.
* A BinarySI value past ``Ei`` (only reachable by adding) keeps ``Ei`` with a
  larger mantissa instead of printing a number without its suffix.
* Exponents that do not fit a signed 32-bit integer are rejected; Kubernetes
  wraps them around silently. Values of 10^1000 or more are rejected so that a
  short string cannot make this process build enormous integers.
* Text longer than 100 characters is rejected before it is scanned.
* Like ``ParseQuantity``, surrounding whitespace is an error here. (The API
  server trims it when it decodes a JSON string, so ``" 1"`` would pass there.)
* ``milli`` rounds away from zero like ``MilliValue`` and never overflows.
* A YAML float is written out as Go's ``encoding/json`` writes a float64 (plain
  digits for 1e-6 <= |x| < 1e21, exponent form otherwise): that is the text the
  API server parses after its YAML-to-JSON step, so ``0.5`` becomes ``500m``.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from advisor.core.lazy import lazy_re

__all__ = ["Quantity", "QuantityError", "max_quantity", "parse_quantity"]

DECIMAL_SI = "DecimalSI"
BINARY_SI = "BinarySI"
DECIMAL_EXPONENT = "DecimalExponent"
_FORMATS = frozenset({DECIMAL_SI, BINARY_SI, DECIMAL_EXPONENT})

MAX_LENGTH = 100
_NANOS = 10**9
_BINARY_CAP = 2**63 - 1
_MAX_INTEGER_DIGITS = 1000
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1

# base, exponent and format for each suffix that is not a decimal exponent
_SUFFIXES: dict[str, tuple[int, int, str]] = {
    "n": (10, -9, DECIMAL_SI),
    "u": (10, -6, DECIMAL_SI),
    "m": (10, -3, DECIMAL_SI),
    "": (10, 0, DECIMAL_SI),
    "k": (10, 3, DECIMAL_SI),
    "M": (10, 6, DECIMAL_SI),
    "G": (10, 9, DECIMAL_SI),
    "T": (10, 12, DECIMAL_SI),
    "P": (10, 15, DECIMAL_SI),
    "E": (10, 18, DECIMAL_SI),
    "Ki": (2, 10, BINARY_SI),
    "Mi": (2, 20, BINARY_SI),
    "Gi": (2, 30, BINARY_SI),
    "Ti": (2, 40, BINARY_SI),
    "Pi": (2, 50, BINARY_SI),
    "Ei": (2, 60, BINARY_SI),
}
_DECIMAL_NAMES = {e: s for s, (b, e, _) in _SUFFIXES.items() if b == 10}
_BINARY_NAMES = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]

# The same greedy scan as Kubernetes: possessive quantifiers never backtrack.
_SHAPE = lazy_re(r"([+-]?+)([0-9]*+)(?:\.([0-9]*+))?+([eEinumkKMGTP]*+[+-]?+[0-9]*+)")
_EXPONENT = lazy_re(r"[eE]([+-]?[0-9]+)")
_SUFFIX_CHARS = frozenset("eEinumkKMGTP+-0123456789")


def _trusted(nanos: int, format: str) -> Quantity:
    """Build a Quantity from a whole number of nano units already known valid."""
    quantity = object.__new__(Quantity)
    object.__setattr__(quantity, "nanos", nanos)
    object.__setattr__(quantity, "format", format)
    return quantity


class QuantityError(ValueError):
    """A value that is not a valid Kubernetes quantity; the message says why."""


class Quantity:
    """An exact resource amount in base units (cores, bytes, ...) and its display format.

    Kubernetes keeps every quantity on whole nano units, so the value is held as an integer
    count of them (``nanos``): sums and comparisons are plain integer operations, which keeps
    sizing cheap on large inputs. ``value`` gives the exact amount as a Fraction.
    """

    __slots__ = ("format", "nanos")
    nanos: int
    format: str

    def __init__(self, value: Fraction | int, format: str = DECIMAL_SI) -> None:
        """Check the format and keep the value on whole nano units, rounding away from zero."""
        if format not in _FORMATS:
            raise ValueError(f"unknown quantity format {format!r}")
        if isinstance(value, bool) or not isinstance(value, int | Fraction):
            raise TypeError(f"a quantity value must be an int or a Fraction, not {value!r}")
        rounded = _round_to_nano(Fraction(value))
        object.__setattr__(self, "nanos", rounded.numerator * (_NANOS // rounded.denominator))
        object.__setattr__(self, "format", format)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Quantity is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Quantity is immutable; cannot delete {name!r}")

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r}, format={self.format!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (_trusted, (self.nanos, self.format))

    @property
    def value(self) -> Fraction:
        """The exact amount in base units."""
        return Fraction(self.nanos, _NANOS)

    @classmethod
    def zero(cls, format: str = DECIMAL_SI) -> Quantity:
        """Return a zero quantity in the given format."""
        return cls(Fraction(0), format)

    def is_zero(self) -> bool:
        """Return whether the value is zero."""
        return self.nanos == 0

    @property
    def milli(self) -> int:
        """Return the value in thousandths, rounded away from zero like MilliValue()."""
        per_milli = _NANOS // 1000
        whole = -(-abs(self.nanos) // per_milli)
        return whole if self.nanos >= 0 else -whole

    def __add__(self, other: object) -> Quantity:
        """Return the exact sum in this format (the other's format if this one is zero)."""
        if not isinstance(other, Quantity):
            return NotImplemented
        return _trusted(self.nanos + other.nanos, self._format_with(other))

    def __sub__(self, other: object) -> Quantity:
        """Return the exact difference in this format (the other's format if this one is zero)."""
        if not isinstance(other, Quantity):
            return NotImplemented
        return _trusted(self.nanos - other.nanos, self._format_with(other))

    def _format_with(self, other: Quantity) -> str:
        """Return the format Kubernetes gives the result of combining self with other."""
        return other.format if self.nanos == 0 else self.format

    def __eq__(self, other: object) -> bool:
        """Compare values only; the format does not matter."""
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.nanos == other.nanos

    def __hash__(self) -> int:
        """Hash the value only, consistent with equality."""
        return hash(self.nanos)

    def __lt__(self, other: object) -> bool:
        """Compare values."""
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.nanos < other.nanos

    def __le__(self, other: object) -> bool:
        """Compare values."""
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.nanos <= other.nanos

    def __gt__(self, other: object) -> bool:
        """Compare values."""
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.nanos > other.nanos

    def __ge__(self, other: object) -> bool:
        """Compare values."""
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.nanos >= other.nanos

    def __str__(self) -> str:
        """Return the canonical text Kubernetes would print, e.g. '1536Mi' or '1500m'."""
        return _canonical_nanos(self.nanos, self.format)


@lru_cache(maxsize=4096)
def _canonical_nanos(nanos: int, fmt: str) -> str:
    return _canonical(Fraction(nanos, _NANOS), fmt)


def max_quantity(a: Quantity, b: Quantity) -> Quantity:
    """Return the larger quantity, or a when they are equal."""
    return b if b.nanos > a.nanos else a


def parse_quantity(value: str | int | float) -> Quantity:
    """Parse a quantity from manifest text or a YAML number; raise QuantityError if invalid."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        raise QuantityError(f"{value!r} is not a valid quantity: expected a string or a number")
    elif isinstance(value, int):
        if value.bit_length() > 4 * MAX_LENGTH:
            raise QuantityError(
                f"a {value.bit_length()}-bit integer is not a valid quantity: "
                f"longer than {MAX_LENGTH} characters"
            )
        text = str(value)
    elif isinstance(value, float):
        text = _float_text(value)
    else:
        kind = type(value).__name__
        raise QuantityError(
            f"{value!r} is not a valid quantity: expected a string or a number, got {kind}"
        )
    if len(text) > MAX_LENGTH:
        raise QuantityError(
            f"'{text[:20]}...' is not a valid quantity: longer than {MAX_LENGTH} characters"
        )
    return _parse_text(text)


def _float_text(value: float) -> str:
    """Return the text Go's encoding/json writes for a float64."""
    if not math.isfinite(value):
        raise QuantityError(f"{value!r} is not a valid quantity: not a finite number")
    if value == 0 or 1e-6 <= abs(value) < 1e21:
        return format(Decimal(repr(value)), "f")
    return repr(value)


@lru_cache(maxsize=4096)
def _parse_text(text: str) -> Quantity:
    """Parse quantity text; cached because equal strings always give equal quantities."""
    if not text:
        raise QuantityError("'' is not a valid quantity: it is empty")
    if text == "0":
        return Quantity(Fraction(0), DECIMAL_SI)
    match = _SHAPE.fullmatch(text)
    if match is None:
        raise QuantityError(f"{text!r} is not a valid quantity: {_why_malformed(text)}")
    sign, whole, fraction, suffix = match.groups()
    fraction = fraction or ""
    base, exponent, fmt = _interpret_suffix(text, suffix)
    digits = (whole + fraction).lstrip("0")
    if not digits:
        return Quantity(Fraction(0), fmt)
    mantissa = int(digits)
    if base == 2:
        magnitude = _binary_magnitude(mantissa, exponent, len(fraction))
        if magnitude < 1:
            fmt = DECIMAL_SI
    else:
        magnitude = _decimal_magnitude(text, mantissa, len(digits), exponent - len(fraction))
    return Quantity(-magnitude if sign == "-" else magnitude, fmt)


def _interpret_suffix(text: str, suffix: str) -> tuple[int, int, str]:
    """Return base, exponent and format for a suffix, or raise for an unknown one."""
    known = _SUFFIXES.get(suffix)
    if known is not None:
        return known
    match = _EXPONENT.fullmatch(suffix)
    if match is None:
        raise QuantityError(f"{text!r} is not a valid quantity: {_unknown_suffix(suffix)}")
    exponent = int(match.group(1))
    if not _INT32_MIN <= exponent <= _INT32_MAX:
        raise QuantityError(
            f"{text!r} is not a valid quantity: exponent {exponent} is out of range"
        )
    return 10, exponent, DECIMAL_EXPONENT


def _decimal_magnitude(text: str, mantissa: int, ndigits: int, exponent: int) -> Fraction:
    """Return mantissa * 10**exponent, rounded up to whole nanos, without huge powers."""
    if ndigits + exponent > _MAX_INTEGER_DIGITS:
        raise QuantityError(
            f"{text!r} is not a valid quantity: too large "
            f"(values from 10^{_MAX_INTEGER_DIGITS} up are not supported)"
        )
    if exponent >= 0:
        return Fraction(mantissa * 10**exponent)
    if exponent >= -9:
        return Fraction(mantissa, 10**-exponent)
    shift = -9 - exponent
    if shift > ndigits:
        return Fraction(1, _NANOS)
    return Fraction(-(-mantissa // 10**shift), _NANOS)


def _binary_magnitude(mantissa: int, exponent: int, decimals: int) -> Fraction:
    """Return mantissa * 2**exponent / 10**decimals, rounded up to nanos and capped at 2^63-1."""
    magnitude = _round_to_nano(Fraction(mantissa << exponent, 10**decimals))
    return Fraction(_BINARY_CAP) if magnitude > _BINARY_CAP else magnitude


def _round_to_nano(value: Fraction) -> Fraction:
    """Round a value away from zero to a whole number of nano units."""
    scaled = value * _NANOS
    units = -(-abs(scaled.numerator) // scaled.denominator)
    return Fraction(units if value >= 0 else -units, _NANOS)


def _why_malformed(text: str) -> str:
    """Explain why text does not have the shape of a quantity."""
    if text != text.strip():
        return "leading or trailing whitespace"
    if any(ch.isspace() for ch in text):
        return "it contains whitespace"
    match = re.match(r"[+-]?[0-9]*(?:\.[0-9]*)?", text)
    number_end = match.end() if match else 0
    rest = text[number_end:]
    if not text[:number_end].strip("+-."):
        if rest[:1] in ("+", "-"):
            return "more than one sign"
        if all(ch in _SUFFIX_CHARS for ch in rest) and "." not in rest:
            return _unknown_suffix(rest)
        return "it does not start with a number"
    if rest.startswith("."):
        return "more than one decimal point"
    return _unknown_suffix(rest)


def _unknown_suffix(suffix: str) -> str:
    """Name an unknown suffix, with a hint for a wrong case or a bare exponent."""
    swapped = suffix[:1].swapcase() + suffix[1:]
    if _EXPONENT.fullmatch(suffix + "0"):
        hint = " (an exponent needs digits, e.g. 1e3)"
    elif swapped in _SUFFIXES:
        hint = f" (suffixes are case-sensitive: did you mean {swapped!r}?)"
    else:
        hint = ""
    return f"unknown suffix {suffix!r}{hint}"


@lru_cache(maxsize=4096)
def _canonical(value: Fraction, fmt: str) -> str:
    """Return the Kubernetes canonical text for a value in a format."""
    if value == 0:
        return "0"
    if fmt == BINARY_SI:
        if -1024 < value < 1024 or value.denominator != 1:
            fmt = DECIMAL_SI
        else:
            return _binary_text(value.numerator)
    return _decimal_text(value, fmt)


def _binary_text(number: int) -> str:
    """Return an integer as mantissa and the largest binary suffix that keeps it whole."""
    power = 0
    while power < len(_BINARY_NAMES) - 1 and number % 1024 == 0:
        number //= 1024
        power += 1
    return f"{number}{_BINARY_NAMES[power]}"


def _decimal_text(value: Fraction, fmt: str) -> str:
    """Return a nano-exact value as a whole mantissa and an exponent that is a multiple of 3."""
    nanos = value.numerator * (_NANOS // value.denominator)
    digits = str(abs(nanos))
    significant = digits.rstrip("0")
    exponent = -9 + len(digits) - len(significant)
    pad = exponent % 3
    mantissa = ("-" if nanos < 0 else "") + significant + "0" * pad
    exponent -= pad
    if fmt == DECIMAL_SI and exponent in _DECIMAL_NAMES:
        return mantissa + _DECIMAL_NAMES[exponent]
    return mantissa if exponent == 0 else f"{mantissa}e{exponent}"
