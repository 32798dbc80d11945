"""Decimal amount text <-> integer base units, exactly.

What is accepted (after Unicode NFKC normalisation, so full-width digits typed in Japanese or
Chinese input methods work): ASCII digits with at most one ``.``; ``,`` only as a thousands
separator in correctly grouped integer parts ("1,000.25"); surrounding whitespace. Refused, each
with its own message: non-strings (floats above all: they cannot hold most amounts exactly),
empty text, signs, NaN/infinity, exponents ("1e3"), underscores ("1_000", Python syntax a user
does not type), badly grouped commas ("1,5" could mean 1.5), more fractional digits than the token
has (unless they are zeros), zero where a positive amount is needed, and anything at or above
2**128 base units.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Any

from tools.errors import AmountError

MAX_U128 = 2**128 - 1

_PLAIN = re.compile(r"^(?P<int>\d*)(?:\.(?P<frac>\d*))?$")
_GROUPED = re.compile(r"^(?P<int>\d{1,3}(?:,\d{3})+)(?:\.(?P<frac>\d*))?$")
_SPECIALS = {"nan", "snan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


def parse_amount(text: Any, decimals: int, *, allow_zero: bool = False) -> int:
    """Whole-token text (e.g. "1.5") to base units; AmountError when it is not exact."""
    _check_decimals(decimals)
    if isinstance(text, bool) or not isinstance(text, str):
        kind = type(text).__name__
        hint = " (floats cannot represent most amounts exactly)" if isinstance(text, float) else ""
        raise AmountError(f"an amount must be a decimal string like \"1.5\", not a {kind}{hint}",
                          text)
    s = unicodedata.normalize("NFKC", text).strip()
    if not s:
        raise AmountError("the amount is empty", text)
    low = s.lower()
    if low in _SPECIALS:
        raise AmountError(f"{text!r} is not a number of tokens", text)
    if s.startswith("-"):
        raise AmountError(f"the amount {text!r} is negative", text)
    if s.startswith("+"):
        raise AmountError(f"the amount {text!r} has a sign; write just the number", text)
    if "e" in low and re.fullmatch(r"[\d.,]*e[+-]?\d*", low):
        raise AmountError(f"the amount {text!r} uses an exponent; write it out in full", text)
    if "_" in s:
        raise AmountError(f"the amount {text!r} contains '_'; write digits only "
                          "(',' may separate thousands)", text)
    match = _PLAIN.match(s) or _GROUPED.match(s)
    if match is None:
        if "," in s and re.fullmatch(r"[\d,]*(\.\d*)?", s):
            raise AmountError(f"the amount {text!r} has a misplaced ','; use '.' for the decimal "
                              "point and ',' only between groups of three digits", text)
        raise AmountError(f"{text!r} is not a decimal amount", text)
    int_part = match.group("int").replace(",", "")
    frac = match.group("frac") or ""
    if not int_part and not frac:
        raise AmountError(f"{text!r} has no digits", text)
    significant = frac.rstrip("0")
    if len(significant) > decimals:
        raise AmountError(
            f"the amount {text!r} has more than {decimals} decimal places, "
            f"the most this token allows", text)
    units = int(int_part or "0") * 10**decimals + int((significant or "0").ljust(decimals, "0")
                                                      if decimals else "0")
    if units == 0 and not allow_zero:
        raise AmountError(f"the amount {text!r} is zero; it must be positive", text)
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


def _check_decimals(decimals: int) -> None:
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 36:
        raise ValueError(f"token decimals must be an int in 0..36, got {decimals!r}")
