"""Ref's per-user lost-and-found on a real node over HTTP, signed transactions only.

A swap whose receiver is registered neither on the output token nor on the exchange: the output
lands in the receiver's own lost-and-found (the exchange holds more than 100 NEAR free), the
receipts carry Ref's log lines, and ``claim_lostfound`` delivers it once the receiver has storage
on the token.
"""

from __future__ import annotations

import asyncio
import json

from devnet.genesis_default import BOB, EXCHANGE, ROOT, USDC, WRAP
from devnet.server import RunningDevnet
from tests.devnet.helpers import NEAR, near_account
from tests.devnet.test_contracts_devnet import view

TGAS = 10**12
USDC_STORAGE = 1_250_000_000_000_000_000_000


def swap_args(amount: int) -> dict[str, str]:
    action = {
        "pool_id": 0,
        "token_in": WRAP,
        "token_out": USDC,
        "amount_in": str(amount),
        "min_amount_out": "1",
    }
    return {
        "receiver_id": EXCHANGE,
        "amount": str(amount),
        "msg": json.dumps({"actions": [action]}),
    }


def logs_of(result) -> list[str]:
    return [line for receipt in result.receipt_outcome for line in receipt.logs]


def test_output_lands_in_user_lostfound_and_claim_delivers_it(
    fresh_devnet: RunningDevnet,
) -> None:
    async def scenario() -> None:
        root = await near_account(fresh_devnet, ROOT)
        await root.send_money(EXCHANGE, 200 * NEAR)  # above Ref's 100 NEAR of free balance
        bob = await near_account(fresh_devnet, BOB)
        await bob.function_call(WRAP, "near_deposit", {}, amount=2 * NEAR)
        quote = view(
            fresh_devnet,
            EXCHANGE,
            "get_return",
            {"pool_id": 0, "token_in": WRAP, "amount_in": str(NEAR), "token_out": USDC},
        )
        swapped = await bob.function_call(
            WRAP, "ft_transfer_call", swap_args(NEAR), gas=180 * TGAS, amount=1
        )
        assert "SuccessValue" in swapped.status, swapped.status
        logs = logs_of(swapped)
        assert (
            f"Account {BOB} is not registered. Depositing to owner or user lostfound account."
            in logs
        )
        assert "Depositing to user lostfound account." in logs
        lost = {"account_id": BOB, "token_id": USDC}
        assert view(fresh_devnet, EXCHANGE, "get_lostfound_token", lost) == quote
        assert view(fresh_devnet, EXCHANGE, "list_lostfound_tokens", {"account_id": BOB}) == {
            USDC: quote
        }
        assert (
            view(fresh_devnet, EXCHANGE, "get_deposit", {"account_id": ROOT, "token_id": USDC})
            == "0"
        )

        await bob.function_call(USDC, "storage_deposit", {}, amount=USDC_STORAGE)
        claimed = await bob.function_call(
            EXCHANGE, "claim_lostfound", {"token_id": USDC}, gas=100 * TGAS, amount=1
        )
        assert "SuccessValue" in claimed.status, claimed.status
        assert view(fresh_devnet, USDC, "ft_balance_of", {"account_id": BOB}) == quote
        assert view(fresh_devnet, EXCHANGE, "get_lostfound_token", lost) == "0"
        assert view(fresh_devnet, EXCHANGE, "list_lostfound_tokens", {"account_id": BOB}) == {}

    asyncio.run(scenario())
