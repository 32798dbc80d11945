"""End to end through py-near on the default genesis: tokens, wNEAR and the exchange."""

from __future__ import annotations

import asyncio
import base64
import json

from tests.devnet.helpers import NEAR, balance, near_account, total_burnt

FEE_DIVISOR = 10_000


def _ids(node):
    manifest = node.manifest
    tokens = {t["symbol"]: t["contract_id"] for t in manifest["tokens"]}
    return manifest["user_account"], tokens, manifest["exchange"]["contract_id"]


def _other_user(node, user):
    return next(
        a["account_id"] for a in node.manifest["accounts"] if a["account_id"].startswith("bob.")
    )


async def _view(acc, contract, method, args):
    return (await acc.view_function(contract, method, args)).result


def test_storage_deposit_and_ft_transfer(fresh_devnet):
    user, tokens, _ = _ids(fresh_devnet)
    bob_id = _other_user(fresh_devnet, user)
    usdc = tokens["USDC"]

    async def scenario():
        alice = await near_account(fresh_devnet, user)
        bounds = await _view(alice, usdc, "storage_balance_bounds", {})
        before = await _view(alice, usdc, "ft_balance_of", {"account_id": user})
        unregistered = await alice.function_call(
            usdc, "ft_transfer", {"receiver_id": bob_id, "amount": "1"}, amount=1
        )
        registered = await alice.function_call(
            usdc, "storage_deposit", {"account_id": bob_id}, amount=int(bounds["min"])
        )
        sent = await alice.function_call(
            usdc, "ft_transfer", {"receiver_id": bob_id, "amount": "10000000"}, amount=1
        )
        after = await _view(alice, usdc, "ft_balance_of", {"account_id": user})
        bob_balance = await _view(alice, usdc, "ft_balance_of", {"account_id": bob_id})
        await alice.shutdown()
        return unregistered, registered, sent, int(before), int(after), int(bob_balance)

    unregistered, registered, sent, before, after, bob_balance = asyncio.run(scenario())
    assert "Failure" in unregistered.status  # bob was not registered yet
    assert "SuccessValue" in registered.status and "SuccessValue" in sent.status
    assert after == before - 10_000_000
    assert bob_balance == 10_000_000
    assert any(log.startswith("EVENT_JSON:") for r in sent.receipt_outcome for log in r.logs)


def test_wrap_and_unwrap_near(fresh_devnet):
    user, tokens, _ = _ids(fresh_devnet)
    bob_id = _other_user(fresh_devnet, user)
    wrap = tokens["wNEAR"]

    async def scenario():
        bob = await near_account(fresh_devnet, bob_id)
        bounds = await _view(bob, wrap, "storage_balance_bounds", {})
        start = balance(fresh_devnet, bob_id)
        outcomes = [
            await bob.function_call(wrap, "storage_deposit", {}, amount=int(bounds["min"])),
            await bob.function_call(wrap, "near_deposit", {}, amount=3 * NEAR),
            await bob.function_call(wrap, "near_withdraw", {"amount": str(NEAR)}, amount=1),
        ]
        wrapped = await _view(bob, wrap, "ft_balance_of", {"account_id": bob_id})
        await bob.shutdown()
        return int(bounds["min"]), start, outcomes, int(wrapped)

    storage, start, outcomes, wrapped = asyncio.run(scenario())
    for outcome in outcomes:
        assert "SuccessValue" in outcome.status
        assert all("Failure" not in r.status for r in outcome.receipt_outcome)
    assert wrapped == 2 * NEAR
    burnt = sum(total_burnt(o) for o in outcomes)
    assert balance(fresh_devnet, bob_id) == start - storage - 3 * NEAR + NEAR - 1 - burnt


def _swap_msg(pool_id, token_in, token_out, amount_in, min_out):
    return json.dumps(
        {
            "actions": [
                {
                    "pool_id": pool_id,
                    "token_in": token_in,
                    "token_out": token_out,
                    "amount_in": str(amount_in),
                    "min_amount_out": str(min_out),
                }
            ]
        }
    )


def _expected_out(amount_in, reserve_in, reserve_out, fee_bps):
    with_fee = amount_in * (FEE_DIVISOR - fee_bps)
    return with_fee * reserve_out // (FEE_DIVISOR * reserve_in + with_fee)


def _pool_for(node, token_in, token_out):
    for pool in node.manifest["exchange"]["pools"]:
        if pool["token_account_ids"] == [token_out, token_in] or pool["token_account_ids"] == [
            token_in,
            token_out,
        ]:
            return pool["pool_id"]
    raise LookupError((token_in, token_out))


def test_swap_output_is_constant_product_with_fee(fresh_devnet):
    user, tokens, exchange = _ids(fresh_devnet)
    usdc, wrap = tokens["USDC"], tokens["wNEAR"]
    pool_id = _pool_for(fresh_devnet, usdc, wrap)
    amount_in = 100 * 10**6

    async def scenario():
        alice = await near_account(fresh_devnet, user)
        pool = await _view(alice, exchange, "get_pool", {"pool_id": pool_id})
        quoted = await _view(
            alice,
            exchange,
            "get_return",
            {"pool_id": pool_id, "token_in": usdc, "amount_in": str(amount_in), "token_out": wrap},
        )
        before = [
            int(await _view(alice, t, "ft_balance_of", {"account_id": user})) for t in (usdc, wrap)
        ]
        outcome = await alice.function_call(
            usdc,
            "ft_transfer_call",
            {
                "receiver_id": exchange,
                "amount": str(amount_in),
                "msg": _swap_msg(pool_id, usdc, wrap, amount_in, 1),
            },
            gas=180 * 10**12,
            amount=1,
        )
        after = [
            int(await _view(alice, t, "ft_balance_of", {"account_id": user})) for t in (usdc, wrap)
        ]
        await alice.shutdown()
        return pool, int(quoted), before, outcome, after

    pool, quoted, before, outcome, after = asyncio.run(scenario())
    index_in = pool["token_account_ids"].index(usdc)
    reserve_in = int(pool["amounts"][index_in])
    reserve_out = int(pool["amounts"][1 - index_in])
    expected = _expected_out(amount_in, reserve_in, reserve_out, pool["total_fee"])
    assert expected > 0
    assert quoted == expected
    assert all("Failure" not in r.status for r in outcome.receipt_outcome), outcome.status
    assert json.loads(base64.b64decode(outcome.status["SuccessValue"])) == str(amount_in)
    assert after[0] == before[0] - amount_in
    assert after[1] == before[1] + expected


def test_swap_below_min_amount_out_refunds_input(fresh_devnet):
    user, tokens, exchange = _ids(fresh_devnet)
    usdc, wrap = tokens["USDC"], tokens["wNEAR"]
    pool_id = _pool_for(fresh_devnet, usdc, wrap)
    amount_in = 100 * 10**6

    async def scenario():
        alice = await near_account(fresh_devnet, user)
        pool_before = await _view(alice, exchange, "get_pool", {"pool_id": pool_id})
        before = [
            int(await _view(alice, t, "ft_balance_of", {"account_id": user})) for t in (usdc, wrap)
        ]
        outcome = await alice.function_call(
            usdc,
            "ft_transfer_call",
            {
                "receiver_id": exchange,
                "amount": str(amount_in),
                "msg": _swap_msg(pool_id, usdc, wrap, amount_in, 10**30),
            },
            gas=180 * 10**12,
            amount=1,
        )
        after = [
            int(await _view(alice, t, "ft_balance_of", {"account_id": user})) for t in (usdc, wrap)
        ]
        pool_after = await _view(alice, exchange, "get_pool", {"pool_id": pool_id})
        await alice.shutdown()
        return outcome, before, after, pool_before, pool_after

    outcome, before, after, pool_before, pool_after = asyncio.run(scenario())
    # the transaction succeeds (ft_resolve_transfer refunded everything: used amount "0")
    assert json.loads(base64.b64decode(outcome.status["SuccessValue"])) == "0"
    failures = [r for r in outcome.receipt_outcome if "Failure" in r.status]
    assert len(failures) == 1
    assert (
        "ExecutionError"
        in failures[0].status["Failure"]["ActionError"]["kind"]["FunctionCallError"]
    )
    assert after == before
    assert pool_after["amounts"] == pool_before["amounts"]
