from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools.amounts import MAX_U128, format_amount, parse_amount
from tools.errors import AmountError


@pytest.mark.parametrize(
    ("text", "decimals", "units"),
    [
        ("1.5", 24, 1_500_000_000_000_000_000_000_000),
        ("1", 6, 1_000_000),
        ("0.000001", 6, 1),
        ("1,000.25", 6, 1_000_250_000),
        ("1,234,567", 0, 1_234_567),
        ("  2.50  ", 2, 250),
        ("1.500000", 1, 15),  # trailing zeros beyond the token's decimals are exact
        (".5", 1, 5),
        ("5.", 0, 5),
        ("１．５", 1, 15),  # full-width digits from a Japanese/Chinese IME
        ("007", 0, 7),
    ],
)
def test_parse_accepts(text: str, decimals: int, units: int) -> None:
    assert parse_amount(text, decimals) == units


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("1.0000001", "more than 6 decimal places"),
        ("-1", "negative"),
        ("+1", "sign"),
        ("0", "zero"),
        ("0.000", "zero"),
        ("NaN", "not a number"),
        ("inf", "not a number"),
        ("Infinity", "not a number"),
        ("1e6", "exponent"),
        ("1E-3", "exponent"),
        ("1_000", "'_'"),
        ("1,5", "misplaced ','"),
        ("1,0000", "misplaced ','"),
        ("", "empty"),
        ("   ", "empty"),
        (".", "no digits"),
        ("abc", "not a decimal number"),
        ("1.2.3", "not a decimal number"),
        ("0x10", "not a decimal number"),
        ("5 NEAR", "not a decimal number"),
        ("340282366920938463463374607431768211456", "too large"),
    ],
)
def test_parse_refuses_with_specific_message(text: str, fragment: str) -> None:
    with pytest.raises(AmountError) as info:
        parse_amount(text, 6)
    assert fragment in info.value.message
    assert info.value.text == text


@pytest.mark.parametrize("value", [1.5, 0.1, 1, True, None, Decimal("1.5"), b"1"])
def test_parse_refuses_non_strings(value: object) -> None:
    with pytest.raises(AmountError) as info:
        parse_amount(value, 24)
    if isinstance(value, float):
        assert "float" in info.value.message


def test_zero_allowed_only_when_asked() -> None:
    assert parse_amount("0", 6, allow_zero=True) == 0


@pytest.mark.parametrize(
    ("units", "decimals", "text"),
    [
        (1_500_000, 6, "1.5"),
        (1, 24, "0.000000000000000000000001"),
        (0, 24, "0"),
        (10**24, 24, "1"),
        (1234, 0, "1234"),
        (120, 2, "1.2"),
        (-5, 1, "-0.5"),
    ],
)
def test_format(units: int, decimals: int, text: str) -> None:
    assert format_amount(units, decimals) == text


def test_format_refuses_float() -> None:
    with pytest.raises(TypeError):
        format_amount(1.5, 6)  # type: ignore[arg-type]


@given(units=st.integers(min_value=1, max_value=MAX_U128), decimals=st.integers(0, 24))
def test_round_trip(units: int, decimals: int) -> None:
    assert parse_amount(format_amount(units, decimals), decimals) == units


@given(units=st.integers(min_value=0, max_value=MAX_U128), decimals=st.integers(0, 24))
def test_format_is_exact_decimal(units: int, decimals: int) -> None:
    with localcontext() as dec:
        dec.prec = 100
        assert Decimal(format_amount(units, decimals)).scaleb(decimals) == units
