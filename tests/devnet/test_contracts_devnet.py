"""The default genesis on a real node: its manifest, its state, and a swap signed by py-near."""

from __future__ import annotations

import asyncio
import base64
import json

from devnet.genesis_default import ALICE, EXCHANGE, POOLS, TASKS, USDC, WRAP, units
from devnet.server import RunningDevnet
from tests.devnet.helpers import NEAR, near_account, view


def test_manifest_describes_the_default_world(fresh_devnet: RunningDevnet) -> None:
    manifest = fresh_devnet.manifest
    assert manifest["user_account"] == ALICE and manifest["root_account"] == "test.near"
    symbols = {t["symbol"]: (t["contract_id"], t["decimals"]) for t in manifest["tokens"]}
    assert symbols == {"wNEAR": (WRAP, 24), "USDC": (USDC, 6), "REF": ("ref.test.near", 18)}
    assert manifest["exchange"]["contract_id"] == EXCHANGE
    assert len(manifest["exchange"]["pools"]) == len(POOLS)
    assert manifest["tasks"]["contract_id"] == TASKS
    assert manifest["notary"]["contract_id"] == "notary.test.near"
    key_accounts = {a["account_id"] for a in manifest["accounts"]}
    assert {ALICE, "vendor.test.near", EXCHANGE, TASKS} <= key_accounts


def test_genesis_state_is_set_up(fresh_devnet: RunningDevnet) -> None:
    pool = view(fresh_devnet, EXCHANGE, "get_pool", {"pool_id": 0})
    assert pool["token_account_ids"] == [WRAP, USDC]
    assert pool["amounts"] == [str(100_000 * NEAR), str(units(USDC, 300_000))]
    assert view(fresh_devnet, USDC, "ft_balance_of", {"account_id": ALICE}) == str(
        units(USDC, 1_000)
    )
    tasks = view(fresh_devnet, TASKS, "list_tasks", {"status": "open"})
    assert len(tasks) == 3 and any(t["auto_accept"] for t in tasks)


def test_alice_wraps_and_swaps_at_the_quoted_price(fresh_devnet: RunningDevnet) -> None:
    async def scenario() -> None:
        alice = await near_account(fresh_devnet, ALICE)
        await alice.function_call(WRAP, "near_deposit", {}, amount=2 * NEAR)
        quote = view(
            fresh_devnet,
            EXCHANGE,
            "get_return",
            {"pool_id": 0, "token_in": WRAP, "amount_in": str(NEAR), "token_out": USDC},
        )
        before = int(view(fresh_devnet, USDC, "ft_balance_of", {"account_id": ALICE}))
        msg = json.dumps(
            {
                "actions": [
                    {
                        "pool_id": 0,
                        "token_in": WRAP,
                        "token_out": USDC,
                        "amount_in": str(NEAR),
                        "min_amount_out": quote,
                    }
                ]
            }
        )
        result = await alice.function_call(
            WRAP,
            "ft_transfer_call",
            {"receiver_id": EXCHANGE, "amount": str(NEAR), "msg": msg},
            gas=180 * 10**12,
            amount=1,
        )
        assert "SuccessValue" in result.status, result.status
        after = int(view(fresh_devnet, USDC, "ft_balance_of", {"account_id": ALICE}))
        assert after - before == int(quote)
        assert 2_900_000 < int(quote) < 3_000_000  # about 3 USDC per NEAR, less fee and impact
        labelled = await alice.function_call(
            TASKS, "submit_label", {"task_id": 0, "label": "positive"}
        )
        assert "SuccessValue" in labelled.status, labelled.status

    asyncio.run(scenario())


def test_slippage_refund_and_lostfound_through_receipts(fresh_devnet: RunningDevnet) -> None:
    async def scenario() -> None:
        bob = await near_account(fresh_devnet, "bob.test.near")
        await bob.function_call(WRAP, "near_deposit", {}, amount=3 * NEAR)  # registers bob
        held = int(view(fresh_devnet, WRAP, "ft_balance_of", {"account_id": "bob.test.near"}))
        quote = view(
            fresh_devnet,
            EXCHANGE,
            "get_return",
            {"pool_id": 0, "token_in": WRAP, "amount_in": str(NEAR), "token_out": USDC},
        )

        def swap_args(min_out: int) -> dict[str, str]:
            msg = json.dumps(
                {
                    "actions": [
                        {
                            "pool_id": 0,
                            "token_in": WRAP,
                            "token_out": USDC,
                            "amount_in": str(NEAR),
                            "min_amount_out": str(min_out),
                        }
                    ]
                }
            )
            return {"receiver_id": EXCHANGE, "amount": str(NEAR), "msg": msg}

        refused = await bob.function_call(
            WRAP, "ft_transfer_call", swap_args(int(quote) + 1), gas=180 * 10**12, amount=1
        )
        assert refused.status == {"SuccessValue": base64.b64encode(b'"0"').decode()}
        assert (
            int(view(fresh_devnet, WRAP, "ft_balance_of", {"account_id": "bob.test.near"})) == held
        )
        # bob is registered on neither USDC nor the exchange: Ref parks the output with its owner
        parked = await bob.function_call(
            WRAP, "ft_transfer_call", swap_args(0), gas=180 * 10**12, amount=1
        )
        assert "SuccessValue" in parked.status
        assert (
            view(
                fresh_devnet, EXCHANGE, "get_deposit", {"account_id": "test.near", "token_id": USDC}
            )
            == quote
        )
        assert view(fresh_devnet, USDC, "ft_balance_of", {"account_id": "bob.test.near"}) == "0"

    asyncio.run(scenario())
