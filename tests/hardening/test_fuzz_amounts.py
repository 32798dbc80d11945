"""Hostile amount text: every input is either an exact amount or a typed AmountError.

Two gates read amounts: ``agent.plan.normalise_amount`` (what a planner may put in a plan) and
``tools.amounts.parse_amount`` (what becomes base units). Neither may raise anything else, accept
a float, a sign, an exponent or a value at/above 2**128 base units, or change a value it accepts.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.plan import AmountError as PlanAmountError
from agent.plan import normalise_amount
from tools.amounts import MAX_U128, format_amount, parse_amount
from tools.errors import AmountError

FUZZ = settings(max_examples=300, deadline=None)

NASTIES: list[object] = [
    "",
    " ",
    "-1",
    "+1",
    "−1",
    "1e3",
    "1E-3",
    "1e",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "sNaN",
    "1_000",
    "1,5",
    "1,,000",
    "1.2.3",
    "..",
    ".",
    "0",
    "0.0",
    "00",
    "0x10",
    "1/2",
    "1 000",
    "½",
    "²",
    "1\u200b",
    "\u202e1",
    "1\x00",
    "١٢",
    "𝟏",
    str(2**128),
    str(2**200),
    "9" * 4000,
    "1." + "0" * 10_000 + "1",
    1.5,
    1,
    True,
    None,
    b"1",
    [1],
    {"amount": "1"},
    Decimal("1"),
    float("nan"),
    float("inf"),
    "all",
    "max",
]


@pytest.mark.parametrize("text", NASTIES, ids=lambda v: repr(v)[:24])
@pytest.mark.parametrize("decimals", [0, 6, 24])
def test_parse_amount_nasties_are_refused_or_exact(text: object, decimals: int) -> None:
    try:
        units = parse_amount(text, decimals)
    except AmountError as exc:
        assert exc.code == "invalid_amount" and exc.message
        return
    assert isinstance(units, int) and 0 < units <= MAX_U128
    assert isinstance(text, str)


@pytest.mark.parametrize("text", NASTIES, ids=lambda v: repr(v)[:24])
def test_normalise_amount_nasties_are_refused_or_exact(text: object) -> None:
    try:
        canonical = normalise_amount(text)
    except PlanAmountError as exc:
        assert str(exc)
        return
    assert isinstance(text, str)
    assert Decimal(canonical) > 0


@pytest.mark.parametrize("value", [1.5, 0.1, float("nan"), float("inf"), 10**30, True])
def test_numbers_are_never_amounts(value: object) -> None:
    with pytest.raises(AmountError):
        parse_amount(value, 24)
    with pytest.raises(PlanAmountError):
        normalise_amount(value)


@pytest.mark.parametrize("text", [str(2**128), str(MAX_U128 + 1), "9" * 200])
def test_at_or_above_u128_is_refused(text: str) -> None:
    with pytest.raises(AmountError, match="too large"):
        parse_amount(text, 0)


def test_largest_u128_is_accepted_exactly() -> None:
    assert parse_amount(str(MAX_U128), 0) == MAX_U128


@FUZZ
@given(st.text(max_size=60))
def test_any_text_is_refused_or_exact(text: str) -> None:
    for decimals in (0, 6, 24):
        try:
            units = parse_amount(text, decimals)
        except AmountError:
            continue
        assert 0 < units <= MAX_U128


@FUZZ
@given(
    st.one_of(
        st.text(alphabet="0123456789.,-+eE_ \u200b٣", max_size=30),
        st.from_regex(r"\A\d{1,40}(\.\d{0,30})?\Z"),
    )
)
def test_plan_gate_and_unit_gate_agree(text: str) -> None:
    """Whatever the plan gate lets through, the unit gate reads as the same number."""
    try:
        canonical = normalise_amount(text)
    except PlanAmountError:
        return
    try:
        units = parse_amount(canonical, 24)
    except AmountError as exc:
        assert "decimal places" in exc.message or "too large" in exc.message
        return
    with localcontext(prec=200):
        assert Decimal(units) == Decimal(canonical) * 10**24


@FUZZ
@given(st.integers(min_value=1, max_value=MAX_U128), st.sampled_from([0, 6, 18, 24]))
def test_format_then_parse_is_identity(units: int, decimals: int) -> None:
    assert parse_amount(format_amount(units, decimals), decimals) == units


@FUZZ
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_no_float_ever_parses(value: float) -> None:
    with pytest.raises(AmountError, match="float"):
        parse_amount(value, 24)


def test_thousands_of_digits_are_a_typed_error() -> None:
    with pytest.raises(AmountError, match="too large"):
        parse_amount("9" * 5000, 0)


@pytest.mark.parametrize("text", ["１２", "1２.５", "１，０００"])
def test_canonical_plan_amount_is_ascii(text: str) -> None:
    assert normalise_amount(text).isascii()


@pytest.mark.parametrize("text", ["٣", "१००", "1٣", "¹"])
def test_other_scripts_digits_are_not_amounts(text: str) -> None:
    with pytest.raises(PlanAmountError, match="not read as a digit"):
        normalise_amount(text)
