"""What Ref's exchange and NEP-141 tokens log, read from receipts (ref-exchange's own strings).

Only lines whose meaning is documented by the contract source are read; anything else is ignored,
never guessed at.
"""

from __future__ import annotations

import json
import re
from typing import Any

_EVENT_PREFIX = "EVENT_JSON:"
_U128 = r"([0-9]{1,39})"
# Every line Ref's pools log for a swap, "<amount_in> <token_in> for <amount_out> <token_out>"
# (ref-exchange: simple_pool.rs swap and swap_by_output; stable_swap, rated_swap and degen_swap
# mod.rs swap). Account ids hold no comma or space, so the first pattern never reads a fee line.
_SWAP_LOGS = (
    re.compile(rf"Swapped {_U128} (\S+) for {_U128} (\S+)"),
    re.compile(rf"Swapped {_U128} (\S+) for {_U128} (\S+), total fee {_U128}, admin fee {_U128}"),
    re.compile(rf"Swap_by_output {_U128} (\S+) for {_U128} (\S+)"),
)

# Where Ref's exchange_callback_post_withdraw puts an output it could not deliver (and the user's
# deposit there could not take), by its logs (account_deposit.rs): first "Account X is not
# registered. Depositing to owner or user lostfound account." (or "has not enough storage"), then
# "Depositing to user lostfound account." or "... Depositing to owner.". Older versions said
# "Account X is not registered. Depositing to owner." in one line.
LOSTFOUND_USER = "user"  # the user's own lost-and-found: claim_lostfound(token_id) returns it
LOSTFOUND_OWNER = "owner"  # the owner's central lost-and-found: only the exchange can return it
LOSTFOUND_UNKNOWN = "unknown"  # lost-and-found, the logs do not say whose
_LOSTFOUND_EITHER = "Depositing to owner or user lostfound account."
_LOSTFOUND_USER_LOG = "Depositing to user lostfound account."
_LOSTFOUND_OWNER_LOG = "Depositing to owner."


def lostfound_of(logs: tuple[str, ...]) -> str:
    """Which lost-and-found a receipt's logs say an undelivered output went to ("" for none)."""
    found = ""
    for raw in logs:
        line = raw.strip()
        if line.endswith(_LOSTFOUND_USER_LOG):
            return LOSTFOUND_USER
        if line.endswith(_LOSTFOUND_OWNER_LOG):
            return LOSTFOUND_OWNER
        if line.endswith(_LOSTFOUND_EITHER):
            found = LOSTFOUND_UNKNOWN
    return found


def swap_line(line: str) -> tuple[int, str, int, str] | None:
    """(amount_in, token_in, amount_out, token_out) of a pool's swap log line, else None."""
    for pattern in _SWAP_LOGS:
        match = pattern.fullmatch(line.strip())
        if match is not None:
            amount_in, token_in, amount_out, token_out = match.groups()[:4]
            return int(amount_in), token_in, int(amount_out), token_out
    return None


def ft_transfers(logs: tuple[str, ...]) -> list[dict[str, Any]]:
    """The entries of NEP-141 ``ft_transfer`` events (NEP-297) in a receipt's logs."""
    out: list[dict[str, Any]] = []
    for line in logs:
        if not line.startswith(_EVENT_PREFIX):
            continue
        try:
            event = json.loads(line[len(_EVENT_PREFIX) :])
        except ValueError:
            continue
        if (
            not isinstance(event, dict)
            or event.get("standard") != "nep141"
            or event.get("event") != "ft_transfer"
            or not isinstance(event.get("data"), list)
        ):
            continue
        out.extend(item for item in event["data"] if isinstance(item, dict))
    return out
