"""A devnet driven past its in-memory window answers for old transactions, receipts, blocks
and changes exactly as before, from its archive on disk, and never executes an old
transaction twice."""

from __future__ import annotations

from py_near import transactions

from devnet.runtime import DEFAULT_RECENT_BLOCKS
from devnet.server import start_devnet
from tests.devnet.helpers import balance, rpc, signed_by_alice
from tests.devnet.sample_contracts import SAMPLE_CONTRACTS


def _send_final(net, signed: str) -> dict:
    answer = rpc(net, "send_tx", {"signed_tx_base64": signed, "wait_until": "FINAL"})
    assert "result" in answer, answer
    return answer["result"]


def test_old_records_answer_identically_after_leaving_memory(net):
    first = signed_by_alice(net, "bob.devnet", [transactions.create_transfer_action(7)])
    outcome = _send_final(net, first)
    tx_hash = outcome["transaction"]["hash"]
    height = rpc(net, "block", {"block_id": outcome["transaction_outcome"]["block_hash"]})[
        "result"
    ]["header"]["height"]
    receipt_id = outcome["transaction_outcome"]["outcome"]["receipt_ids"][0]
    status_params = {"tx_hash": tx_hash, "sender_account_id": "alice.devnet"}
    changes_params = {"block_id": height, "changes_type": "account_changes"}
    changes_params["account_ids"] = ["alice.devnet", "bob.devnet"]
    asked = [
        ("tx", status_params),
        ("EXPERIMENTAL_tx_status", status_params),
        ("EXPERIMENTAL_receipt", {"receipt_id": receipt_id}),
        ("block", {"block_id": height}),
        ("chunk", {"block_id": height, "shard_id": 0}),
        ("EXPERIMENTAL_changes", changes_params),
    ]
    before = [rpc(net, method, params) for method, params in asked]
    assert all("result" in answer for answer in before), before

    while net.runtime.head.height <= height + DEFAULT_RECENT_BLOCKS + 2:
        more = signed_by_alice(net, "alice.devnet", [transactions.create_transfer_action(1)])
        _send_final(net, more)
    # the first transaction's records left memory for the archive file
    assert net.runtime.find_recent_tx(bytes(net.runtime.blocks[height - 1].tx_hashes[0])) is None
    assert (net.devnet.state_dir / "archive.sqlite").exists()

    assert [rpc(net, method, params) for method, params in asked] == before

    bob, included = balance(net, "bob.devnet"), len(net.runtime.txs)
    again = _send_final(net, first)  # an identical old transaction: its outcome, not a re-run
    assert again == outcome
    assert balance(net, "bob.devnet") == bob
    assert len(net.runtime.txs) == included

    # a restart replays the journal and rebuilds the archive: the same answers again
    net.stop()
    again_net = start_devnet(net.devnet.state_dir, contracts=SAMPLE_CONTRACTS)
    try:
        assert [rpc(again_net, method, params) for method, params in asked] == before
    finally:
        again_net.stop()


def test_old_blocks_answer_by_hash_and_height_after_leaving_memory(net):
    """A block's header, chunk and transactions are asked for by its height, its hash and its
    chunk's hash; once the block is older than the in-memory window it answers the same from
    the archive, and a transaction may still name it as its reference block."""
    first = signed_by_alice(net, "bob.devnet", [transactions.create_transfer_action(3)])
    outcome = _send_final(net, first)
    block_hash = outcome["transaction_outcome"]["block_hash"]
    block = rpc(net, "block", {"block_id": block_hash})["result"]
    height = block["header"]["height"]
    chunk_id = block["chunks"][0]["chunk_hash"]
    tx_hash = outcome["transaction"]["hash"]
    status_params = {"tx_hash": tx_hash, "sender_account_id": "alice.devnet"}
    asked = [
        ("block", {"block_id": height}),
        ("block", {"block_id": block_hash}),
        ("block", [str(height)]),
        ("chunk", {"chunk_id": chunk_id}),
        ("chunk", [chunk_id]),
        ("chunk", {"block_id": block_hash, "shard_id": 0}),
        ("chunk", [[height, 0]]),
        ("tx", status_params),
        ("EXPERIMENTAL_tx_status", status_params),
        ("EXPERIMENTAL_changes_in_block", {"block_id": block_hash}),
        (
            "EXPERIMENTAL_changes",
            {
                "block_id": block_hash,
                "changes_type": "account_changes",
                "account_ids": ["alice.devnet", "bob.devnet"],
            },
        ),
        (
            "query",
            {"request_type": "view_account", "account_id": "bob.devnet", "block_id": block_hash},
        ),
    ]
    # these answer about the chain today, so long as they know the block they are given
    known = [("validators", {"block_id": block_hash}), ("gas_price", [height])]
    before = [rpc(net, method, params) for method, params in asked]
    assert all("result" in answer for answer in before), before
    assert before[0] == before[1] == before[2] and before[3] == before[4] == before[5]

    while net.runtime.head.height <= height + DEFAULT_RECENT_BLOCKS + 2:
        _send_final(
            net, signed_by_alice(net, "alice.devnet", [transactions.create_transfer_action(1)])
        )
    assert not net.runtime.blocks.in_memory(height)  # on disk only now

    assert [rpc(net, method, params) for method, params in asked] == before
    assert all("result" in rpc(net, method, params) for method, params in known)
    # the block after it still names it as its parent
    child = rpc(net, "block", {"block_id": height + 1})["result"]["header"]
    assert child["prev_hash"] == block_hash
    # an old block hash is still a valid reference for a new transaction, as on nearcore
    late = signed_by_alice(net, "bob.devnet", [transactions.create_transfer_action(2)], block_hash)
    assert _send_final(net, late)["status"] == {"SuccessValue": ""}
    unknown = rpc(net, "block", {"block_id": "1" * 44})
    assert unknown["error"]["cause"]["name"] == "UNKNOWN_BLOCK"

    net.stop()  # a restart rebuilds the archive from the journal: the same answers
    again_net = start_devnet(net.devnet.state_dir, contracts=SAMPLE_CONTRACTS)
    try:
        assert [rpc(again_net, method, params) for method, params in asked] == before
    finally:
        again_net.stop()
