"""NEAR's U128 as JSON carries it: a string of ASCII digits, at most 2**128 - 1.

A leaf module (no project imports), so the agent's tools, its policy engine and the devnet's
contracts read a U128 with one parser.
"""

from __future__ import annotations

from typing import Any

U128_MAX = 2**128 - 1
U128_DIGITS = len(str(U128_MAX))  # 39


def u128_text(value: Any) -> int | None:
    """A U128 JSON value as an int; None for anything else.

    Refused: an int, a float, a sign, an exponent, spaces, ``""``, ``null``, a non-ASCII digit
    (``"\\u0663"``), a value above 2**128 - 1. The caller raises the error that fits where the
    value came from (a node, a contract's answer, a call's arguments).
    """
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= U128_DIGITS:
        number = int(value)
        return number if number <= U128_MAX else None
    return None
