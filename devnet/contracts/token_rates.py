"""Rates of rated tokens (stNEAR, LiNEAR, NearX, ...), as Ref's exchange keeps them for rated pools.

Ref registers a rated token with its rate type (``register_rated_token``); the rate starts at 1.0
(10^24) with no update time, so it is expired until someone calls ``update_token_rate``, which
asks the token's own contract for its price (``get_st_near_price``, ``ft_price``,
``get_nearx_price``) and stores it with the block time. A rate older than 24 hours is expired and
a rated pool holding that token refuses to swap ("E120: Rates expired"). A token that is not
registered always has the rate 1.0 and is always valid.

The devnet keeps the same records; its owner or a guardian can also set a rate directly
(``set_token_rate``, devnet only), since devnet tokens need not run a price oracle.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from devnet.contract import ensure
from devnet.contracts.stable_math import RATE_PRECISION

RATES_KEY = "rated_tokens"
RATE_EXPIRY_NS = 24 * 3600 * 10**9
# the view each rate type's token contract answers with its price (a U128 of 24 decimals)
PRICE_METHODS = {"STNEAR": "get_st_near_price", "LINEAR": "ft_price", "NEARX": "get_nearx_price"}
RATE_TYPES = frozenset({*PRICE_METHODS, "SFRAX"})

E120 = "E120: Rates expired"
E124 = "E124: Cross-contract call failed"
E126 = "E126: Failed to parse cross-contract call result"
E127 = "E127: Invalid rate type"


def rated_tokens(storage: MutableMapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every registered rated token's record (a copy the caller may edit and save back)."""
    return dict(storage.get(RATES_KEY) or {})


def register(
    storage: MutableMapping[str, Any], rate_type: str, token_id: str, extra_info: str | None
) -> bool:
    """Register ``token_id`` with rate 1.0 and no update yet; False if it already was."""
    ensure(rate_type in RATE_TYPES, E127)
    if rate_type == "SFRAX":
        ensure(extra_info is not None, "Missing extra_info")
    records = rated_tokens(storage)
    if token_id in records:
        return False
    records[token_id] = {
        "rate_type": rate_type,
        "rate": RATE_PRECISION,
        "updated_at": 0,
        "extra_info": extra_info,
    }
    storage[RATES_KEY] = records
    return True


def unregister(storage: MutableMapping[str, Any], token_id: str) -> bool:
    records = rated_tokens(storage)
    if records.pop(token_id, None) is None:
        return False
    storage[RATES_KEY] = records
    return True


def set_rate(storage: MutableMapping[str, Any], token_id: str, rate: int, now_ns: int) -> None:
    records = rated_tokens(storage)
    record = dict(records[token_id])
    record["rate"] = rate
    record["updated_at"] = now_ns
    records[token_id] = record
    storage[RATES_KEY] = records


def is_valid(record: dict[str, Any], now_ns: int) -> bool:
    return bool(now_ns <= record["updated_at"] + RATE_EXPIRY_NS)


def pool_rates(
    storage: MutableMapping[str, Any], tokens: list[str], now_ns: int
) -> tuple[list[int], bool]:
    """(each token's rate, whether all are valid) for a rated pool's tokens."""
    records = storage.get(RATES_KEY) or {}
    rates, valid = [], True
    for token in tokens:
        record = records.get(token)
        if record is None:
            rates.append(RATE_PRECISION)
        else:
            rates.append(record["rate"])
            valid = valid and is_valid(record, now_ns)
    return rates, valid


def token_info(record: dict[str, Any], now_ns: int) -> dict[str, Any]:
    """Ref's RatedTokenInfo."""
    return {
        "rate_type": record["rate_type"],
        "rate_price": str(record["rate"]),
        "last_update_ts": str(record["updated_at"]),
        "is_valid": is_valid(record, now_ns),
        "extra_info": record["extra_info"] if record["rate_type"] == "SFRAX" else None,
    }
