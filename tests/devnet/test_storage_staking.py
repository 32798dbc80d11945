"""Storage staking as nearcore enforces it, through py-near and raw JSON-RPC over HTTP.

nearcore (runtime/runtime/src/verifier.rs, check_storage_stake): an account must hold 10^19
yocto per byte it uses, unless it uses at most 770 bytes (NEP-448); a signer that cannot is
refused the transaction (InvalidTxError LackBalanceForState), a receipt that would leave its
receiver short fails (ActionError LackBalanceForState, no index) and changes nothing.
"""

from __future__ import annotations

import asyncio
import base64
import time

import base58
from hypothesis import given, settings
from hypothesis import strategies as st
from py_near import transactions

from devnet import storage
from devnet.genesis import Genesis, GenesisAccount
from devnet.runtime import Runtime
from devnet.transaction import decode_signed_transaction
from tests.devnet.helpers import NEAR, balance, near_account, rpc, secret_of, total_burnt
from tests.devnet.sample_contracts import SAMPLE_CONTRACTS, Counter
from tools.keypair import KeyPair

STORAGE_PRICE = 10**19
FULL_ACCESS_KEY = 33 + 9 + 40  # borsh(ed25519 key) + borsh(nonce, FullAccess) + 40
CODE = len(b"pycontract:test_counter")


def _usage(net, account_id: str) -> int:
    net.settle()
    view = rpc(
        net,
        "query",
        {"request_type": "view_account", "account_id": account_id, "finality": "final"},
    )
    return view["result"]["storage_usage"]


def test_new_account_with_one_key_uses_182_bytes(net):
    key = KeyPair.generate()

    async def scenario():
        alice = await near_account(net, "alice.devnet")
        await alice.create_account("new.alice.devnet", key.public_key, NEAR)
        await alice.shutdown()

    asyncio.run(scenario())
    assert _usage(net, "new.alice.devnet") == 100 + FULL_ACCESS_KEY == 182
    assert _usage(net, "alice.devnet") == 182  # a genesis account with one key


def test_a_receipt_leaving_its_receiver_short_fails_and_changes_nothing(net):
    """A contract over 770 bytes whose balance covers almost none of it: a call that writes one
    more entry fails LackBalanceForState, its write and its deposit undone."""
    key = KeyPair.generate()
    extra = [KeyPair.generate() for _ in range(6)]

    async def setup():
        bob = await near_account(net, "bob.devnet")
        await bob.create_account("c.bob.devnet", key.public_key, NEAR // 1000)
        await bob.shutdown()
        c = await near_account(net, "c.bob.devnet", key.secret_key)
        await c.deploy_contract(Counter.code())
        for pair in extra:
            await c.add_full_access_public_key(pair.public_key)
        await c.shutdown()

    asyncio.run(setup())
    usage = 100 + 7 * FULL_ACCESS_KEY + CODE
    assert _usage(net, "c.bob.devnet") == usage == 697  # zero-balance: no stake needed

    async def call(method, deposit):
        alice = await near_account(net, "alice.devnet")
        outcome = await alice.function_call("c.bob.devnet", method, {}, amount=deposit)
        await alice.shutdown()
        return outcome

    assert asyncio.run(call("increment", 0)).status == {"SuccessValue": "MQ=="}
    usage += len("n") + len("1") + 40
    assert _usage(net, "c.bob.devnet") == usage == 739  # still free
    before_alice, before_c = balance(net, "alice.devnet"), balance(net, "c.bob.devnet")
    outcome = asyncio.run(call("donate", 1))
    entry = len("donated") + len('"1"') + 40  # 790 bytes in all: over 770
    required = (usage + entry) * STORAGE_PRICE
    assert outcome.status == {
        "Failure": {
            "ActionError": {
                "kind": {
                    "LackBalanceForState": {
                        "account_id": "c.bob.devnet",
                        "amount": str(required - (before_c + 1)),
                    }
                }
            }
        }
    }
    assert _usage(net, "c.bob.devnet") == usage
    assert balance(net, "c.bob.devnet") == before_c
    assert balance(net, "alice.devnet") == before_alice - total_burnt(outcome)


def _signed(net, account_id: str, secret: str, receiver: str, actions, nonce_delta: int = 1):
    pk = base58.b58decode(secret.split(":")[1])
    public = "ed25519:" + base58.b58encode(pk[32:]).decode()
    key = rpc(
        net,
        "query",
        {
            "request_type": "view_access_key",
            "account_id": account_id,
            "public_key": public,
            "finality": "final",
        },
    )["result"]
    head = rpc(net, "status", [])["result"]["sync_info"]["latest_block_hash"]
    raw = transactions.sign_and_serialize_transaction(
        account_id, pk, receiver, key["nonce"] + nonce_delta, actions, base58.b58decode(head)
    )
    return raw if isinstance(raw, str) else base64.b64encode(raw).decode()


def test_a_signer_that_would_be_left_short_is_refused(net):
    """An account over 770 bytes may not spend the balance its storage needs."""
    key = KeyPair.generate()
    extra = [KeyPair.generate() for _ in range(8)]

    async def setup():
        alice = await near_account(net, "alice.devnet")
        await alice.create_account("s.alice.devnet", key.public_key, NEAR // 10)
        await alice.shutdown()
        s = await near_account(net, "s.alice.devnet", key.secret_key)
        for pair in extra:
            await s.add_full_access_public_key(pair.public_key)
        await s.shutdown()

    asyncio.run(setup())
    usage = 100 + 9 * FULL_ACCESS_KEY
    assert _usage(net, "s.alice.devnet") == usage == 838
    held = balance(net, "s.alice.devnet")
    spend = held - usage * STORAGE_PRICE  # leaves too little once the gas is paid too
    signed = _signed(
        net,
        "s.alice.devnet",
        key.secret_key,
        "bob.devnet",
        [transactions.create_transfer_action(spend)],
    )
    answer = rpc(net, "broadcast_tx_commit", [signed])
    error = answer["error"]
    assert error["cause"] == {"name": "INVALID_TRANSACTION", "info": {}}
    refused = error["data"]["TxExecutionError"]["InvalidTxError"]["LackBalanceForState"]
    assert refused["signer_id"] == "s.alice.devnet"
    assert 0 < int(refused["amount"]) < NEAR // 1000  # short by the gas it would pay
    assert balance(net, "s.alice.devnet") == held


def test_a_nonce_at_height_times_a_million_is_too_large(net):
    alice = secret_of(net, "alice.devnet")
    height = rpc(net, "status", [])["result"]["sync_info"]["latest_block_height"]
    upper_bound = (height + 1) * 1_000_000  # the block that would include it
    transfer = [transactions.create_transfer_action(1)]
    pk = base58.b58decode(alice.split(":")[1])
    head = rpc(net, "status", [])["result"]["sync_info"]["latest_block_hash"]
    raw = transactions.sign_and_serialize_transaction(
        "alice.devnet", pk, "bob.devnet", upper_bound, transfer, base58.b58decode(head)
    )
    signed = raw if isinstance(raw, str) else base64.b64encode(raw).decode()
    error = rpc(net, "broadcast_tx_commit", [signed])["error"]
    assert error["data"]["TxExecutionError"]["InvalidTxError"] == {
        "NonceTooLarge": {"tx_nonce": upper_bound, "upper_bound": upper_bound}
    }
    below = transactions.sign_and_serialize_transaction(
        "alice.devnet", pk, "bob.devnet", upper_bound - 1, transfer, base58.b58decode(head)
    )
    below = below if isinstance(below, str) else base64.b64encode(below).decode()
    assert "result" in rpc(net, "broadcast_tx_commit", [below])


# -- the incremental accounting against a recount ------------------------------------------

_PAIR = KeyPair.generate()


def _runtime() -> Runtime:
    genesis = Genesis(
        genesis_time_ns=time.time_ns(),
        accounts=[
            GenesisAccount(
                account_id="u.devnet",
                balance=1_000 * NEAR,
                secret_keys=[_PAIR.secret_key],
                code_name="test_counter",
            )
        ],
    )
    return Runtime(genesis, contracts=SAMPLE_CONTRACTS)


@settings(max_examples=25)
@given(st.lists(st.sampled_from(["increment", "donate", "get"]), min_size=1, max_size=12))
def test_priced_storage_matches_a_recount(calls):
    """Whatever the calls, the bytes an account pays for are those of its entries now."""
    rt = _runtime()
    pk = base58.b58decode(_PAIR.secret_key.split(":")[1])
    for nonce, method in enumerate(calls, start=1):
        action = transactions.create_function_call_action(
            method, b"{}", 30 * 10**12, 1 if method == "donate" else 0
        )
        raw = transactions.sign_and_serialize_transaction(
            "u.devnet", pk, "u.devnet", nonce, [action], rt.head.hash
        )
        raw = base64.b64decode(raw) if isinstance(raw, str) else raw
        rt.apply_block(time.time_ns(), [decode_signed_transaction(raw)])
    acc = rt.accounts["u.devnet"]
    recount = sum(storage.entry_bytes(k, v) for k, v in acc.storage.items())
    assert acc.data_bytes == recount
    assert acc.storage_usage() == 100 + FULL_ACCESS_KEY + CODE + recount
