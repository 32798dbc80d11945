"""Accounts, transfers and access keys through unchanged py-near, against a real HTTP devnet."""

from __future__ import annotations

import asyncio
import base64

import base58
import pytest
from py_near import transactions
from py_near.exceptions.provider import (
    InvalidAccessKeyError,
    InvalidNonce,
    InvalidSignature,
    InvalidTransactionError,
    NotEnoughBalance,
    UnknownAccount,
)

from tests.devnet.helpers import NEAR, balance, final_receipts, near_account, rpc, total_burnt
from tools.keypair import KeyPair


def test_send_near_moves_exact_amounts(net):
    async def scenario():
        alice = await near_account(net, "alice.devnet")
        before_alice, before_bob = balance(net, "alice.devnet"), balance(net, "bob.devnet")
        outcome = await alice.send_money("bob.devnet", 3 * NEAR)
        await alice.shutdown()
        return outcome, before_alice, before_bob

    outcome, before_alice, before_bob = asyncio.run(scenario())
    assert outcome.status == {"SuccessValue": ""}
    burnt = total_burnt(outcome)
    assert burnt > 0
    assert balance(net, "bob.devnet") == before_bob + 3 * NEAR
    assert balance(net, "alice.devnet") == before_alice - 3 * NEAR - burnt


def test_create_sub_account_with_key_and_balance(net):
    new_key = KeyPair.generate()

    async def scenario():
        alice = await near_account(net, "alice.devnet")
        outcome = await alice.create_account("shop.alice.devnet", new_key.public_key, 2 * NEAR)
        await alice.shutdown()
        shop = await near_account(net, "shop.alice.devnet", new_key.secret_key)
        sent = await shop.send_money("bob.devnet", NEAR // 2)
        keys = await shop.get_access_key_list()
        await shop.shutdown()
        return outcome, sent, keys

    outcome, sent, keys = asyncio.run(scenario())
    assert "SuccessValue" in outcome.status
    assert "SuccessValue" in sent.status
    assert [k.public_key for k in keys] == [new_key.public_key]
    assert balance(net, "shop.alice.devnet") == 2 * NEAR - NEAR // 2 - total_burnt(sent)


def test_only_the_parent_creates_a_sub_account(net):
    async def scenario():
        bob = await near_account(net, "bob.devnet")
        outcome = await bob.create_account("x.alice.devnet", KeyPair.generate().public_key, NEAR)
        top = await bob.create_account("toplevel", KeyPair.generate().public_key, NEAR)
        await bob.shutdown()
        return outcome, top

    before = balance(net, "bob.devnet")
    outcome, top = asyncio.run(scenario())
    kind = outcome.status["Failure"]["ActionError"]["kind"]
    assert kind == {
        "CreateAccountNotAllowed": {"account_id": "x.alice.devnet", "predecessor_id": "bob.devnet"}
    }
    assert "CreateAccountOnlyByRegistrar" in top.status["Failure"]["ActionError"]["kind"]
    # the attached balances came back in refund receipts; only gas was spent
    assert balance(net, "bob.devnet") == before - total_burnt(outcome) - total_burnt(top)
    assert "error" in rpc(
        net,
        "query",
        {"request_type": "view_account", "account_id": "x.alice.devnet", "finality": "final"},
    )


def test_unknown_account_is_reported(net):
    async def scenario():
        alice = await near_account(net, "alice.devnet")
        with pytest.raises(UnknownAccount):
            await alice.get_balance("nobody.devnet")
        outcome = await alice.send_money("nobody.devnet", NEAR)
        await alice.shutdown()
        return outcome

    before = balance(net, "alice.devnet")
    outcome = asyncio.run(scenario())
    assert outcome.status["Failure"]["ActionError"]["kind"] == {
        "AccountDoesNotExist": {"account_id": "nobody.devnet"}
    }
    assert balance(net, "alice.devnet") == before - total_burnt(outcome)


def _refusal(exc):
    """The InvalidTxError payload py-near kept, or its text when py-near kept only that."""
    if exc.error_json:
        return exc.error_json["data"]["TxExecutionError"]["InvalidTxError"]
    return str(exc)


def _signed(acc, receiver, actions, nonce, block_hash):
    pk = acc._signers[0]
    return transactions.sign_and_serialize_transaction(
        acc.account_id, pk, receiver, nonce, actions, base58.b58decode(block_hash)
    )


def test_stale_nonce_gives_invalid_nonce_with_ak_nonce(net):
    async def scenario():
        alice = await near_account(net, "alice.devnet")
        await alice.send_money("bob.devnet", 1)
        key = await alice.get_access_key(alice._signers[0])
        status = await alice.provider.get_status()
        tx = _signed(
            alice,
            "bob.devnet",
            [transactions.create_transfer_action(5)],
            key.nonce,
            status["sync_info"]["latest_block_hash"],
        )
        try:
            await alice.provider.send_tx_and_wait(tx)
        finally:
            await alice.shutdown()

    before = balance(net, "bob.devnet")
    with pytest.raises(InvalidNonce) as info:
        asyncio.run(scenario())
    assert info.value.ak_nonce == info.value.tx_nonce
    assert info.value.ak_nonce >= 1
    assert balance(net, "bob.devnet") == before + 1


def test_bad_signature_is_refused(net):
    async def scenario():
        alice = await near_account(net, "alice.devnet")
        key = await alice.get_access_key(alice._signers[0])
        status = await alice.provider.get_status()
        tx = _signed(
            alice,
            "bob.devnet",
            [transactions.create_transfer_action(NEAR)],
            key.nonce + 1,
            status["sync_info"]["latest_block_hash"],
        )
        raw = bytearray(base64.b64decode(tx))
        raw[-5] ^= 0xFF  # inside the signature
        forged = base64.b64encode(bytes(raw)).decode()
        try:
            await alice.provider.send_tx_and_wait(forged)
        finally:
            await alice.shutdown()

    before = balance(net, "alice.devnet")
    with pytest.raises(InvalidSignature):
        asyncio.run(scenario())
    assert balance(net, "alice.devnet") == before


def test_not_enough_balance_is_refused_with_nearcore_data(net):
    async def scenario():
        alice = await near_account(net, "alice.devnet")
        try:
            await alice.send_money("bob.devnet", 10**6 * NEAR)
        finally:
            await alice.shutdown()

    before = balance(net, "alice.devnet")
    with pytest.raises(NotEnoughBalance) as info:
        asyncio.run(scenario())
    assert info.value.signer_id == "alice.devnet"
    assert int(info.value.balance) == before
    assert int(info.value.cost) > 10**6 * NEAR
    assert balance(net, "alice.devnet") == before


def test_function_call_key_limits(net):
    fc_key = KeyPair.generate()

    async def scenario():
        alice = await near_account(net, "alice.devnet")
        added = await alice.add_public_key(
            fc_key.public_key, "counter.devnet", ["increment"], allowance=NEAR // 4
        )
        await alice.shutdown()
        limited = await near_account(net, "alice.devnet", fc_key.secret_key)
        called = await limited.function_call(
            "counter.devnet", "increment", {"by": 5}, gas=30 * 10**12
        )
        refusals = {}
        attempts = {
            "transfer": limited.send_money("bob.devnet", 1),
            "deposit": limited.function_call("counter.devnet", "increment", {}, amount=1),
            "receiver": limited.function_call("panicker.devnet", "accept", {}),
            "method": limited.function_call("counter.devnet", "donate", {}),
        }
        for name, attempt in attempts.items():
            try:
                await attempt
            except InvalidTransactionError as exc:
                refusals[name] = _refusal(exc)
        await limited.shutdown()
        return added, called, refusals

    added, called, refusals = asyncio.run(scenario())
    assert "SuccessValue" in added.status
    assert called.status == {"SuccessValue": "NQ=="}  # "5"
    # nearcore sends these two as bare strings, which py-near re-raises as the string itself
    assert refusals["transfer"] == "RequiresFullAccess"
    assert refusals["deposit"] == "DepositWithFunctionCall"
    assert refusals["receiver"] == {
        "InvalidAccessKeyError": {
            "ReceiverMismatch": {"tx_receiver": "panicker.devnet", "ak_receiver": "counter.devnet"}
        }
    }
    assert refusals["method"] == {
        "InvalidAccessKeyError": {"MethodNameMismatch": {"method_name": "donate"}}
    }
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
    allowance = int(key["permission"]["FunctionCall"]["allowance"])
    assert 0 < allowance < NEAR // 4  # gas was paid from the allowance


def test_allowance_runs_out(net):
    fc_key = KeyPair.generate()

    async def scenario():
        alice = await near_account(net, "alice.devnet")
        await alice.add_public_key(fc_key.public_key, "counter.devnet", [], allowance=10**15)
        await alice.shutdown()
        limited = await near_account(net, "alice.devnet", fc_key.secret_key)
        try:
            await limited.function_call("counter.devnet", "increment", {})
        finally:
            await limited.shutdown()

    with pytest.raises(InvalidAccessKeyError) as info:
        asyncio.run(scenario())
    refusal = info.value.error_json["data"]["TxExecutionError"]["InvalidTxError"]
    assert refusal["InvalidAccessKeyError"]["NotEnoughAllowance"]["allowance"] == str(10**15)


def test_add_and_delete_key(net):
    extra = KeyPair.generate()

    async def scenario():
        alice = await near_account(net, "alice.devnet")
        await alice.add_full_access_public_key(extra.public_key)
        second = await near_account(net, "alice.devnet", extra.secret_key)
        used = await second.send_money("bob.devnet", 7)
        deleted = await alice.delete_public_key(extra.public_key)
        await alice.shutdown()
        try:
            await second.send_money("bob.devnet", 7)
        except ValueError as exc:  # py-near reads the key first and finds it gone
            refused = str(exc)
        else:
            refused = ""
        await second.shutdown()
        return used, deleted, refused

    used, deleted, refused = asyncio.run(scenario())
    assert "SuccessValue" in used.status and "SuccessValue" in deleted.status
    assert "does not exist while viewing" in refused
    net.settle()
    keys = rpc(
        net,
        "query",
        {"request_type": "view_access_key_list", "account_id": "alice.devnet", "finality": "final"},
    )["result"]
    assert extra.public_key not in [k["public_key"] for k in keys["keys"]]


def test_deleted_key_refused_at_the_node(net):
    extra = KeyPair.generate()

    async def scenario():
        alice = await near_account(net, "alice.devnet")
        await alice.add_full_access_public_key(extra.public_key)
        second = await near_account(net, "alice.devnet", extra.secret_key)
        key = await second.get_access_key(second._signers[0])
        await alice.delete_public_key(extra.public_key)
        status = await alice.provider.get_status()
        await alice.shutdown()
        tx = _signed(
            second,
            "bob.devnet",
            [transactions.create_transfer_action(1)],
            key.nonce + 1,
            status["sync_info"]["latest_block_hash"],
        )
        try:
            await second.provider.send_tx_and_wait(tx)
        finally:
            await second.shutdown()

    with pytest.raises(InvalidAccessKeyError) as info:
        asyncio.run(scenario())
    refusal = info.value.error_json["data"]["TxExecutionError"]["InvalidTxError"]
    assert "AccessKeyNotFound" in refusal["InvalidAccessKeyError"]


def test_new_key_nonce_starts_from_block_height(net):
    extra = KeyPair.generate()

    async def scenario():
        alice = await near_account(net, "alice.devnet")
        outcome = await alice.add_full_access_public_key(extra.public_key)
        await alice.shutdown()
        return outcome

    outcome = asyncio.run(scenario())
    net.settle()
    # the key was added by its receipt, in that receipt's block
    block = net.runtime.block_with_hash(
        base58.b58decode(final_receipts(net, outcome)[0]["block_hash"])
    )
    assert block is not None
    key = rpc(
        net,
        "query",
        {
            "request_type": "view_access_key",
            "account_id": "alice.devnet",
            "public_key": extra.public_key,
            "finality": "final",
        },
    )["result"]
    assert key["nonce"] == (block.height - 1) * 10**6
