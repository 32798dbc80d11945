"""A state dir keeps the whole chain across restarts; reset starts a new one."""

from __future__ import annotations

import asyncio
import json
import os
import stat

from devnet.keys import KeyPair
from devnet.server import manifest_path, start_devnet
from tests.devnet.helpers import NEAR, balance, near_account, rpc, small_genesis
from tests.devnet.sample_contracts import SAMPLE_CONTRACTS


def test_restart_keeps_accounts_balances_keys_state_and_txs(tmp_path):
    state_dir = tmp_path / "chain"
    new_key = KeyPair.generate()
    node = start_devnet(state_dir, genesis=small_genesis(), contracts=SAMPLE_CONTRACTS)

    async def scenario():
        alice = await near_account(node, "alice.devnet")
        created = await alice.create_account("sub.alice.devnet", new_key.public_key, NEAR)
        called = await alice.function_call("counter.devnet", "increment", {"by": 9})
        sent = await alice.send_money("bob.devnet", 12345)
        await alice.shutdown()
        return created, called, sent

    try:
        created, called, sent = asyncio.run(scenario())
        balances = {a: balance(node, a) for a in ("alice.devnet", "bob.devnet",
                                                  "sub.alice.devnet", "counter.devnet")}
        head = node.runtime.head.height
        tx_view = rpc(node, "tx", [sent.transaction.hash, "alice.devnet"])["result"]
        manifest = dict(node.manifest)
    finally:
        node.stop()

    again = start_devnet(state_dir, contracts=SAMPLE_CONTRACTS)
    try:
        assert again.runtime.head.height == head
        assert {a: balance(again, a) for a in balances} == balances
        assert rpc(again, "tx", [sent.transaction.hash, "alice.devnet"])["result"] == tx_view
        assert rpc(again, "tx", {"tx_hash": created.transaction.hash,
                                 "sender_account_id": "alice.devnet"})["result"]["status"] \
            == created.status
        assert again.manifest["accounts"] == manifest["accounts"]

        async def after():
            sub = await near_account(again, "sub.alice.devnet", new_key.secret_key)
            out = await sub.function_call("counter.devnet", "increment", {"by": 1})
            await sub.shutdown()
            return out

        assert asyncio.run(after()).status == {"SuccessValue": "MTA="}  # "10"
    finally:
        again.stop()


def test_reset_starts_a_new_chain(tmp_path):
    state_dir = tmp_path / "chain"
    node = start_devnet(state_dir, genesis=small_genesis(), contracts=SAMPLE_CONTRACTS)

    async def scenario():
        alice = await near_account(node, "alice.devnet")
        await alice.send_money("bob.devnet", NEAR)
        await alice.shutdown()

    try:
        asyncio.run(scenario())
        old_key = node.manifest["accounts"][0]["public_key"]
    finally:
        node.stop()
    fresh = start_devnet(state_dir, genesis=small_genesis(), reset=True,
                         contracts=SAMPLE_CONTRACTS)
    try:
        assert fresh.runtime.head.height == 1
        assert balance(fresh, "bob.devnet") == 100 * NEAR
        assert fresh.manifest["accounts"][0]["public_key"] != old_key
    finally:
        fresh.stop()


def test_manifest_and_key_files(net):
    manifest = json.loads(manifest_path(net.state_dir).read_text())
    assert manifest["rpc_url"] == net.rpc_url
    assert manifest["network_id"] == "devnet"
    assert manifest["chain_id"] == "devnet"
    assert manifest["sample"] is True  # genesis.manifest is merged in
    for entry in manifest["accounts"]:
        assert os.path.isabs(entry["key_file"])
        mode = stat.S_IMODE(os.stat(entry["key_file"]).st_mode)
        assert mode == 0o600
        body = json.loads(open(entry["key_file"]).read())
        assert body["account_id"] == entry["account_id"]
        assert body["public_key"] == entry["public_key"]
        assert KeyPair.from_secret_key(body["private_key"]).public_key == entry["public_key"]


def test_torn_journal_tail_is_ignored(tmp_path):
    state_dir = tmp_path / "chain"
    node = start_devnet(state_dir, genesis=small_genesis(), contracts=SAMPLE_CONTRACTS)

    async def scenario():
        alice = await near_account(node, "alice.devnet")
        await alice.send_money("bob.devnet", 5)
        await alice.shutdown()

    try:
        asyncio.run(scenario())
        bob = balance(node, "bob.devnet")
    finally:
        node.stop()
    with open(state_dir / "blocks.jsonl", "ab") as fh:
        fh.write(b'{"t": 1, "txs": ["AAA')  # a crash in the middle of a write
    again = start_devnet(state_dir, contracts=SAMPLE_CONTRACTS)
    try:
        assert balance(again, "bob.devnet") == bob

        async def more():
            alice = await near_account(again, "alice.devnet")
            await alice.send_money("bob.devnet", 5)
            await alice.shutdown()

        asyncio.run(more())
        assert balance(again, "bob.devnet") == bob + 5
    finally:
        again.stop()
    third = start_devnet(state_dir, contracts=SAMPLE_CONTRACTS)
    try:
        assert balance(third, "bob.devnet") == bob + 5
    finally:
        third.stop()
