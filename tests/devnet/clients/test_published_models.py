"""The methods other clients call, against near-jsonrpc-client's models of nearcore's answers.

No node needed: near_jsonrpc_models is a test dependency of this project (pyproject's test extra).
"""

from __future__ import annotations

import asyncio

import near_jsonrpc_models as m

from tests.devnet.helpers import NEAR, near_account, rpc, secret_of
from tools.keypair import KeyPair


def _transfer(net) -> dict:
    async def scenario():
        alice = await near_account(net, "alice.devnet")
        outcome = await alice.send_money("bob.devnet", NEAR)
        await alice.shutdown()
        return outcome

    outcome = asyncio.run(scenario())
    return rpc(
        net, "tx", {"tx_hash": outcome.transaction.hash, "sender_account_id": "alice.devnet"}
    )


def secret_public(net, account_id: str) -> str:
    """The public key of an account's genesis key."""
    return KeyPair.from_secret_key(secret_of(net, account_id)).public_key


def _result(model, response: dict) -> dict:
    model.model_validate(response)
    assert "result" in response, response
    return response["result"]


def _error(model, response: dict) -> dict:
    model.model_validate(response)
    assert "error" in response, response
    return response["error"]


def test_new_methods_validate_against_the_published_models(net):
    sent = _transfer(net)["result"]
    block_hash = sent["transaction_outcome"]["block_hash"]
    block = rpc(net, "block", {"block_id": block_hash})["result"]
    assert block["header"]["rent_paid"] == "0" and block["header"]["validator_reward"] == "0"
    assert block["chunks"][0]["rent_paid"] == "0"

    chunk_model = m.JsonRpcResponseForRpcChunkResponseAndRpcChunkError
    by_hash = _result(
        chunk_model, rpc(net, "chunk", {"chunk_id": block["chunks"][0]["chunk_hash"]})
    )
    by_block = _result(chunk_model, rpc(net, "chunk", [[block["header"]["height"], 0]]))
    assert by_hash == by_block
    assert [t["hash"] for t in by_hash["transactions"]] == [sent["transaction"]["hash"]]

    receipt_id = sent["receipts_outcome"][0]["id"]
    receipt = _result(
        m.JsonRpcResponseForRpcReceiptResponseAndRpcReceiptError,
        rpc(net, "EXPERIMENTAL_receipt", {"receipt_id": receipt_id}),
    )
    assert receipt["receipt_id"] == receipt_id and receipt["receiver_id"] == "bob.devnet"

    config = _result(
        m.JsonRpcResponseForRpcProtocolConfigResponseAndRpcProtocolConfigError,
        rpc(net, "EXPERIMENTAL_protocol_config", {"finality": "final"}),
    )
    assert config["runtime_config"]["storage_amount_per_byte"] == str(10**19)
    assert config["chain_id"] == rpc(net, "status", [])["result"]["chain_id"]

    validators = _result(
        m.JsonRpcResponseForRpcValidatorResponseAndRpcValidatorError,
        rpc(net, "validators", [None]),
    )
    assert [v["account_id"] for v in validators["current_validators"]] == ["devnet"]

    # bob's balance changed where the transfer's receipt ran: a block after the transaction's
    receipt_block = sent["receipts_outcome"][0]["block_hash"]
    assert (
        rpc(net, "block", {"block_id": receipt_block})["result"]["header"]["height"]
        > (block["header"]["height"])
    )
    net.settle()
    changes = _result(
        m.JsonRpcResponseForRpcStateChangesInBlockResponseAndRpcStateChangesError,
        rpc(
            net,
            "EXPERIMENTAL_changes",
            {
                "changes_type": "account_changes",
                "account_ids": ["bob.devnet"],
                "block_id": receipt_block,
            },
        ),
    )
    bob = rpc(
        net,
        "query",
        {"request_type": "view_account", "account_id": "bob.devnet", "finality": "final"},
    )
    assert [c["change"]["amount"] for c in changes["changes"]] == [bob["result"]["amount"]]
    assert changes["changes"][0]["cause"] == {
        "type": "receipt_processing",
        "receipt_hash": receipt_id,
    }
    touched = _result(
        m.JsonRpcResponseForRpcStateChangesInBlockByTypeResponseAndRpcStateChangesError,
        rpc(net, "EXPERIMENTAL_changes_in_block", {"block_id": block_hash}),
    )
    assert {c["account_id"] for c in touched["changes"]} == {"alice.devnet"}
    touched = rpc(net, "EXPERIMENTAL_changes_in_block", {"block_id": receipt_block})["result"]
    assert "bob.devnet" in {c["account_id"] for c in touched["changes"]}


def test_unknown_receipts_chunks_and_shards_are_nearcore_errors(net):
    missing = "11111111111111111111111111111111"
    receipt = _error(
        m.JsonRpcResponseForRpcReceiptResponseAndRpcReceiptError,
        rpc(net, "EXPERIMENTAL_receipt", {"receipt_id": missing}),
    )
    assert receipt["cause"] == {"name": "UNKNOWN_RECEIPT", "info": {"receipt_id": missing}}
    chunk_model = m.JsonRpcResponseForRpcChunkResponseAndRpcChunkError
    chunk = _error(chunk_model, rpc(net, "chunk", {"chunk_id": missing}))
    assert chunk["cause"] == {"name": "UNKNOWN_CHUNK", "info": {"chunk_hash": missing}}
    shard = _error(chunk_model, rpc(net, "chunk", {"block_id": 1, "shard_id": 3}))
    assert shard["cause"] == {"name": "INVALID_SHARD_ID", "info": {"shard_id": 3}}


def test_access_key_changes_of_a_block(net):
    new_key = KeyPair.generate()

    async def scenario():
        alice = await near_account(net, "alice.devnet")
        added = await alice.add_full_access_public_key(new_key.public_key)
        deleted = await alice.delete_public_key(new_key.public_key)
        await alice.shutdown()
        return added, deleted

    added, deleted = asyncio.run(scenario())
    model = m.JsonRpcResponseForRpcStateChangesInBlockResponseAndRpcStateChangesError
    signer = secret_public(net, "alice.devnet")

    def changes(outcome, **params):
        status = {"tx_hash": outcome.transaction.hash, "sender_account_id": "alice.devnet"}
        block = rpc(net, "tx", status)["result"]["transaction_outcome"]["block_hash"]
        return _result(model, rpc(net, "EXPERIMENTAL_changes", {"block_id": block, **params}))[
            "changes"
        ]

    in_add = changes(added, changes_type="all_access_key_changes", account_ids=["alice.devnet"])
    by_key = {c["change"]["public_key"]: c for c in in_add}
    assert by_key[new_key.public_key]["type"] == "access_key_update"
    assert by_key[new_key.public_key]["cause"]["type"] == "receipt_processing"
    assert by_key[new_key.public_key]["change"]["access_key"]["permission"] == "FullAccess"
    assert by_key[signer]["cause"] == {
        "type": "transaction_processing",
        "tx_hash": added.transaction.hash,
    }
    assert by_key[signer]["change"]["access_key"]["nonce"] == added.transaction.nonce
    single = changes(
        deleted,
        changes_type="single_access_key_changes",
        keys=[{"account_id": "alice.devnet", "public_key": new_key.public_key}],
    )
    assert [(c["type"], c["change"]["public_key"]) for c in single] == [
        ("access_key_deletion", new_key.public_key)
    ]
