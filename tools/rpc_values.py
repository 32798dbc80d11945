"""Reading numbers and fields out of a node's JSON, refusing what nearcore does not send.

Why: a node's answer is input from outside; a value read loosely (a float, a sign, a string that
is not a number) would turn a lie into money.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.errors import ContractAnswerError, RpcError, ToolError
from tools.u128 import U128_MAX, u128_text

U64_MAX = 2**64 - 1


def parse_uint(
    value: Any, what: str, *, limit: int = U128_MAX, error: type[ToolError] = RpcError
) -> int:
    """A JSON u128/u64 (decimal string or integer) as an int, refusing anything else.

    Nodes send u128 as strings; a bool, a float, a sign or a value beyond ``limit`` means the
    answer is not what nearcore sends, and reading it as a number would turn a lie into money.
    """
    if isinstance(value, bool):
        raise error(f"the node sent {what} as {value!r}, not an unsigned integer")
    if isinstance(value, int):
        number = value
    elif _is_digits(value, max_len=40):
        number = int(value)
    else:
        raise error(f"the node sent {what} as {short(value)}, not an unsigned integer")
    if not 0 <= number <= limit:
        raise error(f"the node sent {what} = {number}, outside 0..{limit}")
    return number


def contract_u128(value: Any, contract_id: str, method: str, what: str) -> int:
    """A U128 a contract's view answered, or ContractAnswerError quoting what it sent instead."""
    number = u128_text(value)
    if number is None:
        raise ContractAnswerError(
            f"{contract_id}.{method} answered {short(value)} for {what}, not a U128 (a decimal "
            "string within 0..2**128-1); nothing was done",
            contract_id=contract_id,
            method=method,
        )
    return number


def _is_digits(value: Any, *, max_len: int) -> bool:
    return isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= max_len


def short(value: Any) -> str:
    """A value as a message may quote it: at most 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def find_key(obj: Any, key: str) -> Any:
    """The first value under ``key`` anywhere in nested JSON (nearcore nests its errors)."""
    if isinstance(obj, Mapping):
        if key in obj:
            return obj[key]
        for value in obj.values():
            found = find_key(value, key)
            if found is not None:
                return found
    elif isinstance(obj, list):
        for value in obj:
            found = find_key(value, key)
            if found is not None:
                return found
    return None
