"""A stable pool on a real node over HTTP: created by the exchange's owner, funded by the market
maker, and swapped through by alice with ``ft_transfer_call``, all as signed transactions."""

from __future__ import annotations

import asyncio
import base64
import json
import re

from devnet.contracts.exchange import LP_STORAGE_COST, stable_pool_storage_cost
from devnet.genesis_default import ALICE, EXCHANGE, MARKET, POOLS, REF, ROOT, USDC, units
from devnet.server import RunningDevnet
from tests.devnet.helpers import near_account, rpc
from tests.devnet.test_contracts_devnet import view

TGAS = 10**12
SWAPPED = re.compile(r"^Swapped (\d+) (\S+) for (\d+) (\S+), total fee (\d+), admin fee (\d+)$")


def test_stable_pool_swap_pays_its_quote_and_logs_refs_line(fresh_devnet: RunningDevnet) -> None:
    async def scenario() -> None:
        owner = await near_account(fresh_devnet, ROOT)
        market = await near_account(fresh_devnet, MARKET)
        alice = await near_account(fresh_devnet, ALICE)
        denied = await market.function_call(
            EXCHANGE,
            "add_stable_swap_pool",
            {"tokens": [USDC, REF], "decimals": [6, 18], "fee": 5, "amp_factor": 100},
            amount=stable_pool_storage_cost(2),
        )
        assert "E100: no permission to invoke this" in json.dumps(denied.status)
        created = await owner.function_call(
            EXCHANGE,
            "add_stable_swap_pool",
            {"tokens": [USDC, REF], "decimals": [6, 18], "fee": 5, "amp_factor": 100},
            amount=stable_pool_storage_cost(2),
        )
        pool_id = len(POOLS)
        assert "SuccessValue" in created.status, created.status
        reserves = [units(USDC, 50_000), units(REF, 50_000)]
        for token, amount in zip((USDC, REF), reserves, strict=True):
            await market.function_call(
                token,
                "ft_transfer_call",
                {"receiver_id": EXCHANGE, "amount": str(amount), "msg": ""},
                gas=100 * TGAS,
                amount=1,
            )
        added = await market.function_call(
            EXCHANGE,
            "add_stable_liquidity",
            {"pool_id": pool_id, "amounts": [str(a) for a in reserves], "min_shares": "1"},
            amount=LP_STORAGE_COST,
        )
        assert "SuccessValue" in added.status, added.status
        pools = view(fresh_devnet, EXCHANGE, "get_pools", {"from_index": pool_id, "limit": 5})
        assert [p["pool_kind"] for p in pools] == ["STABLE_SWAP"]
        assert pools[0]["amounts"] == [str(a) for a in reserves] and pools[0]["amp"] == 100

        amount_in = units(USDC, 10)
        quote = view(
            fresh_devnet,
            EXCHANGE,
            "get_return",
            {"pool_id": pool_id, "token_in": USDC, "amount_in": str(amount_in), "token_out": REF},
        )
        before = int(view(fresh_devnet, REF, "ft_balance_of", {"account_id": ALICE}))
        dry_run = {
            "token_deposit": {USDC: str(amount_in)},
            "actions": [
                {
                    "pool_id": pool_id,
                    "token_in": USDC,
                    "token_out": REF,
                    "amount_in": str(amount_in),
                    "min_amount_out": "0",
                }
            ],
        }
        predicted = rpc(
            fresh_devnet,
            "query",
            {
                "request_type": "call_function",
                "account_id": EXCHANGE,
                "method_name": "predict_swap_actions",
                "finality": "final",
                "args_base64": base64.b64encode(json.dumps(dry_run).encode()).decode(),
            },
        )["result"]
        assert json.loads(bytes(predicted["result"])) == {REF: quote}
        assert predicted["logs"] == []  # Ref's dry run prints nothing
        action = {
            "pool_id": pool_id,
            "token_in": USDC,
            "token_out": REF,
            "amount_in": str(amount_in),
            "min_amount_out": quote,
        }
        swapped = await alice.function_call(
            USDC,
            "ft_transfer_call",
            {
                "receiver_id": EXCHANGE,
                "amount": str(amount_in),
                "msg": json.dumps({"actions": [action]}),
            },
            gas=180 * TGAS,
            amount=1,
        )
        assert "SuccessValue" in swapped.status, swapped.status
        after = int(view(fresh_devnet, REF, "ft_balance_of", {"account_id": ALICE}))
        assert after - before == int(quote)
        # 10 USDC buys just under 10 REF at amp 100 in a balanced pool, less the 0.05% fee
        assert units(REF, 9_990) // 1000 < int(quote) < units(REF, 10)
        lines = [m for r in swapped.receipt_outcome for m in map(SWAPPED.match, r.logs) if m]
        assert len(lines) == 1
        got_in, token_in, got_out, token_out, fee, admin = lines[0].groups()
        assert (int(got_in), token_in, got_out, token_out) == (amount_in, USDC, quote, REF)
        assert int(fee) > 0 and admin == "0"  # the default exchange takes no admin fee

    asyncio.run(scenario())
