"""Amounts in any script's digits become ASCII; integer parts too long for u128 are refused."""

from __future__ import annotations

import pytest

from tools.amounts import MAX_U128, normalise_amount_text, parse_amount
from tools.args import check_args, normalise_amount
from tools.errors import AmountError


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("١٢", "12"),  # Arabic-Indic
        ("۱۲.۵", "12.5"),  # Extended Arabic-Indic (Persian)
        ("१००", "100"),  # Devanagari
        ("১,০০০.২৫", "1000.25"),  # Bengali, grouped
        ("1٣", "13"),
        ("１２", "12"),  # full-width, via NFKC
        ("๓.๕", "3.5"),  # Thai
    ],
)
def test_unicode_decimal_digits_become_ascii(text: str, canonical: str) -> None:
    assert normalise_amount_text(text) == canonical
    assert normalise_amount(text) == canonical


def test_a_plan_shows_ascii_digits() -> None:
    args = check_args("transfer", {"receiver_id": "bob.near", "amount": "١٢", "token": "NEAR"})
    assert args["amount"] == "12"


def test_parse_amount_reads_unicode_digits_exactly() -> None:
    assert parse_amount("٢.٥", 6) == 2_500_000


@pytest.mark.parametrize("text", ["½", "Ⅻ", "1\u200b", "٣e٣", "٣_٣"])
def test_other_numeric_characters_are_still_refused(text: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(text, 0)


@pytest.mark.parametrize("digits", [40, 4_300, 4_301, 5_000, 100_000])
def test_over_long_integer_parts_are_too_large(digits: int) -> None:
    with pytest.raises(AmountError, match="too large") as info:
        parse_amount("9" * digits, 0)
    assert f"{digits} digits" in info.value.message
    assert len(info.value.message) < 300  # the error never repeats thousands of digits


def test_leading_zeros_do_not_count_as_digits() -> None:
    assert parse_amount("0" * 5_000 + "1", 0) == 1
    assert parse_amount("0" * 100 + str(MAX_U128), 0) == MAX_U128


@pytest.mark.timeout(10)  # before the exponent check was made linear: about 12 minutes
def test_a_million_digit_amount_is_refused_in_linear_time() -> None:
    with pytest.raises(AmountError, match="1000000 digits"):
        parse_amount("9" * 1_000_000, 0)
    with pytest.raises(AmountError, match="not a decimal number"):
        parse_amount("9" * 1_000_000 + "x", 0)
