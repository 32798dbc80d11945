"""Time on the devnet as on nearcore, through its HTTP server: blocks on an interval, each
receipt hop one block later, a final head two blocks behind, wait_until levels honoured."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import base58
import pytest
from py_near import transactions
from py_near_primitives import DeleteAccountAction

from devnet.server import RunningDevnet, start_devnet
from tests.devnet.helpers import rpc, secret_of, small_genesis
from tests.devnet.sample_contracts import SAMPLE_CONTRACTS
from tools.keypair import KeyPair

NEAR = 10**24
TGAS = 10**12


@pytest.fixture
def slow(tmp_path: Path) -> Iterator[RunningDevnet]:
    """A node with blocks 0.2 s apart: long enough to see each level before the next."""
    node = start_devnet(
        tmp_path / "state",
        genesis=small_genesis(),
        reset=True,
        contracts=SAMPLE_CONTRACTS,
        block_interval_s=0.2,
    )
    try:
        yield node
    finally:
        node.stop()


def _signed(net: RunningDevnet, signer: str, receiver: str, actions: list) -> str:
    secret = secret_of(net, signer)
    pk = base58.b58decode(secret.split(":")[1])
    public = "ed25519:" + base58.b58encode(pk[32:]).decode()
    key = rpc(
        net,
        "query",
        {
            "request_type": "view_access_key",
            "account_id": signer,
            "public_key": public,
            "finality": "optimistic",
        },
    )["result"]
    head = rpc(net, "block", {"finality": "final"})["result"]["header"]["hash"]
    return transactions.sign_and_serialize_transaction(
        signer, pk, receiver, key["nonce"] + 1, actions, base58.b58decode(head)
    )


def _send(net: RunningDevnet, signed: str, wait_until: str) -> dict:
    return rpc(net, "send_tx", {"signed_tx_base64": signed, "wait_until": wait_until})


def _height(net: RunningDevnet, block_hash: str) -> int:
    return rpc(net, "block", {"block_id": block_hash})["result"]["header"]["height"]


def _final(net: RunningDevnet, tx_hash: str, sender: str) -> dict:
    lookup = {"tx_hash": tx_hash, "sender_account_id": sender, "wait_until": "FINAL"}
    return rpc(net, "EXPERIMENTAL_tx_status", lookup)["result"]


def test_each_level_answers_when_it_holds(slow: RunningDevnet) -> None:
    transfer = [transactions.create_transfer_action(NEAR)]
    included = _send(slow, _signed(slow, "alice.devnet", "bob.devnet", transfer), "INCLUDED")
    result = included["result"]
    # answered once included, before its receipt ran: the outcome so far
    assert result["final_execution_status"] == "INCLUDED"
    assert result["status"] == "Started" and result["receipts_outcome"] == []
    tx_hash = result["transaction"]["hash"]
    executed = rpc(
        slow,
        "tx",
        {"tx_hash": tx_hash, "sender_account_id": "alice.devnet", "wait_until": "EXECUTED"},
    )["result"]
    assert executed["final_execution_status"] in ("EXECUTED", "FINAL")
    assert executed["status"] == {"SuccessValue": ""}
    final = _final(slow, tx_hash, "alice.devnet")
    assert final["final_execution_status"] == "FINAL"
    tx_height = _height(slow, final["transaction_outcome"]["block_hash"])
    receipt_height = _height(slow, final["receipts_outcome"][0]["block_hash"])
    assert receipt_height == tx_height + 1  # the transfer's receipt: one block later
    # a FINAL answer means the final head has reached every block it names
    head = rpc(slow, "block", {"finality": "final"})["result"]["header"]["height"]
    assert head >= receipt_height


def test_optimistic_head_is_ahead_of_the_final_one(slow: RunningDevnet) -> None:
    transfer = [transactions.create_transfer_action(1)]
    _send(slow, _signed(slow, "alice.devnet", "bob.devnet", transfer), "FINAL")
    optimistic = rpc(slow, "block", {"finality": "optimistic"})["result"]["header"]
    final_hash = optimistic["last_final_block"]
    assert _height(slow, final_hash) == optimistic["height"] - 2
    assert _height(slow, optimistic["last_ds_final_block"]) == optimistic["height"] - 1
    # a balance changed at the head is seen optimistically before it is final
    sent = _send(slow, _signed(slow, "alice.devnet", "bob.devnet", transfer), "EXECUTED_OPTIMISTIC")
    assert sent["result"]["final_execution_status"] == "EXECUTED_OPTIMISTIC"

    def bob(finality: str) -> int:
        view = {"request_type": "view_account", "account_id": "bob.devnet", "finality": finality}
        return int(rpc(slow, "query", view)["result"]["amount"])

    assert bob("optimistic") == bob("final") + 1


def test_a_cross_contract_call_takes_a_block_per_hop(net: RunningDevnet) -> None:
    args = {"target": "counter.devnet", "method": "increment", "args": {"by": 2}}
    call = transactions.create_function_call_action(
        "relay", json.dumps(args).encode(), 100 * TGAS, 0
    )
    sent = _send(net, _signed(net, "alice.devnet", "caller.devnet", [call]), "INCLUDED")
    final = _final(net, sent["result"]["transaction"]["hash"], "alice.devnet")
    tx_height = _height(net, final["transaction_outcome"]["block_hash"])
    hops = [
        (r["outcome"]["executor_id"], _height(net, r["block_hash"]))
        for r in final["receipts_outcome"]
    ]
    # depth first: the call, the callee, its refund, the callback, its refund, the call's refund
    assert [who for who, _ in hops] == [
        "caller.devnet",
        "counter.devnet",
        "alice.devnet",
        "caller.devnet",
        "alice.devnet",
        "alice.devnet",
    ]
    call_at, callee_at, _, callback_at, _, refund_at = (h for _, h in hops)
    assert tx_height < call_at < callee_at < callback_at
    assert refund_at == call_at + 1  # the caller's unused gas comes back in the next block
    assert [r["receipt_id"] for r in final["receipts"]] == [
        r["id"] for r in final["receipts_outcome"]
    ]


def test_the_node_answers_408_after_its_wait_limit(slow: RunningDevnet) -> None:
    slow.set_tx_wait(0.05)
    transfer = [transactions.create_transfer_action(1)]
    signed = _send(slow, _signed(slow, "alice.devnet", "bob.devnet", transfer), "FINAL")
    assert signed["error"]["cause"]["name"] == "TIMEOUT_ERROR"
    slow.set_tx_wait(5.0)
    raw = _signed(slow, "alice.devnet", "bob.devnet", transfer)
    assert _send(slow, raw, "FINAL")["result"]["final_execution_status"] == "FINAL"


def test_a_deleted_accounts_balance_comes_from_system(net: RunningDevnet) -> None:
    pair = KeyPair.generate()
    create = [
        transactions.create_create_account_action(),
        transactions.create_transfer_action(2 * NEAR),
        transactions.create_full_access_key_action(pair.public_bytes),
    ]
    made = _send(net, _signed(net, "alice.devnet", "gone.alice.devnet", create), "FINAL")
    assert made["result"]["status"] == {"SuccessValue": ""}
    pk = base58.b58decode(pair.secret_key.split(":")[1])
    head = rpc(net, "block", {"finality": "final"})["result"]["header"]["hash"]
    key = rpc(
        net,
        "query",
        {
            "request_type": "view_access_key",
            "account_id": "gone.alice.devnet",
            "public_key": pair.public_key,
            "finality": "final",
        },
    )["result"]
    delete = transactions.sign_and_serialize_transaction(
        "gone.alice.devnet",
        pk,
        "gone.alice.devnet",
        key["nonce"] + 1,
        [DeleteAccountAction("bob.devnet")],
        base58.b58decode(head),
    )
    done = _send(net, delete, "FINAL")["result"]
    payout_id = done["receipts_outcome"][0]["outcome"]["receipt_ids"][0]
    payout = rpc(net, "EXPERIMENTAL_receipt", {"receipt_id": payout_id})["result"]
    # actions.rs, action_delete_account: Receipt::new_balance_refund to the beneficiary
    assert (payout["predecessor_id"], payout["receiver_id"]) == ("system", "bob.devnet")
    assert payout["receipt"]["Action"]["signer_id"] == "system"


def test_changes_name_storage_entries_and_code(net: RunningDevnet) -> None:
    call = transactions.create_function_call_action("increment", b'{"by":3}', 30 * TGAS, 0)
    done = _send(net, _signed(net, "alice.devnet", "counter.devnet", [call]), "FINAL")["result"]
    block = done["receipts_outcome"][0]["block_hash"]
    ask = {"block_id": block, "account_ids": ["counter.devnet"]}
    data = rpc(
        net,
        "EXPERIMENTAL_changes",
        {**ask, "changes_type": "data_changes", "key_prefix_base64": ""},
    )["result"]["changes"]
    assert [(c["type"], base64.b64decode(c["change"]["key_base64"])) for c in data] == [
        ("data_update", b"n")
    ]
    assert json.loads(base64.b64decode(data[0]["change"]["value_base64"])) == 3
    assert data[0]["cause"] == {
        "type": "receipt_processing",
        "receipt_hash": done["receipts_outcome"][0]["id"],
    }
    deploy = [
        transactions.create_create_account_action(),
        transactions.create_transfer_action(5 * NEAR),
        transactions.create_deploy_contract_action(b"pycontract:test_counter"),
    ]
    made = _send(net, _signed(net, "alice.devnet", "code.alice.devnet", deploy), "FINAL")["result"]
    code = rpc(
        net,
        "EXPERIMENTAL_changes",
        {
            "block_id": made["receipts_outcome"][0]["block_hash"],
            "account_ids": ["code.alice.devnet"],
            "changes_type": "contract_code_changes",
        },
    )["result"]["changes"]
    assert [c["type"] for c in code] == ["contract_code_update"]
    assert base64.b64decode(code[0]["change"]["code_base64"]) == b"pycontract:test_counter"


def test_the_devnet_command_takes_a_block_interval_and_history_window(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "agent", "--home", str(tmp_path / "home"), "devnet"]
    bad = subprocess.run(
        [*command, "--block-interval", "soon"], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and "block interval 'soon'" in bad.stderr
    assert "Traceback" not in bad.stderr
    negative = subprocess.run(
        [*command, "--history-blocks", "-1"], capture_output=True, text=True, timeout=60
    )
    assert negative.returncode == 2 and "Traceback" not in negative.stderr
    assert not (tmp_path / "home" / "devnet" / "genesis.json").exists()  # nothing started


def test_a_forged_copy_in_the_same_block_as_the_signed_one_is_refused(slow: RunningDevnet):
    """A copy of a transaction with a forged signature (the same hash: the hash does not cover
    the signature) sent just before the genuine one into the same block is refused, and the
    block holds the genuine signature: nothing about a signature is remembered by hash."""
    busy = _signed(slow, "bob.devnet", "alice.devnet", [transactions.create_transfer_action(1)])
    rpc(slow, "send_tx", {"signed_tx_base64": busy, "wait_until": "INCLUDED"})  # blocks run on
    busy_at = rpc(slow, "block", {"finality": "optimistic"})["result"]["header"]["height"]
    genuine = base64.b64decode(
        _signed(slow, "alice.devnet", "bob.devnet", [transactions.create_transfer_action(5)])
    )
    forged = genuine[:-1] + bytes([genuine[-1] ^ 1])
    for raw in (forged, genuine):  # both in the 0.2 s before the next block
        sent = rpc(
            slow,
            "send_tx",
            {"signed_tx_base64": base64.b64encode(raw).decode(), "wait_until": "NONE"},
        )
        assert sent["result"] == {"final_execution_status": "NONE"}
    tx_hash = base58.b58encode(hashlib.sha256(genuine[:-65]).digest()).decode()
    done = rpc(
        slow, "tx", {"tx_hash": tx_hash, "sender_account_id": "alice.devnet", "wait_until": "FINAL"}
    )["result"]
    assert done["status"] == {"SuccessValue": ""}
    assert done["transaction"]["signature"] == "ed25519:" + base58.b58encode(genuine[-64:]).decode()
    block = rpc(slow, "block", {"block_id": done["transaction_outcome"]["block_hash"]})
    assert block["result"]["header"]["height"] == busy_at + 1  # the forged copy's block too
