"""Helpers every devnet contract shares: JSON argument parsing and storage access.

Contracts receive arguments decoded from JSON, so a U128 is a decimal string (near-sdk refuses a
JSON number for it) and a u64 is a JSON integer. Storage values are copied on read so that a method
never mutates a value the runtime may still hold for rollback.
"""

from __future__ import annotations

import copy
from collections.abc import MutableMapping
from typing import Any

from devnet.contract import Context, ContractPanic, ensure
from tools.account_id import is_valid_account_id
from tools.u128 import u128_text

DESERIALIZE_ERROR = "Failed to deserialize input from JSON."
U64_MAX = 2**64 - 1
ONE_YOCTO = 1
STORAGE_BYTE_COST = 10**19  # yoctoNEAR per byte, as on NEAR


def u128(value: Any) -> int:
    """Parse a U128 JSON value (a decimal string), panicking as near-sdk does otherwise."""
    number = u128_text(value)
    if number is None:
        raise ContractPanic(DESERIALIZE_ERROR)
    return number


def u64(value: Any) -> int:
    """Parse a u64 JSON value (an integer, never a bool or a float)."""
    ensure(isinstance(value, int) and not isinstance(value, bool), DESERIALIZE_ERROR)
    ensure(0 <= value <= U64_MAX, DESERIALIZE_ERROR)
    return value


def parse_account_id(value: Any) -> str:
    """Parse an AccountId with NEAR's validity rules."""
    ensure(is_valid_account_id(value), DESERIALIZE_ERROR)
    return value


def get(storage: MutableMapping[str, Any], key: str, default: Any = None) -> Any:
    """A private copy of a stored value, so in-place edits never leak past a rollback."""
    return copy.deepcopy(storage.get(key, default))


def assert_one_yocto(ctx: Context) -> None:
    """near-sdk's ``assert_one_yocto``: proves a full-access key signed the call."""
    ensure(ctx.attached_deposit == ONE_YOCTO, "Requires attached deposit of exactly 1 yoctoNEAR")


def assert_initialized(storage: MutableMapping[str, Any]) -> None:
    ensure("__init__" in storage, "The contract is not initialized")


def mark_initialized(storage: MutableMapping[str, Any]) -> None:
    ensure("__init__" not in storage, "The contract has already been initialized")
    storage["__init__"] = True


def page(items: list[Any], from_index: Any, limit: Any, default_limit: int = 100) -> list[Any]:
    """The ``from_index``/``limit`` slice NEAR views use for pagination."""
    start = 0 if from_index is None else u64(from_index)
    count = default_limit if limit is None else u64(limit)
    return items[start : start + count]
