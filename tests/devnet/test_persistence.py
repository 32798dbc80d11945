"""A state dir keeps the whole chain across restarts; reset starts a new one."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path

import base58
import pytest

from devnet.server import manifest_path, start_devnet
from tests.devnet.helpers import NEAR, balance, near_account, rpc, small_genesis
from tests.devnet.sample_contracts import SAMPLE_CONTRACTS
from tools.keypair import KeyPair


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
        balances = {
            a: balance(node, a)
            for a in ("alice.devnet", "bob.devnet", "sub.alice.devnet", "counter.devnet")
        }
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
        assert (
            rpc(
                again,
                "tx",
                {"tx_hash": created.transaction.hash, "sender_account_id": "alice.devnet"},
            )["result"]["status"]
            == created.status
        )
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
    fresh = start_devnet(state_dir, genesis=small_genesis(), reset=True, contracts=SAMPLE_CONTRACTS)
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
        body = json.loads(Path(entry["key_file"]).read_text())
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


def test_a_journal_that_does_not_replay_is_refused(tmp_path):
    from devnet.server import ReplayError

    state_dir = tmp_path / "chain"
    node = start_devnet(state_dir, genesis=small_genesis(), contracts=SAMPLE_CONTRACTS)

    async def scenario():
        alice = await near_account(node, "alice.devnet")
        await alice.send_money("bob.devnet", 5)
        await alice.shutdown()

    try:
        asyncio.run(scenario())
    finally:
        node.stop()
    journal = state_dir / "blocks.jsonl"
    journal.write_bytes(journal.read_bytes() * 2)  # the same block twice
    with pytest.raises(ReplayError, match="reset"):
        start_devnet(state_dir, contracts=SAMPLE_CONTRACTS)


def test_no_acknowledged_transaction_is_lost_when_stopped_under_load(tmp_path):
    state_dir = tmp_path / "chain"
    node = start_devnet(state_dir, genesis=small_genesis(), contracts=SAMPLE_CONTRACTS)
    keys = [KeyPair.generate() for _ in range(6)]

    async def setup():
        root = await near_account(node, "devnet")
        for i, pair in enumerate(keys):
            await root.create_account(f"l{i}.devnet", pair.public_key, 10 * NEAR)
        await root.shutdown()

    acknowledged: list[str] = []

    async def load():
        clients = [
            await near_account(node, f"l{i}.devnet", pair.secret_key) for i, pair in enumerate(keys)
        ]

        async def worker(acc):
            while True:
                try:
                    outcome = await acc.send_money("bob.devnet", 1)
                except Exception:
                    return
                acknowledged.append(outcome.transaction.hash)

        tasks = [asyncio.create_task(worker(c)) for c in clients]
        await asyncio.sleep(1.0)
        await asyncio.to_thread(node.stop)
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        for c in clients:
            await c.shutdown()

    asyncio.run(setup())
    asyncio.run(load())
    assert len(acknowledged) > 10
    again = start_devnet(state_dir, contracts=SAMPLE_CONTRACTS)
    try:
        for tx_hash in acknowledged:
            assert again.runtime.find_tx(base58.b58decode(tx_hash)) is not None
    finally:
        again.stop()
