"""Malformed requests get JSON-RPC errors, change nothing, and the node keeps serving."""

from __future__ import annotations

import base64
import json

import base58
from py_near import transactions

from tests.devnet.helpers import NEAR, balance, rpc, secret_of, signed_by_alice


def _good_tx(net):
    return signed_by_alice(net, "bob.devnet", [transactions.create_transfer_action(NEAR)])


def _snapshot(net):
    """The transactions the chain included and two balances (blocks come whatever is sent)."""
    net.settle()
    return (len(net.runtime.txs), balance(net, "alice.devnet"), balance(net, "bob.devnet"))


def test_bad_requests_get_errors_and_change_nothing(net):
    before = _snapshot(net)
    good = _good_tx(net)
    raw = base64.b64decode(good)
    cases = {
        "bad json": (None, b"{not json"),
        "not an object": (None, b"[1, 2, 3]"),
        "unknown method": ("no_such_method", None),
        "bad base64": ("broadcast_tx_commit", ["!!!not base64!!!"]),
        "truncated borsh": ("broadcast_tx_commit", [base64.b64encode(raw[:-10]).decode()]),
        "trailing bytes": ("broadcast_tx_commit", [base64.b64encode(raw + b"\0").decode()]),
        "empty": ("broadcast_tx_commit", [""]),
        "number instead of tx": ("send_tx", {"signed_tx_base64": 5}),
        "bad wait_until": ("send_tx", {"signed_tx_base64": good, "wait_until": "SOON"}),
        "query not an object": ("query", ["account/alice.devnet"]),
        "query bad type": (
            "query",
            {"request_type": "view_everything", "account_id": "alice.devnet", "finality": "final"},
        ),
        "query bad finality": (
            "query",
            {"request_type": "view_account", "account_id": "alice.devnet", "finality": "soon"},
        ),
        "bad public key": (
            "query",
            {
                "request_type": "view_access_key",
                "finality": "final",
                "account_id": "alice.devnet",
                "public_key": "ed25519:0OIl",
            },
        ),
        "bad args base64": (
            "query",
            {
                "request_type": "call_function",
                "finality": "final",
                "account_id": "counter.devnet",
                "method_name": "get",
                "args_base64": "%%%",
            },
        ),
        "bad tx hash": ("tx", ["not-a-hash", "alice.devnet"]),
        "too many params": ("tx", ["a", "b", "c", "d"]),
        "bad block id": ("block", [{"x": 1}]),
    }
    for name, (method, params) in cases.items():
        response = rpc(net, "", None, raw=params) if method is None else rpc(net, method, params)
        assert "error" in response, name
        error = response["error"]
        assert {"name", "cause", "code", "message", "data"} <= set(error), name
        assert error["cause"]["name"] in {"PARSE_ERROR", "METHOD_NOT_FOUND"}, (name, error)
    oversize = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": "x",
            "method": "broadcast_tx_commit",
            "params": ["A" * (5 * 1024 * 1024)],
        }
    ).encode()
    response = rpc(net, "", None, raw=oversize)
    assert response["error"]["cause"]["name"] == "PARSE_ERROR"
    assert _snapshot(net) == before
    # the node still serves, and the good transaction still goes through
    assert "result" in rpc(net, "broadcast_tx_commit", [good])
    assert balance(net, "bob.devnet") == before[2] + NEAR


def test_unsupported_actions_are_refused(net):
    secret = secret_of(net, "alice.devnet")
    pk = base58.b58decode(secret.split(":")[1])
    head = rpc(net, "status", [])["result"]["sync_info"]["latest_block_hash"]
    tx = transactions.sign_and_serialize_transaction(
        "alice.devnet",
        pk,
        "alice.devnet",
        10**15,
        [transactions.create_staking_action(NEAR, pk[32:])],
        base58.b58decode(head),
    )
    before = _snapshot(net)
    error = rpc(net, "broadcast_tx_commit", [tx])["error"]
    invalid = error["data"]["TxExecutionError"]["InvalidTxError"]
    assert invalid["ActionsValidation"]["UnsupportedProtocolFeature"]["protocol_feature"] == "Stake"
    assert _snapshot(net) == before


def test_unknown_block_hash_is_expired(net):
    secret = secret_of(net, "alice.devnet")
    pk = base58.b58decode(secret.split(":")[1])
    tx = transactions.sign_and_serialize_transaction(
        "alice.devnet",
        pk,
        "bob.devnet",
        10**15,
        [transactions.create_transfer_action(1)],
        bytes(range(32)),
    )
    error = rpc(net, "broadcast_tx_commit", [tx])["error"]
    assert error["data"] == {"TxExecutionError": {"InvalidTxError": "Expired"}}


def test_async_broadcast_of_an_invalid_tx_is_never_found(net):
    secret = secret_of(net, "alice.devnet")
    pk = base58.b58decode(secret.split(":")[1])
    head = rpc(net, "status", [])["result"]["sync_info"]["latest_block_hash"]
    tx = transactions.sign_and_serialize_transaction(
        "alice.devnet",
        pk,
        "bob.devnet",
        0,
        [transactions.create_transfer_action(1)],
        base58.b58decode(head),
    )  # nonce 0 is never above the key's nonce
    before = _snapshot(net)
    tx_hash = rpc(net, "broadcast_tx_async", [tx])["result"]
    lookup = {"tx_hash": tx_hash, "sender_account_id": "alice.devnet", "wait_until": "NONE"}
    assert rpc(net, "tx", lookup)["error"]["cause"]["name"] == "UNKNOWN_TRANSACTION"
    # nearcore's send_tx with NONE is send_tx_async: answered at once, the transaction unchecked
    none = rpc(net, "send_tx", {"signed_tx_base64": tx, "wait_until": "NONE"})["result"]
    assert none == {"final_execution_status": "NONE"}
    nonce_error = rpc(net, "send_tx", {"signed_tx_base64": tx, "wait_until": "INCLUDED"})["error"]
    assert "InvalidNonce" in nonce_error["data"]["TxExecutionError"]["InvalidTxError"]
    assert rpc(net, "tx", lookup)["error"]["cause"]["name"] == "UNKNOWN_TRANSACTION"
    assert _snapshot(net) == before


def test_large_valid_request_is_read_whole(net):
    args = json.dumps({"by": 1, "padding": "x" * (2 * 1024 * 1024)}).encode()
    tx = signed_by_alice(
        net,
        "counter.devnet",
        [transactions.create_function_call_action("increment", args, 30 * 10**12, 0)],
    )
    outcome = rpc(net, "broadcast_tx_commit", [tx])["result"]
    # the whole 2.7 MB request arrived: the contract saw the unknown argument and refused it
    assert "Failed to deserialize" in json.dumps(outcome["status"])


def test_chunked_oversize_body_is_refused(net):
    import http.client
    from urllib.parse import urlparse

    url = urlparse(net.rpc_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    head = b'{"jsonrpc":"2.0","id":"c","method":"status","params":["'

    def chunks():
        yield head
        for _ in range(5):
            yield b"A" * (1024 * 1024)
        yield b'"]}'

    conn.request(
        "POST",
        "/",
        body=chunks(),
        headers={"Content-Type": "application/json"},
        encode_chunked=True,
    )
    response = json.loads(conn.getresponse().read())
    conn.close()
    assert response["error"]["cause"]["name"] == "PARSE_ERROR"
    assert "result" in rpc(net, "status", [])
