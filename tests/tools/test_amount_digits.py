"""Only ASCII and full-width digits are digits; over-long amount text is refused before parsing.

Other scripts' digits and look-alikes (``¹``, ``①``, Arabic-Indic ``١``) used to be read as the
ASCII digit NFKC or ``unicodedata.decimal`` made of them: text that lies to the eye.
"""

from __future__ import annotations

import time

import pytest

from tools.amounts import MAX_AMOUNT_TEXT, MAX_U128, normalise_amount_text, parse_amount
from tools.args import normalise_amount
from tools.errors import AmountError
from tools.registry import StepError, check_args


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("１２", "12"),  # full-width, as Japanese and Chinese input methods type them
        ("１，０００．５", "1000.5"),  # full-width separators too
        ("1２", "12"),
    ],
)
def test_full_width_digits_become_ascii(text: str, canonical: str) -> None:
    assert normalise_amount_text(text) == canonical
    assert normalise_amount(text) == canonical


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("¹", "'¹' (U+00B9 SUPERSCRIPT ONE)"),
        ("1²", "'²' (U+00B2 SUPERSCRIPT TWO)"),
        ("١٢", "'١' (U+0661 ARABIC-INDIC DIGIT ONE)"),
        ("۱۲.۵", "U+06F1"),  # Extended Arabic-Indic (Persian)
        ("१००", "U+0967"),  # Devanagari
        ("১,০০০.২৫", "U+09E7"),  # Bengali
        ("1٣", "U+0663"),
        ("๓.๕", "U+0E53"),  # Thai
        ("①", "U+2460 CIRCLED DIGIT ONE"),
        ("𝟏", "U+1D7CF MATHEMATICAL BOLD DIGIT ONE"),
        ("½", "VULGAR FRACTION ONE HALF"),
    ],
)
def test_other_digit_characters_are_refused_by_name(text: str, shown: str) -> None:
    for parse in (normalise_amount_text, normalise_amount, lambda t: parse_amount(t, 6)):
        with pytest.raises(AmountError, match="not read as a digit") as info:
            parse(text)
        assert shown in info.value.message


def test_a_plan_refuses_a_superscript_amount() -> None:
    with pytest.raises(StepError, match="SUPERSCRIPT ONE"):
        check_args("transfer", {"receiver_id": "bob.near", "amount": "¹", "token": "NEAR"})


@pytest.mark.parametrize("text", ["1\u200b", "٣e٣", "٣_٣", "Ⅻ", "〇"])
def test_other_numeric_characters_are_still_refused(text: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(text, 0)


@pytest.mark.parametrize("digits", [40, MAX_AMOUNT_TEXT])
def test_over_long_integer_parts_are_too_large(digits: int) -> None:
    with pytest.raises(AmountError, match="too large") as info:
        parse_amount("9" * digits, 0)
    assert f"{digits} digits" in info.value.message


@pytest.mark.parametrize("digits", [MAX_AMOUNT_TEXT + 1, 4_300, 20_000, 100_000])
def test_over_long_text_is_refused_before_parsing(digits: int) -> None:
    with pytest.raises(AmountError, match="too large") as info:
        parse_amount("9" * digits, 0)
    assert f"{digits} digits" in info.value.message
    assert f"at most {MAX_AMOUNT_TEXT} characters" in info.value.message
    assert len(info.value.message) < 300  # the error never repeats thousands of digits


@pytest.mark.parametrize(
    "text", ["1" * 20_000 + "e5", "1." + "1" * 20_000, "1," * 10_000 + "1", "1e" + "1" * 20_000]
)
def test_long_text_is_refused_in_linear_time(text: str) -> None:
    started = time.perf_counter()
    for _ in range(100):
        with pytest.raises(AmountError, match=f"at most {MAX_AMOUNT_TEXT} characters"):
            normalise_amount_text(text)
    assert time.perf_counter() - started < 0.5  # was 1.2 s for one 20k-digit exponent check


def test_leading_zeros_do_not_count_as_digits() -> None:
    assert parse_amount("0" * 50 + "1", 0) == 1
    assert parse_amount("0" * (MAX_AMOUNT_TEXT - 39) + str(MAX_U128), 0) == MAX_U128


def test_longest_meaningful_amount_fits_the_bound() -> None:
    """39 grouped digits, a point and 36 decimals (the most any token has) are still read."""
    text = f" {MAX_U128:,}.{'0' * 36} "
    assert len(text) <= MAX_AMOUNT_TEXT
    assert parse_amount(text, 0) == MAX_U128
