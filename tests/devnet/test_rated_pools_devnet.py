"""A rated pool on a real node over HTTP: a liquid-staking token whose contract answers its price,
a rate that is expired until ``update_token_rate`` asks that contract, then swaps at the rate."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from py_near import transactions as tx

from devnet.contracts.exchange import LP_STORAGE_COST, stable_pool_storage_cost
from devnet.contracts.fungible_token import STORAGE_BALANCE
from devnet.genesis_default import ALICE, EXCHANGE, POOLS, ROOT, WRAP
from devnet.server import RunningDevnet
from tests.devnet.helpers import NEAR, near_account, rpc
from tests.devnet.test_contracts_devnet import view
from tools.keypair import KeyPair

TGAS = 10**12
STNEAR = f"stnear.{ROOT}"
PRICE = 125 * NEAR // 100  # 1.25 NEAR per stNEAR


def raw_view(node: RunningDevnet, method: str, args: dict[str, Any]) -> dict[str, Any]:
    """The exchange's answer (an error included) once everything sent has run and is final."""
    node.settle()
    return rpc(
        node,
        "query",
        {
            "request_type": "call_function",
            "account_id": EXCHANGE,
            "method_name": method,
            "finality": "final",
            "args_base64": base64.b64encode(json.dumps(args).encode()).decode(),
        },
    )["result"]


def ok(result: Any) -> Any:
    assert "SuccessValue" in result.status, result.status
    return result


def test_rated_pool_rate_updates_from_the_token_and_prices_swaps(
    fresh_devnet: RunningDevnet,
) -> None:
    async def scenario() -> None:
        root = await near_account(fresh_devnet, ROOT)
        alice = await near_account(fresh_devnet, ALICE)
        init = {
            "owner_id": ROOT,
            "total_supply": str(10**6 * NEAR),
            "metadata": {"spec": "ft-1.0.0", "name": "stNEAR", "symbol": "STNEAR", "decimals": 24},
        }
        await root.sign_and_submit_tx(
            STNEAR,
            [
                tx.create_create_account_action(),
                tx.create_transfer_action(5 * NEAR),
                tx.create_full_access_key_action(KeyPair.generate().public_bytes),
                tx.create_deploy_contract_action(b"pycontract:rated_token"),
                tx.create_function_call_action("new", json.dumps(init).encode(), 100 * TGAS, 0),
            ],
        )
        for account in (EXCHANGE, ALICE):
            ok(
                await root.function_call(
                    STNEAR, "storage_deposit", {"account_id": account}, amount=STORAGE_BALANCE
                )
            )
        ok(
            await root.function_call(
                EXCHANGE, "extend_whitelisted_tokens", {"tokens": [STNEAR]}, amount=1
            )
        )
        ok(
            await root.function_call(
                EXCHANGE,
                "register_rated_token",
                {"rate_type": "STNEAR", "token_id": STNEAR},
                amount=1,
            )
        )
        ok(
            await root.function_call(
                EXCHANGE,
                "add_rated_swap_pool",
                {"tokens": [STNEAR, WRAP], "decimals": [24, 24], "fee": 5, "amp_factor": 100},
                amount=stable_pool_storage_cost(2),
            )
        )
        pool_id = len(POOLS)
        quote_args = {"pool_id": pool_id, "token_in": STNEAR, "amount_in": str(NEAR)}
        quote_args["token_out"] = WRAP
        assert "E120: Rates expired" in raw_view(fresh_devnet, "get_return", quote_args)["error"]

        # anyone refreshes the rate: the exchange asks stNEAR's contract for its price
        ok(await root.function_call(STNEAR, "set_price", {"price": str(PRICE)}))
        updated = ok(
            await alice.function_call(
                EXCHANGE, "update_token_rate", {"token_id": STNEAR}, gas=100 * TGAS
            )
        )
        logs = [line for r in updated.receipt_outcome for line in r.logs]
        assert logs == [
            f"Caller {ALICE} invokes token {STNEAR} rait async-update.",
            f"Token {STNEAR} got new rate {PRICE} from cross-contract call.",
        ]
        rated = view(fresh_devnet, EXCHANGE, "list_rated_tokens", {})[STNEAR]
        assert rated["rate_price"] == str(PRICE) and rated["is_valid"] is True

        # liquidity at the rate, then alice swaps 1 stNEAR for about 1.25 wNEAR
        ok(await root.function_call(WRAP, "near_deposit", {}, amount=2_000 * NEAR))
        ok(await root.function_call(EXCHANGE, "storage_deposit", {}, amount=NEAR))
        reserves = [1_000 * NEAR, 1_250 * NEAR]
        for token, amount in zip((STNEAR, WRAP), reserves, strict=True):
            ok(
                await root.function_call(
                    token,
                    "ft_transfer_call",
                    {"receiver_id": EXCHANGE, "amount": str(amount), "msg": ""},
                    gas=100 * TGAS,
                    amount=1,
                )
            )
        ok(
            await root.function_call(
                EXCHANGE,
                "add_stable_liquidity",
                {"pool_id": pool_id, "amounts": [str(a) for a in reserves], "min_shares": "1"},
                amount=LP_STORAGE_COST,
            )
        )
        pool = view(fresh_devnet, EXCHANGE, "get_rated_pool", {"pool_id": pool_id})
        assert pool["rates"] == [str(PRICE), str(NEAR)]
        ok(
            await root.function_call(
                STNEAR, "ft_transfer", {"receiver_id": ALICE, "amount": str(NEAR)}, amount=1
            )
        )
        quote = view(fresh_devnet, EXCHANGE, "get_return", quote_args)
        assert 124 * NEAR // 100 < int(quote) < PRICE
        before = int(view(fresh_devnet, WRAP, "ft_balance_of", {"account_id": ALICE}))
        action = {
            "pool_id": pool_id,
            "token_in": STNEAR,
            "token_out": WRAP,
            "min_amount_out": quote,
        }
        swapped = ok(
            await alice.function_call(
                STNEAR,
                "ft_transfer_call",
                {
                    "receiver_id": EXCHANGE,
                    "amount": str(NEAR),
                    "msg": json.dumps({"actions": [action]}),
                },
                gas=180 * TGAS,
                amount=1,
            )
        )
        after = int(view(fresh_devnet, WRAP, "ft_balance_of", {"account_id": ALICE}))
        assert after - before == int(quote)
        lines = [line for r in swapped.receipt_outcome for line in r.logs]
        assert any(
            line.startswith(f"Swapped {NEAR} {STNEAR} for {quote} {WRAP}, total fee ")
            and line.endswith(", admin fee 0")
            for line in lines
        )

    asyncio.run(scenario())
