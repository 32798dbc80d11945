"""Decimal amount text <-> integer base units, exactly.

One grammar for amounts, used by the plan gate (``tools.args``) and by the tools
(``parse_amount``). Text longer than ``MAX_AMOUNT_TEXT`` characters is refused before anything
else looks at it, and the checks after that are linear, so no input can make parsing slow.
Digits are ASCII 0-9 and the full-width ０-９ typed with Japanese and Chinese input methods
(NFKC maps those, and full-width ``．`` and ``，``, to ASCII). Look-alike digits (``¹``, ``①``,
``𝟏``, Arabic-Indic ``١``..., see ``tools.text_screen``) are refused by name: NFKC or
``unicodedata.decimal`` would read them as digits the user may not have meant to type.
What is accepted: digits with at most one ``.``; ``,`` only as a
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
from tools.text_screen import DeceptiveTextError, check_digits
from tools.u128 import U128_MAX

MAX_U128 = U128_MAX

MAX_U128_DIGITS = len(str(MAX_U128))  # 39: a longer integer part cannot fit in base units

MAX_AMOUNT_TEXT = 100
"""Longest amount text read at all: 39 digits, their grouping commas, a point, 36 decimals, fit."""

# re.ASCII and fullmatch: canonical text holds ASCII digits only, and nothing after them.
_PLAIN = re.compile(r"(?P<int>\d*)(?:\.(?P<frac>\d*))?", re.ASCII)
_GROUPED = re.compile(r"(?P<int>\d{1,3}(?:,\d{3})+)(?:\.(?P<frac>\d*))?", re.ASCII)
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
    if len(text) > MAX_AMOUNT_TEXT:
        raise AmountError(_too_long(text), text)
    _refuse_foreign_digits(text)
    s = unicodedata.normalize("NFKC", text).strip()
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
    if _is_exponent(low):
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


DISPLAY_PLACES = 6
"""Decimal places an amount is shown with to a person (exact text stays in JSON and the log)."""


def display_amount(units: int, decimals: int, places: int = DISPLAY_PLACES) -> str:
    """Base units as a person reads them: thousands grouped, at most ``places`` decimals,
    cut toward zero (never showing more than there is), trailing zeros trimmed; an amount
    smaller than that keeps two significant digits ("0.000044"), so a fee never shows as 0.

    "98.995148716699999999999999" NEAR -> "98.995148"; 1234567 whole tokens -> "1,234,567".
    For display only: the result is never parsed back into an amount.
    """
    exact = format_amount(units, decimals)
    sign, body = ("-", exact[1:]) if exact.startswith("-") else ("", exact)
    whole, _, frac = body.partition(".")
    keep = places
    if whole == "0" and frac and not frac[:places].strip("0"):
        first = len(frac) - len(frac.lstrip("0"))  # zeros before the first significant digit
        keep = first + 2
    frac = frac[:keep].rstrip("0")
    grouped = f"{int(whole):,}"
    return f"{sign}{grouped}.{frac}" if frac else f"{sign}{grouped}"


def to_decimal(units: int, decimals: int) -> Decimal:
    """For display and ratios only; never feed the result back into a transaction."""
    return Decimal(format_amount(units, decimals))


def _too_long(text: str) -> str:
    body = text.strip()
    what = "digits" if body.isascii() and body.isdigit() else "characters"
    return (
        f"the amount {_shown(text)} is too large: {len(body)} {what}, and amount text is at most "
        f"{MAX_AMOUNT_TEXT} characters"
    )


def _refuse_foreign_digits(text: str) -> None:
    """Refuse look-alike digits (``tools.text_screen``), naming the first one."""
    try:
        check_digits(text, "amount")
    except DeceptiveTextError as exc:
        raise AmountError(f"{text!r} {exc.message.removeprefix('the amount ')}", text) from None


def _is_exponent(low: str) -> bool:
    """``<digits, points and commas with a digit>e[+-]<digits>``, checked in one pass."""
    mantissa, sep, exponent = low.partition("e")
    if not sep or not mantissa or not any(c.isdigit() for c in mantissa):
        return False
    if any(c not in "0123456789.," for c in mantissa):
        return False
    exponent = exponent[1:] if exponent[:1] in ("+", "-") else exponent
    return all(c in "0123456789" for c in exponent)


def _shown(text: Any) -> str:
    """The amount as written, shortened so an error about a huge amount stays readable."""
    shown = repr(text)
    if len(shown) <= 60:
        return shown
    return f"{shown[:28]}...{shown[-28:]} ({len(str(text))} characters)"


def _check_decimals(decimals: int) -> None:
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 36:
        raise ValueError(f"token decimals must be an int in 0..36, got {decimals!r}")
