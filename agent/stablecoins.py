"""The USD stablecoins a network lists (``Network.stablecoins``), each worth one dollar to the
price mechanism.

Several stablecoins make several independent price sources (policies/pricing.py): a pool
pushed against one of them disagrees with the pools of the others. Only tokens the registry
lists are used (never a contract that merely calls itself USDC).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tools.errors import UnknownTokenError


async def listed_stablecoins(tokens: Any, symbols: Iterable[str]) -> dict[str, int]:
    """Contract id -> decimals for each of ``symbols`` the token registry lists (verified).

    A symbol the network does not list is skipped; any other failure (the node cannot be read)
    propagates, so that no caller remembers a shorter list than the network has."""
    found: dict[str, int] = {}
    for symbol in dict.fromkeys(symbols):
        try:
            info = await tokens.resolve(symbol)
        except UnknownTokenError:
            continue
        if info.contract_id is not None and getattr(info, "verified", True):
            found[info.contract_id] = int(info.decimals)
    return found
