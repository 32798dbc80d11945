"""Reading a NEP-141 fungible-token balance, strictly: one reader for every caller.

Why: ``ft_balance_of`` returns a U128 as a decimal string. Reading it as ``int(raw or 0)`` let a
node or contract answering ``"-5"``, ``1.5`` or ``null`` become a balance; here anything but a
U128 string is a ContractAnswerError, so nothing is planned or sent on a balance that is a lie.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools.errors import ContractAnswerError
from tools.rpc_values import short, u128_text

if TYPE_CHECKING:
    from tools.chain import ChainClient


async def ft_balance_of(chain: ChainClient, contract_id: str, account_id: str) -> int:
    """``account_id``'s balance of the token ``contract_id`` in base units."""
    raw = await chain.view(contract_id, "ft_balance_of", {"account_id": account_id})
    units = u128_text(raw)
    if units is None:
        raise ContractAnswerError(
            f"{contract_id}.ft_balance_of for {account_id} answered {short(raw)}, not a token "
            "balance (NEP-141 sends a decimal string); nothing was done",
            contract_id=contract_id,
            method="ft_balance_of",
        )
    return units
