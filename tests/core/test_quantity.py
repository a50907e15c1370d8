"""Kubernetes quantity parsing and printing, checked against k8s quantity_test.go."""

from __future__ import annotations

from fractions import Fraction

import pytest

from advisor.core.quantity import Quantity, QuantityError, max_quantity, parse_quantity

# Inputs from k8s TestQuantityParse with the text Quantity.String() prints for them.
K8S_PARSE_TABLE: list[tuple[str, str]] = [
    ("0", "0"),
    ("0n", "0"),
    ("0u", "0"),
    ("0m", "0"),
    ("0Ki", "0"),
    ("0k", "0"),
    ("0Mi", "0"),
    ("0M", "0"),
    ("0Gi", "0"),
    ("0G", "0"),
    ("0Ti", "0"),
    ("0T", "0"),
    ("1", "1"),
    ("1Ki", "1Ki"),
    ("8Ki", "8Ki"),
    ("7Mi", "7Mi"),
    ("6Gi", "6Gi"),
    ("5Ti", "5Ti"),
    ("4Pi", "4Pi"),
    ("3Ei", "3Ei"),
    ("10Ti", "10Ti"),
    ("100Ti", "100Ti"),
    ("5n", "5n"),
    ("4u", "4u"),
    ("3m", "3m"),
    ("9", "9"),
    ("8k", "8k"),
    ("50k", "50k"),
    ("7M", "7M"),
    ("6G", "6G"),
    ("5T", "5T"),
    ("40T", "40T"),
    ("300T", "300T"),
    ("2P", "2P"),
    ("1E", "1E"),
    ("1E-3", "1e-3"),
    ("1e3", "1e3"),
    ("1E6", "1e6"),
    ("1e9", "1e9"),
    ("1E12", "1e12"),
    ("1e15", "1e15"),
    ("1E18", "1e18"),
    ("1e14", "100e12"),
    ("1e13", "10e12"),
    ("100.035k", "100035"),
    ("0.001", "1m"),
    ("0.0005k", "500m"),
    ("0.005", "5m"),
    ("0.05", "50m"),
    ("0.5", "500m"),
    ("0.00050k", "500m"),
    ("0.00500", "5m"),
    ("0.05000", "50m"),
    ("0.50000", "500m"),
    ("0.5e0", "500e-3"),
    ("0.5e-1", "50e-3"),
    ("0.5e-2", "5e-3"),
    ("10.035M", "10035k"),
    ("1.2e3", "1200"),
    ("1.3E+6", "1300e3"),
    ("1.40e9", "1400e6"),
    ("1.53E12", "1530e9"),
    ("1.6e15", "1600e12"),
    ("1.7E18", "1700e15"),
    ("9.01", "9010m"),
    ("8.1k", "8100"),
    ("7.123456M", "7123456"),
    ("6.987654321G", "6987654321"),
    ("5.444T", "5444G"),
    ("40.1T", "40100G"),
    ("300.2T", "300200G"),
    ("2.5P", "2500T"),
    ("1.01E", "1010P"),
    ("3.001n", "4n"),
    ("1.1E-9", "2e-9"),
    ("0.0000000001", "1n"),
    ("0.0000000005", "1n"),
    ("0.00000000050", "1n"),
    ("0.5e-9", "1e-9"),
    ("0.9n", "1n"),
    ("0.00000012345", "124n"),
    ("0.00000012354", "124n"),
    ("9Ei", "9223372036854775807"),
    ("9223372036854775807Ki", "9223372036854775807"),
    ("12E", "12E"),
    ("100.035Ki", "102435840m"),
    ("0.5Mi", "512Ki"),
    ("0.05Gi", "53687091200m"),
    ("0.025Ti", "27487790694400m"),
    ("0.000000000001Ki", "2n"),
    (".001", "1m"),
    (".0001k", "100m"),
    ("1.", "1"),
    ("1.G", "1G"),
]

# k8s TestQuantityParseEmit and the alternate spellings in TestQuantityString.
K8S_EMIT_TABLE: list[tuple[str, str]] = [
    ("1Mi", "1Mi"),
    ("1Gi", "1Gi"),
    ("1024Mi", "1Gi"),
    ("307200Ki", "300Mi"),
    ("1025024Mi", "1001Gi"),
    ("1024Gi", "1Ti"),
    ("1000M", "1G"),
    ("0.001T", "1G"),
    (".001Ki", "1024m"),
    (".000001Ki", "1024u"),
    (".000000001Ki", "1024n"),
    (".000000000001Ki", "2n"),
    ("1000u", "1m"),
    ("1.08", "1080m"),
    ("1080000000n", "1080m"),
    ("1234567M", "1234567M"),
    (".001e12", "1e9"),
    ("0.001e0", "1e-3"),
    ("1000e-12", "1e-9"),
    ("80e-3", "80e-3"),
    ("300e6", "300e6"),
    ("00", "0"),
    ("1080n", "1080n"),
    ("80u", "80u"),
]

# Values the brief calls out, as a user writes them in a manifest.
EVERYDAY_TABLE: list[tuple[str, str]] = [
    ("350m", "350m"),
    ("192Mi", "192Mi"),
    ("1.5", "1500m"),
    ("1.5Gi", "1536Mi"),
    ("1000m", "1"),
    ("2000m", "2"),
    ("0.1", "100m"),
    ("+1Gi", "1Gi"),
    ("1536Ki", "1536Ki"),
    ("1.5Ki", "1536"),
    ("0.5Ki", "512"),
    ("1023.5Ki", "1048064"),
    ("0.999Ki", "1022976m"),
    ("1024", "1024"),
]

SUB_NANO_TABLE: list[tuple[str, str]] = [
    ("1e-2147483647", "1e-9"),
    ("-1e-2147483647", "-1e-9"),
    ("1e-100", "1e-9"),
    ("-1e-100", "-1e-9"),
    ("1e-10", "1e-9"),
    ("9e-10", "1e-9"),
    ("15e-10", "2e-9"),
    ("1000000000000000000000e-30", "1e-9"),
    ("1000000000000000000001e-30", "2e-9"),
    ("999999999999999999999e-30", "1e-9"),
    ("0e-2147483647", "0"),
    ("0.0e-100", "0"),
    ("0.00000000000000000000001Ki", "1n"),
    ("0.0000000000001", "1n"),
    ("-0.0000000000001", "-1n"),
    ("0.1n", "1n"),
    ("1.0000000001", "1000000001n"),
]

HUGE_TABLE: list[tuple[str, str]] = [
    ("8Ei", "9223372036854775807"),
    ("-8Ei", "-9223372036854775807"),
    ("9E", "9E"),
    ("1000E", "1e21"),
    ("5000E", "5e21"),
    ("1000000E", "1e24"),
    ("9223372036854775807", "9223372036854775807"),
    ("9223372036854775808", "9223372036854775808"),
    ("18446744073709551616", "18446744073709551616"),
    ("1e999", "1e999"),
]

# Inputs Kubernetes accepts as zero even though they hold no digits.
DIGITLESS_ZEROES: list[str] = ["-", "+", ".", "-.", "Mi", "m", "e5", "-0", "000", "0.0Ki"]

INVALID_TABLE: list[tuple[object, str]] = [
    ("", "'' is not a valid quantity: it is empty"),
    (" 1", "' 1' is not a valid quantity: leading or trailing whitespace"),
    ("1 ", "'1 ' is not a valid quantity: leading or trailing whitespace"),
    ("1 Gi", "'1 Gi' is not a valid quantity: it contains whitespace"),
    ("1.5.5", "'1.5.5' is not a valid quantity: more than one decimal point"),
    ("1.1.M", "'1.1.M' is not a valid quantity: more than one decimal point"),
    ("abc", "'abc' is not a valid quantity: it does not start with a number"),
    ("aoeu", "'aoeu' is not a valid quantity: it does not start with a number"),
    ("12x", "'12x' is not a valid quantity: unknown suffix 'x'"),
    ("0.1am", "'0.1am' is not a valid quantity: unknown suffix 'am'"),
    ("1+1.0M", "'1+1.0M' is not a valid quantity: unknown suffix '+1.0M'"),
    ("1i", "'1i' is not a valid quantity: unknown suffix 'i'"),
    (".5i", "'.5i' is not a valid quantity: unknown suffix 'i'"),
    ("-3.01i", "'-3.01i' is not a valid quantity: unknown suffix 'i'"),
    ("1e", "'1e' is not a valid quantity: unknown suffix 'e' (an exponent needs digits, e.g. 1e3)"),
    ("-3.01e-", "unknown suffix 'e-' (an exponent needs digits, e.g. 1e3)"),
    ("1K", "unknown suffix 'K' (suffixes are case-sensitive: did you mean 'k'?)"),
    ("0.1mi", "unknown suffix 'mi' (suffixes are case-sensitive: did you mean 'Mi'?)"),
    ("1e1000", "'1e1000' is not a valid quantity: too large"),
    ("1e2147483648", "exponent 2147483648 is out of range"),
    ("1e-2147483649", "exponent -2147483649 is out of range"),
    ("1" * 101, "is not a valid quantity: longer than 100 characters"),
    (10**101, "is not a valid quantity: longer than 100 characters"),
    (True, "True is not a valid quantity: expected a string or a number"),
    (False, "False is not a valid quantity: expected a string or a number"),
    (None, "None is not a valid quantity: expected a string or a number, got NoneType"),
    ([1], "[1] is not a valid quantity: expected a string or a number, got list"),
    (float("nan"), "nan is not a valid quantity: not a finite number"),
    (float("inf"), "inf is not a valid quantity: not a finite number"),
]


def show(text: str) -> str:
    """Parse text and return what the tool prints for it."""
    return str(parse_quantity(text))


@pytest.mark.parametrize(("text", "printed"), K8S_PARSE_TABLE)
def test_it_parses_the_kubernetes_table_to_its_canonical_text(text: str, printed: str) -> None:
    """Print each k8s TestQuantityParse input in Kubernetes' canonical form."""
    assert show(text) == printed


@pytest.mark.parametrize(("text", "printed"), K8S_PARSE_TABLE)
def test_it_parses_negated_and_plus_signed_inputs(text: str, printed: str) -> None:
    """Print '-x' as '-' plus the canonical text and '+x' as the canonical text."""
    negated = printed if printed == "0" else "-" + printed
    assert (show("-" + text), show("+" + text)) == (negated, printed)


@pytest.mark.parametrize(("text", "printed"), K8S_EMIT_TABLE + EVERYDAY_TABLE)
def test_it_parses_alternate_spellings_to_one_canonical_text(text: str, printed: str) -> None:
    """Print non-canonical spellings the way Kubernetes re-emits them."""
    assert show(text) == printed


@pytest.mark.parametrize(("text", "printed"), K8S_PARSE_TABLE + K8S_EMIT_TABLE + EVERYDAY_TABLE)
def test_it_parses_its_own_output_back_to_the_same_text(text: str, printed: str) -> None:
    """Print the same text again after parsing the canonical text."""
    assert show(printed) == printed


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("1Gi", "BinarySI"),
        ("0Ki", "BinarySI"),
        ("0.5Ki", "BinarySI"),
        (".0001Ki", "DecimalSI"),
        ("0.000000000001Ki", "DecimalSI"),
        ("1e3", "DecimalExponent"),
        ("1E", "DecimalSI"),
        ("1", "DecimalSI"),
    ],
)
def test_it_parses_the_format_kubernetes_remembers(text: str, fmt: str) -> None:
    """Keep the suffix family, switching binary values below 1 to DecimalSI."""
    assert parse_quantity(text).format == fmt


@pytest.mark.parametrize(("text", "printed"), SUB_NANO_TABLE)
def test_it_parses_sub_nano_values_rounding_away_from_zero(text: str, printed: str) -> None:
    """Round any non-zero magnitude below the next nano up to it."""
    assert show(text) == printed


@pytest.mark.parametrize(("text", "printed"), HUGE_TABLE)
def test_it_parses_huge_values_like_kubernetes(text: str, printed: str) -> None:
    """Cap binary values at 2^63-1, keep decimal ones exact, use e-notation past E."""
    assert show(text) == printed


@pytest.mark.parametrize("text", DIGITLESS_ZEROES)
def test_it_parses_digitless_inputs_as_zero_like_kubernetes(text: str) -> None:
    """Accept a bare sign, dot or suffix as zero, as the API server does."""
    assert show(text) == "0"


@pytest.mark.parametrize(("value", "message"), INVALID_TABLE)
def test_it_rejects_invalid_input_with_a_reason(value: object, message: str) -> None:
    """Raise QuantityError whose message names the problem."""
    with pytest.raises(QuantityError) as caught:
        parse_quantity(value)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_it_rejects_an_integer_too_long_to_print() -> None:
    """Reject a 20000-bit YAML integer without trying to turn it into text."""
    with pytest.raises(QuantityError, match="a 20001-bit integer is not a valid quantity"):
        parse_quantity(2**20_000)


def test_it_rejects_invalid_input_as_a_value_error() -> None:
    """Let callers catch QuantityError as a ValueError."""
    with pytest.raises(ValueError, match="unknown suffix 'x'"):
        parse_quantity("12x")


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        (1, "1"),
        (0, "0"),
        (-2, "-2"),
        (1024, "1024"),
        (4000000000, "4G"),
        (0.5, "500m"),
        (0.1, "100m"),
        (2.0, "2"),
        (-0.0, "0"),
        (1.5e-7, "150e-9"),
        (1e20, "100E"),
        (1e21, "1e21"),
    ],
)
def test_it_parses_yaml_numbers_as_the_api_server_does(value: int | float, printed: str) -> None:
    """Print YAML ints and floats as Kubernetes prints them after its JSON step."""
    assert str(parse_quantity(value)) == printed


@pytest.mark.parametrize(
    ("left", "right", "printed"),
    [
        ("1Gi", "512Mi", "1536Mi"),
        ("1Gi", "1024M", "2048576Ki"),
        ("1024M", "1Gi", "2097741824"),
        ("1Gi", "1G", "2073741824"),
        ("100m", "0.25", "350m"),
        ("10", "1Ki", "1034"),
        ("1Ki", "10", "1034"),
        ("500Mi", "524Mi", "1Gi"),
        ("4Ei", "4Ei", "8Ei"),
        ("1e3", "1", "1001"),
        ("1e3", "500", "1500"),
        ("9E", "9E", "18E"),
        ("1n", "1n", "2n"),
    ],
)
def test_it_adds_exactly_keeping_the_left_format(left: str, right: str, printed: str) -> None:
    """Print the exact sum in the left operand's format."""
    assert str(parse_quantity(left) + parse_quantity(right)) == printed


@pytest.mark.parametrize(("value", "printed"), [("100m", "100m"), ("1Gi", "1Gi"), ("1e3", "1e3")])
def test_it_adds_to_zero_taking_the_other_format(value: str, printed: str) -> None:
    """Keep the suffix whichever side of a sum the zero is on."""
    quantity = parse_quantity(value)
    zero = Quantity.zero()
    assert (str(zero + quantity), str(quantity + zero)) == (printed, printed)


@pytest.mark.parametrize(
    ("left", "right", "printed"),
    [
        ("10", "1", "9"),
        ("1Gi", "512Mi", "512Mi"),
        ("1Gi", "1Gi", "0"),
        ("10", "1Ki", "-1014"),
        ("500m", "1", "-500m"),
        ("0", "1Gi", "-1Gi"),
        ("0", "100m", "-100m"),
        ("100m", "0", "100m"),
    ],
)
def test_it_subtracts_exactly(left: str, right: str, printed: str) -> None:
    """Print the exact difference, a zero left operand taking the right format."""
    assert str(parse_quantity(left) - parse_quantity(right)) == printed


def test_it_sums_many_small_values_without_drift() -> None:
    """Add ten thousand 1m values to exactly 10."""
    total = Quantity.zero()
    one_milli = parse_quantity("1m")
    for _ in range(10_000):
        total = total + one_milli
    assert str(total) == "10"


@pytest.mark.parametrize(
    ("smaller", "larger"),
    [
        ("1G", "1Gi"),
        ("999m", "1"),
        ("1Mi", "1.1M"),
        ("100Gi", "10000T"),
        ("50m", "100m"),
        ("-1", "0"),
        ("1n", "0.0000000011"),
        ("8Ei", "9223372036854775808"),
    ],
)
def test_it_compares_across_formats(smaller: str, larger: str) -> None:
    """Order quantities by value whatever suffixes they were written with."""
    a, b = parse_quantity(smaller), parse_quantity(larger)
    assert (a < b, a <= b, b > a, b >= a, a == b, a > b) == (True, True, True, True, False, False)


@pytest.mark.parametrize(
    ("left", "right"),
    [("1000m", "1"), ("1Ki", "1024"), ("1e3", "1k"), ("0", "0Gi"), ("0.5", "500m")],
)
def test_it_treats_equal_values_as_equal_whatever_the_format(left: str, right: str) -> None:
    """Compare equal, hash equal and collapse in a set when only the format differs."""
    a, b = parse_quantity(left), parse_quantity(right)
    assert (a == b, a <= b, a >= b, hash(a) == hash(b), len({a, b})) == (True, True, True, True, 1)


def test_it_does_not_compare_equal_to_plain_numbers() -> None:
    """Keep quantities distinct from the numbers and strings they were parsed from."""
    assert (parse_quantity("1") == 1, parse_quantity("1") == "1") == (False, False)


@pytest.mark.parametrize(
    ("a", "b", "printed"),
    [
        ("1Gi", "1G", "1Gi"),
        ("1G", "1Gi", "1Gi"),
        ("1024", "1Ki", "1024"),
        ("1Ki", "1024", "1Ki"),
        ("-1", "0", "0"),
    ],
)
def test_it_picks_the_larger_keeping_the_first_on_a_tie(a: str, b: str, printed: str) -> None:
    """Return the larger quantity, or the first one when they are equal."""
    assert str(max_quantity(parse_quantity(a), parse_quantity(b))) == printed


@pytest.mark.parametrize(
    ("text", "milli"),
    [
        ("350m", 350),
        ("1.5", 1500),
        ("1", 1000),
        ("0.1m", 1),
        ("1n", 1),
        ("1.0001m", 2),
        ("-1n", -1),
        ("-1.5m", -2),
        ("0", 0),
        ("1Gi", 1073741824000),
        ("9223372036854775807", 9223372036854775807000),
    ],
)
def test_it_reports_milli_values_rounded_up(text: str, milli: int) -> None:
    """Report value*1000 rounded away from zero, like MilliValue()."""
    assert parse_quantity(text).milli == milli


@pytest.mark.parametrize("fmt", ["DecimalSI", "BinarySI", "DecimalExponent"])
def test_it_builds_a_zero_that_prints_as_0(fmt: str) -> None:
    """Print a zero of any format as '0' and report it as zero."""
    zero = Quantity.zero(fmt)
    assert (str(zero), zero.is_zero(), zero.format) == ("0", True, fmt)


def test_it_reports_non_zero_values_as_non_zero() -> None:
    """Report a tiny value as non-zero after rounding it up to 1n."""
    assert (parse_quantity("1e-30").is_zero(), parse_quantity("-0").is_zero()) == (False, True)


@pytest.mark.parametrize(
    ("value", "fmt", "printed"),
    [
        (Fraction(1, 3), "DecimalSI", "333333334n"),
        (Fraction(-1, 3), "DecimalSI", "-333333334n"),
        (Fraction(3, 2), "BinarySI", "1500m"),
        (2**70, "BinarySI", "1024Ei"),
        (1023, "BinarySI", "1023"),
        (1024, "BinarySI", "1Ki"),
        (1025, "BinarySI", "1025"),
        (-1024, "BinarySI", "-1Ki"),
        (3000, "DecimalExponent", "3e3"),
        (10**21, "DecimalSI", "1e21"),
    ],
)
def test_it_prints_constructed_values_canonically(
    value: int | Fraction, fmt: str, printed: str
) -> None:
    """Print values built in code, rounded up to 1n, with suffixes capped at Ei."""
    assert str(Quantity(value, fmt)) == printed  # type: ignore[arg-type]


def test_it_rejects_an_unknown_format() -> None:
    """Refuse to build a quantity with a format Kubernetes does not have."""
    with pytest.raises(ValueError, match="unknown quantity format 'Binary'"):
        Quantity(Fraction(1), "Binary")


def test_it_keeps_quantities_immutable() -> None:
    """Refuse to change a parsed quantity, since parses are shared through the cache."""
    quantity = parse_quantity("1Gi")
    with pytest.raises(AttributeError):
        quantity.value = Fraction(2)  # type: ignore[misc]
    assert str(parse_quantity("1Gi")) == "1Gi"


def test_it_adds_only_quantities() -> None:
    """Refuse to add a plain number to a quantity."""
    with pytest.raises(TypeError):
        parse_quantity("1") + 1  # type: ignore[operator]
