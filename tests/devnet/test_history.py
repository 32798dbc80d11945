"""Queries at an older block answer the state as of that block, as nearcore does, for the blocks
the node keeps; an older one is garbage-collected (GARBAGE_COLLECTED_BLOCK for a query, the
error of RpcQueryError in chain/jsonrpc-primitives; UNKNOWN_BLOCK for the block itself)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from devnet.server import RunningDevnet, start_devnet
from tests.devnet.helpers import NEAR, near_account, rpc, small_genesis
from tests.devnet.sample_contracts import SAMPLE_CONTRACTS
from tools.keypair import KeyPair


def _query(net, at, request_type: str, account_id: str, **extra) -> dict:
    params = {"request_type": request_type, "account_id": account_id, **extra}
    params.update({"block_id": at} if at is not None else {"finality": "final"})
    return rpc(net, "query", params)


def _height_of(net, outcome) -> int:
    """The height of the block whose receipt made a py-near transaction's change (the
    transaction's first receipt runs in a later block than the transaction, unless the
    transaction was sent to its own signer)."""
    status = rpc(
        net, "tx", {"tx_hash": outcome.transaction.hash, "sender_account_id": "alice.devnet"}
    )["result"]
    block_hash = status["receipts_outcome"][0]["block_hash"]
    return rpc(net, "block", {"block_id": block_hash})["result"]["header"]["height"]


def _run(net, account_id: str, steps):
    async def scenario():
        acc = await near_account(net, account_id)
        try:
            return [await step(acc) for step in steps]
        finally:
            await acc.shutdown()

    return asyncio.run(scenario())


def test_queries_at_an_older_block_answer_the_state_of_that_block(net):
    key = KeyPair.generate()
    first, second, third = _run(
        net,
        "alice.devnet",
        [
            lambda a: a.send_money("bob.devnet", 3 * NEAR),
            lambda a: a.function_call("counter.devnet", "increment", {"by": 5}),
            lambda a: a.add_full_access_public_key(key.public_key),
        ],
    )
    paid_at = _height_of(net, first)
    counted_at = _height_of(net, second)
    keyed_at = _height_of(net, third)
    assert paid_at < counted_at < keyed_at

    def bob(at):
        return int(_query(net, at, "view_account", "bob.devnet")["result"]["amount"])

    assert bob(paid_at - 1) == 100 * NEAR
    assert bob(paid_at) == 103 * NEAR
    assert bob(None) == 103 * NEAR
    # by hash as well as by height, and the answer names the block asked for
    old = rpc(net, "block", {"block_id": paid_at - 1})["result"]["header"]["hash"]
    answer = _query(net, old, "view_account", "bob.devnet")["result"]
    assert (int(answer["amount"]), answer["block_hash"]) == (100 * NEAR, old)

    def counter(at):
        args = base64.b64encode(b"{}").decode()
        result = _query(
            net, at, "call_function", "counter.devnet", method_name="get", args_base64=args
        )["result"]["result"]
        return json.loads(bytes(result))

    assert counter(counted_at - 1) == 0
    assert counter(counted_at) == 5

    def state(at):
        values = _query(net, at, "view_state", "counter.devnet", prefix_base64="")["result"]
        return {base64.b64decode(v["key"]): v["value"] for v in values["values"]}

    assert state(counted_at - 1) == {}
    assert set(state(counted_at)) == {b"n"}

    def key_answer(at):
        return _query(net, at, "view_access_key", "alice.devnet", public_key=key.public_key)[
            "result"
        ]

    assert "error" in key_answer(keyed_at - 1)  # the key did not exist yet
    assert key_answer(keyed_at)["permission"] == "FullAccess"

    # the block itself: its total supply is what it was then (gas burnt since lowers it); the
    # first transaction was included (and its conversion burnt) a block before its receipt ran
    status = rpc(
        net, "tx", {"tx_hash": first.transaction.hash, "sender_account_id": "alice.devnet"}
    )["result"]
    sent_in = status["transaction_outcome"]["block_hash"]
    sent_at = rpc(net, "block", {"block_id": sent_in})["result"]["header"]["height"]
    supply_then = int(
        rpc(net, "block", {"block_id": sent_at - 1})["result"]["header"]["total_supply"]
    )
    net.settle()  # the final head trails by two blocks: let the last receipts' blocks be final
    supply_now = int(rpc(net, "block", {"finality": "final"})["result"]["header"]["total_supply"])
    burnt = sum(
        int(o.tokens_burnt)
        for outcome in (first, second, third)
        for o in [outcome.transaction_outcome, *outcome.receipt_outcome]
    )
    assert supply_then - supply_now == burnt


@pytest.fixture
def short_memory(tmp_path: Path) -> Iterator[RunningDevnet]:
    """A node that keeps the state of its last 3 blocks only."""
    node = start_devnet(
        tmp_path / "state",
        genesis=small_genesis(),
        reset=True,
        contracts=SAMPLE_CONTRACTS,
        history_blocks=3,
    )
    try:
        yield node
    finally:
        node.stop()


def test_a_query_older_than_the_history_window_is_garbage_collected(short_memory):
    net = short_memory
    outcomes = _run(
        net, "alice.devnet", [lambda a, n=n: a.send_money("bob.devnet", n + 1) for n in range(6)]
    )
    heights = [_height_of(net, o) for o in outcomes]
    assert heights == sorted(set(heights))  # each transfer's receipt in a later block
    net.settle()
    head = net.runtime.head.height

    kept = _query(net, head - 3, "view_account", "bob.devnet")
    paid = sum(n + 1 for n, height in enumerate(heights) if height <= head - 3)
    assert int(kept["result"]["amount"]) == 100 * NEAR + paid

    old_hash = rpc(net, "block", {"block_id": head - 4})["result"]["header"]["hash"]
    for block_id in (head - 4, old_hash):
        error = _query(net, block_id, "view_account", "bob.devnet")["error"]
        assert error["name"] == "HANDLER_ERROR"
        assert error["cause"] == {
            "name": "GARBAGE_COLLECTED_BLOCK",
            "info": {"block_height": head - 4, "block_hash": old_hash},
        }
        assert "garbage collected" in error["data"]


def test_a_garbage_collected_block_is_unknown_and_its_state_gone(net):
    outcomes = _run(net, "alice.devnet", [lambda a: a.send_money("bob.devnet", 1)] * 3)
    first = _height_of(net, outcomes[0])
    net.set_retention(1)  # the endpoint now forgets what is older than one block
    error = rpc(net, "block", {"block_id": first})["error"]
    assert error["cause"]["name"] == "UNKNOWN_BLOCK"
    error = _query(net, first, "view_account", "bob.devnet")["error"]
    assert error["cause"]["name"] == "GARBAGE_COLLECTED_BLOCK"
