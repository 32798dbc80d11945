"""A swap whose transaction "succeeds" but whose input came back is a failed swap.

Ref-style exchanges may refund by returning the unused amount from ft_on_transfer instead of
panicking; then no receipt fails and only the value ft_transfer_call returns (the used amount)
and the balances tell. This drives SwapTool.execute with a scripted chain to cover that path.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from devnet.keys import KeyPair
from tools.action import (
    CanonicalAction,
    FunctionCallSpec,
    Quote,
    TransactionSpec,
)
from tools.base import ToolContext
from tools.chain import TxOutcome
from tools.errors import SwapFailedError
from tools.keys import Credentials
from tools.network import custom_network
from tools.swap import SwapTool
from tools.tokens import TokenRegistry

ME, USDC, REF, EXCHANGE = "me.near", "usdc.near", "ref.near", "exchange.near"


class ScriptedChain:
    """Balances that do not move (the exchange refunded) and a successful outcome."""

    def __init__(self, used: str) -> None:
        self.used = used
        self.sent: list[TransactionSpec] = []

    async def near_balance(self, account_id: str) -> dict[str, int]:
        return {"total": 10**25, "available": 10**25, "locked": 0, "storage": 0}

    async def view(self, contract: str, method: str, args: Any = None) -> Any:
        assert method == "ft_balance_of"
        return "5000000"

    async def send(self, creds: Credentials, spec: TransactionSpec, **_: Any) -> TxOutcome:
        self.sent.append(spec)
        return TxOutcome(tx_hash=f"h{len(self.sent)}", signer_id=ME, receiver_id=spec.receiver_id,
                         status_ok=True, value=f'"{self.used}"'.encode(), failure=None,
                         receipts=(), tokens_burnt=0)

    async def close(self) -> None:
        return None


def swap_action() -> CanonicalAction:
    msg = ('{"actions":[{"pool_id":2,"token_in":"usdc.near","token_out":"ref.near",'
           '"amount_in":"1000000","min_amount_out":"990"}]}')
    tx = TransactionSpec(signer_id=ME, receiver_id=USDC, actions=(FunctionCallSpec(
        method_name="ft_transfer_call", args={"receiver_id": EXCHANGE, "amount": "1000000",
                                              "msg": msg}, gas=180 * 10**12, deposit=1),))
    quote = Quote(token_in=USDC, token_out=REF, amount_in=1_000_000, amount_out=1000,
                  min_amount_out=990, pool_ids=(2,), max_slippage_bps=100,
                  fetched_at=datetime.now(UTC), source=EXCHANGE)
    return CanonicalAction(tool="swap", signer_id=ME, transactions=(tx,), quote=quote,
                           recipients=(EXCHANGE,), preview="swap")


@pytest.mark.parametrize(("used", "says"), [("0", "refunded"), ("1000000", "below the minimum")])
def test_refund_without_failed_receipt_is_a_failed_swap(used: str, says: str) -> None:
    chain = ScriptedChain(used)
    network = custom_network("http://127.0.0.1:9", wrap_id="wrap.near", exchange_id=EXCHANGE)
    ctx = ToolContext(network=network, chain=chain, account_id=ME,  # type: ignore[arg-type]
                      credentials=Credentials(ME, KeyPair.generate()),
                      tokens=TokenRegistry(chain, [], wrap_id="wrap.near"))  # type: ignore[arg-type]
    with pytest.raises(SwapFailedError, match=says) as info:
        asyncio.run(SwapTool().execute(swap_action(), ctx))
    assert len(chain.sent) == 1
    assert info.value.result is not None and info.value.result.tx_hashes == ["h1"]
    assert info.value.result.ok is False
