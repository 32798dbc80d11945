"""A swap through a stable pool is judged by Ref's own stable-pool log line, on a real node.

The devnet exchange logs a stable swap as Ref does ("Swapped ... , total fee F, admin fee G");
the swap tool must read its output from that line and call the swap a success.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from devnet.contracts.exchange import LP_STORAGE_COST, stable_pool_storage_cost
from devnet.genesis_default import MARKET, POOLS, REF, ROOT, USDC, units
from tests.tools.conftest import call, make_context, run
from tests.tools.test_tools_devnet import TOOLS
from tools.action import CanonicalAction, FunctionCallSpec, Quote, TransactionSpec
from tools.base import ONE_YOCTO, ToolContext
from tools.routing import min_out

TGAS = 10**12


async def stable_pool(owner: ToolContext, market: ToolContext, exchange: str) -> int:
    """A USDC/REF stable pool with 50,000 of each, as the exchange's owner and a market make it."""
    tokens = {"tokens": [USDC, REF], "decimals": [6, 18], "fee": 5, "amp_factor": 100}
    await call(owner, exchange, "add_stable_swap_pool", tokens, stable_pool_storage_cost(2))
    reserves = [units(USDC, 50_000), units(REF, 50_000)]
    for token, amount in zip((USDC, REF), reserves, strict=True):
        transfer = {"receiver_id": exchange, "amount": str(amount), "msg": ""}
        await call(market, token, "ft_transfer_call", transfer, ONE_YOCTO, 100 * TGAS)
    pool_id = len(POOLS)
    liquidity = {"pool_id": pool_id, "amounts": [str(a) for a in reserves], "min_shares": "1"}
    await call(market, exchange, "add_stable_liquidity", liquidity, LP_STORAGE_COST)
    return pool_id


def test_a_stable_pool_swap_pays_what_its_log_line_says(chain_env: Any) -> None:
    alice = make_context(chain_env)
    owner, market = make_context(chain_env, ROOT), make_context(chain_env, MARKET)

    async def scenario() -> None:
        exchange = alice.network.exchange_id
        try:
            pool_id = await stable_pool(owner, market, exchange)
        finally:
            await owner.aclose()
            await market.aclose()
        amount_in = units(USDC, 10)
        leg = {"pool_id": pool_id, "token_in": USDC, "amount_in": str(amount_in), "token_out": REF}
        quoted = int(await alice.chain.view(exchange, "get_return", leg))
        minimum = min_out(quoted, 50)
        msg = json.dumps({"actions": [{**leg, "min_amount_out": str(minimum)}]})
        swap = TransactionSpec(
            signer_id=alice.account_id,
            receiver_id=USDC,
            actions=(
                FunctionCallSpec(
                    method_name="ft_transfer_call",
                    args={"receiver_id": exchange, "amount": str(amount_in), "msg": msg},
                    gas=180 * TGAS,
                    deposit=ONE_YOCTO,
                ),
            ),
        )
        quote = Quote(
            token_in=USDC,
            token_out=REF,
            amount_in=amount_in,
            amount_out=quoted,
            min_amount_out=minimum,
            pool_ids=(pool_id,),
            max_slippage_bps=50,
            fetched_at=datetime.now(UTC),
            source=exchange,
        )
        action = CanonicalAction(
            tool="swap",
            signer_id=alice.account_id,
            transactions=(swap,),
            quote=quote,
            recipients=(exchange,),
            preview=f"swap 10 USDC for REF via stable pool {pool_id}",
        )
        before = int(await alice.chain.view(REF, "ft_balance_of", {"account_id": alice.account_id}))
        result = await TOOLS["swap"].execute(action, alice)
        after = int(await alice.chain.view(REF, "ft_balance_of", {"account_id": alice.account_id}))
        assert result.ok
        assert int(result.data["amount_out"]) == quoted == after - before
        outcome = await alice.chain.tx_status(result.tx_hashes[0], alice.account_id)
        assert outcome is not None
        assert any(
            line.startswith(f"Swapped {amount_in} {USDC} for {quoted} {REF}, total fee ")
            for line in outcome.logs
        ), outcome.logs

    run(alice, scenario)
