"""Decimal amount text <-> integer base units, exactly.

One grammar for amounts, used by the plan gate (``tools.args``) and by the tools
(``parse_amount``). What is accepted (after Unicode NFKC normalisation, so full-width digits typed
in Japanese or Chinese input methods work, and every other Unicode decimal digit, Arabic-Indic
or Devanagari say, read as its ASCII digit): digits with at most one ``.``; ``,`` only as a
thousands separator in correctly grouped integer parts ("1,000.25"); surrounding whitespace.
Refused, each with its own message: non-strings (floats above all: they cannot hold most amounts
exactly), empty text, vague words ("all", "max"), NaN/infinity, signs, exponents ("1e3"),
underscores ("1_000", Python syntax a user does not type), badly grouped commas ("1,5" could mean
1.5), text without digits, zero where a positive amount is needed; and, in ``parse_amount``, more
fractional digits than the token has (unless they are zeros) and anything at or above 2**128 base
units.

Messages are phrased to follow a field name ("field 'amount' is empty; ...") and still read on
their own; each AmountError keeps the text it was given.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Any

from tools.errors import AmountError

MAX_U128 = 2**128 - 1

MAX_U128_DIGITS = len(str(MAX_U128))  # 39: a longer integer part cannot fit in base units

# re.ASCII and fullmatch: canonical text holds ASCII digits only, and nothing after them.
_PLAIN = re.compile(r"(?P<int>\d*)(?:\.(?P<frac>\d*))?", re.ASCII)
_GROUPED = re.compile(r"(?P<int>\d{1,3}(?:,\d{3})+)(?:\.(?P<frac>\d*))?", re.ASCII)
# [.,]* before the first digit, not [\d.,]*: one way to split, so a long number fails in linear time
_EXPONENT = re.compile(r"[.,]*\d[\d.,]*e[+-]?\d*", re.ASCII)
_BAD_COMMAS = re.compile(r"[\d,]*(?:\.\d*)?", re.ASCII)
_SPECIALS = frozenset({"nan", "snan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})
_VAGUE = frozenset({"all", "everything", "max", "maximum", "half", "some", "any"})


def normalise_amount_text(
    text: Any,
    *,
    allow_zero: bool = False,
    trailing_point: bool = True,
    max_chars: int | None = None,
) -> str:
    """Exact canonical decimal text of ``text``: separators removed, the value never changed.

    "1,000.25" -> "1000.25", ".5" -> "0.5", "007" -> "7", "2.50" stays "2.50". Numbers (float
    above all, int and bool too) are refused: a float cannot hold most amounts exactly, and an
    int is a sign that a unit was guessed. ``trailing_point=False`` refuses "2." (a planner's
    amount must not look cut off); ``max_chars`` bounds the length of what a planner may write.
    """
    if isinstance(text, bool) or not isinstance(text, str):
        kind = type(text).__name__
        raise AmountError(
            f'must be a decimal string such as "2.5", not a {kind} ({text!r}); '
            "numbers lose precision, so write the amount in quotes",
            text,
        )
    s = _ascii_digits(unicodedata.normalize("NFKC", text)).strip()
    if not s:
        raise AmountError("is empty; write a positive decimal number such as 2.5", text)
    if max_chars is not None and len(s) > max_chars:
        raise AmountError(f"is longer than {max_chars} characters", text)
    low = s.lower()
    if low in _VAGUE:
        raise AmountError(f"{text!r} is not an exact amount; write the number, such as 2.5", text)
    if low in _SPECIALS:
        raise AmountError(f"{text!r} is not a number of tokens; write one such as 2.5", text)
    if s.startswith("-"):
        raise AmountError(
            f"{text!r} has a minus sign; amounts are never negative, so write a "
            "positive number such as 2.5",
            text,
        )
    if s.startswith("+"):
        raise AmountError(f"{text!r} has a sign; write just the number, such as 2.5", text)
    if _EXPONENT.fullmatch(low):
        raise AmountError(f"{text!r} uses an exponent; write the number out in full", text)
    if "_" in s:
        raise AmountError(
            f"{text!r} contains '_'; write digits only (',' may separate thousands)", text
        )
    match = _PLAIN.fullmatch(s) or _GROUPED.fullmatch(s)
    if match is None:
        if "," in s and _BAD_COMMAS.fullmatch(s):
            raise AmountError(
                f"{text!r} has a misplaced ','; use '.' for the decimal point and "
                "',' only between groups of three digits",
                text,
            )
        raise AmountError(f"{text!r} is not a decimal number; write it like 2.5 or 1,000.25", text)
    int_part = match.group("int").replace(",", "").lstrip("0")
    frac = match.group("frac")
    if not int_part and not frac and "0" not in match.group("int"):
        raise AmountError(f"{text!r} has no digits", text)
    if frac == "" and not trailing_point:
        raise AmountError(f"{text!r} ends with '.'; write the digits after it, or no point", text)
    canonical = f"{int_part or '0'}.{frac}" if frac else int_part or "0"
    if not allow_zero and Decimal(canonical) == 0:
        raise AmountError(f"{text!r} is zero; the amount must be positive", text)
    return canonical


def parse_amount(text: Any, decimals: int, *, allow_zero: bool = False) -> int:
    """Whole-token text (e.g. "1.5") to base units; AmountError when it is not exact."""
    _check_decimals(decimals)
    canonical = normalise_amount_text(text, allow_zero=allow_zero)
    int_part, _, frac = canonical.partition(".")
    if len(int_part) > MAX_U128_DIGITS:
        # refused before int(): thousands of digits would hit Python's int_max_str_digits limit
        raise AmountError(
            f"the amount {_shown(text)} is too large: {len(int_part)} digits before the point, "
            f"more than the {MAX_U128_DIGITS} any token amount can have",
            text,
        )
    significant = frac.rstrip("0")
    if len(significant) > decimals:
        raise AmountError(
            f"the amount {text!r} has more than {decimals} decimal places, "
            f"the most this token allows",
            text,
        )
    units = int(int_part) * 10**decimals + (
        int(significant.ljust(decimals, "0")) if significant else 0
    )
    if units > MAX_U128:
        raise AmountError(f"the amount {text!r} is too large", text)
    return units


def format_amount(units: int, decimals: int) -> str:
    """Base units to whole-token text without loss, trailing zeros trimmed ("1.5", "0", "12")."""
    _check_decimals(decimals)
    if isinstance(units, bool) or not isinstance(units, int):
        raise TypeError(f"base units must be an int, not {type(units).__name__}")
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**decimals)
    if decimals == 0 or frac == 0:
        return f"{sign}{whole}"
    frac_text = str(frac).rjust(decimals, "0").rstrip("0")
    return f"{sign}{whole}.{frac_text}"


def to_decimal(units: int, decimals: int) -> Decimal:
    """For display and ratios only; never feed the result back into a transaction."""
    return Decimal(format_amount(units, decimals))


def _ascii_digits(text: str) -> str:
    """Every Unicode decimal digit as its ASCII digit, so the canonical text is plain ASCII.

    Without this "١٢" (Arabic-Indic) would reach a plan, and a preview, exactly as written.
    """
    if text.isascii():
        return text
    return "".join(_ascii_digit(ch) for ch in text)


def _ascii_digit(ch: str) -> str:
    value = unicodedata.decimal(ch, None)
    return ch if value is None else str(value)


def _shown(text: Any) -> str:
    """The amount as written, shortened so an error about a huge amount stays readable."""
    shown = repr(text)
    if len(shown) <= 60:
        return shown
    return f"{shown[:28]}...{shown[-28:]} ({len(str(text))} characters)"


def _check_decimals(decimals: int) -> None:
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 36:
        raise ValueError(f"token decimals must be an int in 0..36, got {decimals!r}")
