"""Gas refunds as nearcore makes them (runtime/runtime/src/lib.rs, refund_unspent_gas_and_deposits):
unused prepaid gas returns to the signer in a receipt from ``system``, a failed receipt's deposit
likewise, and a function-call key's allowance ends up charged only for the gas burnt."""

from __future__ import annotations

import asyncio
import base64
import json

from devnet import gas
from tests.devnet.helpers import NEAR, balance, near_account, rpc
from tools.keypair import KeyPair

CALL_GAS = 100 * gas.TGAS


def _tx_status(net, tx_hash: str, sender: str) -> dict:
    answer = rpc(
        net,
        "EXPERIMENTAL_tx_status",
        {"tx_hash": tx_hash, "sender_account_id": sender, "wait_until": "FINAL"},
    )
    return answer["result"]


def _burnt(status: dict) -> int:
    return int(status["transaction_outcome"]["outcome"]["tokens_burnt"]) + sum(
        int(r["outcome"]["tokens_burnt"]) for r in status["receipts_outcome"]
    )


def _prepaid(method: str, args: bytes, call_gas: int, deposit: int = 0) -> int:
    """What the signer pays for gas when the transaction is accepted: every fee and all
    attached gas (deposits apart)."""
    from devnet.transaction import FunctionCall

    actions = (FunctionCall(method, args, call_gas, deposit),)
    return (gas.send_fee(actions) + gas.receipt_budget(actions)) * gas.GAS_PRICE


def _refunds(status: dict) -> list[dict]:
    return [r for r in status["receipts"] if r["predecessor_id"] == "system"]


def _call(net, account_id: str, method: str, args: dict, deposit: int = 0, secret=None):
    async def scenario():
        acc = await near_account(net, account_id, secret)
        try:
            return await acc.function_call(
                "counter.devnet" if method != "boom" else "panicker.devnet",
                method,
                args,
                gas=CALL_GAS,
                amount=deposit,
            )
        finally:
            await acc.shutdown()

    return asyncio.run(scenario())


def test_unused_gas_comes_back_in_a_refund_receipt_from_system(net):
    before = balance(net, "alice.devnet")
    outcome = _call(net, "alice.devnet", "increment", {"by": 1})
    status = _tx_status(net, outcome.transaction.hash, "alice.devnet")

    refunds = _refunds(status)
    assert len(refunds) == 1
    refund = refunds[0]
    assert refund["receiver_id"] == "alice.devnet"
    action = refund["receipt"]["Action"]
    assert action["signer_id"] == "alice.devnet"  # Receipt::new_gas_refund: signed as the signer
    assert action["gas_price"] == "0"
    (transfer,) = action["actions"]
    refunded = int(transfer["Transfer"]["deposit"])

    # the refund is its own entry of receipts_outcome, named by the call's outcome
    by_id = {r["id"]: r for r in status["receipts_outcome"]}
    call = status["receipts_outcome"][0]
    assert refund["receipt_id"] in call["outcome"]["receipt_ids"]
    refund_outcome = by_id[refund["receipt_id"]]["outcome"]
    assert refund_outcome["executor_id"] == "alice.devnet"
    assert refund_outcome["status"] == {"SuccessValue": ""}
    assert refund_outcome["tokens_burnt"] == "0"

    # the signer paid every fee and all attached gas up front; the refund gives back exactly
    # what was not burnt, so she ends with her balance less the tokens burnt
    args = json.dumps({"by": 1}).encode()
    prepaid = _prepaid("increment", args, CALL_GAS)
    burnt = _burnt(status)
    assert refunded == prepaid - burnt
    assert balance(net, "alice.devnet") == before - burnt


def test_failed_call_refunds_deposit_and_gas_in_two_receipts_from_system(net):
    before = balance(net, "alice.devnet")
    outcome = _call(net, "alice.devnet", "boom", {"note": "x"}, deposit=NEAR)
    status = _tx_status(net, outcome.transaction.hash, "alice.devnet")
    assert "Failure" in status["status"]

    refunds = _refunds(status)
    assert [r["receiver_id"] for r in refunds] == ["alice.devnet", "alice.devnet"]
    deposit_refund, gas_refund = (r["receipt"]["Action"] for r in refunds)
    # Receipt::new_balance_refund: signer system, the empty key, so no allowance is touched
    assert deposit_refund["signer_id"] == "system"
    assert deposit_refund["signer_public_key"] == "ed25519:" + "1" * 32
    assert deposit_refund["actions"] == [{"Transfer": {"deposit": str(NEAR)}}]
    assert gas_refund["signer_id"] == "alice.devnet"
    assert len(status["receipts_outcome"]) == 3
    burnt = _burnt(status)
    prepaid = _prepaid("boom", json.dumps({"note": "x"}).encode(), CALL_GAS, NEAR)
    assert int(gas_refund["actions"][0]["Transfer"]["deposit"]) == prepaid - burnt
    assert balance(net, "alice.devnet") == before - burnt


def test_function_call_key_allowance_pays_only_the_gas_burnt(net):
    allowance = NEAR // 4
    fc_key = KeyPair.generate()

    async def add_key():
        alice = await near_account(net, "alice.devnet")
        try:
            await alice.add_public_key(
                fc_key.public_key, "counter.devnet", ["increment"], allowance=allowance
            )
        finally:
            await alice.shutdown()

    asyncio.run(add_key())
    outcome = _call(net, "alice.devnet", "increment", {"by": 2}, secret=fc_key.secret_key)
    status = _tx_status(net, outcome.transaction.hash, "alice.devnet")
    assert "SuccessValue" in status["status"]
    key = rpc(
        net,
        "query",
        {
            "request_type": "view_access_key",
            "account_id": "alice.devnet",
            "public_key": fc_key.public_key,
            "finality": "final",
        },
    )["result"]
    left = int(key["permission"]["FunctionCall"]["allowance"])
    assert left == allowance - _burnt(status)
    # the gas refund is signed with the function-call key, whose allowance it restored
    (refund,) = _refunds(status)
    assert refund["receipt"]["Action"]["signer_public_key"] == fc_key.public_key
    value = base64.b64decode(status["status"]["SuccessValue"])
    assert json.loads(value) == 2
