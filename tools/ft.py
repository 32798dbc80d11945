"""Reading a NEP-141 fungible-token balance, strictly: one reader for every caller.

Why: ``ft_balance_of`` returns a U128 as a decimal string. Reading it as ``int(raw or 0)`` let a
node or contract answering ``"-5"``, ``1.5`` or ``null`` become a balance; here anything but a
U128 string is a ContractAnswerError, so nothing is planned or sent on a balance that is a lie.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools.rpc_values import contract_u128

if TYPE_CHECKING:
    from tools.chain import ChainClient


async def ft_balance_of(chain: ChainClient, contract_id: str, account_id: str) -> int:
    """``account_id``'s balance of the token ``contract_id`` in base units."""
    raw = await chain.view(contract_id, "ft_balance_of", {"account_id": account_id})
    return contract_u128(raw, contract_id, "ft_balance_of", f"the balance of {account_id}")
