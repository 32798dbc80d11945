"""Helpers for the devnet tests: a small genesis, py-near accounts, raw JSON-RPC calls."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from typing import Any

from py_near.account import Account

from devnet.genesis import Genesis, GenesisAccount
from devnet.server import RunningDevnet
from tools.keypair import KeyPair

NEAR = 10**24


def small_genesis() -> Genesis:
    spec = [
        ("devnet", 1_000_000 * NEAR, None),
        ("alice.devnet", 100 * NEAR, None),
        ("bob.devnet", 100 * NEAR, None),
        ("counter.devnet", 10 * NEAR, "test_counter"),
        ("panicker.devnet", 10 * NEAR, "test_panicker"),
        ("caller.devnet", 10 * NEAR, "test_caller"),
    ]
    return Genesis(
        genesis_time_ns=time.time_ns(),
        accounts=[
            GenesisAccount(
                account_id=name,
                balance=balance,
                secret_keys=[KeyPair.generate().secret_key],
                code_name=code,
            )
            for name, balance, code in spec
        ],
        manifest={"sample": True},
    )


def secret_of(node: RunningDevnet, account_id: str) -> str:
    for entry in node.manifest["accounts"]:
        if entry["account_id"] == account_id:
            with open(entry["key_file"]) as fh:
                return json.load(fh)["private_key"]
    raise KeyError(account_id)


async def near_account(node: RunningDevnet, account_id: str, secret: str | None = None) -> Account:
    acc = Account(account_id, secret or secret_of(node, account_id), rpc_addr=node.rpc_url)
    await acc.startup()
    return acc


def rpc(node: RunningDevnet, method: str, params: Any, *, raw: bytes | None = None) -> Any:
    """POST one JSON-RPC request; returns the decoded response envelope."""
    body = (
        raw
        if raw is not None
        else json.dumps({"jsonrpc": "2.0", "id": "t", "method": method, "params": params}).encode()
    )
    request = urllib.request.Request(
        node.rpc_url, data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:  # nearcore sends errors with 400, 408 or 500 too
        with exc:
            body = exc.read()
        try:
            return json.loads(body)
        except ValueError:
            raise exc from None  # not a JSON-RPC answer (an injected fault, a proxy)


def http_status(node: RunningDevnet, method: str, params: Any) -> int:
    """The HTTP status the node answers one JSON-RPC request with."""
    body = json.dumps({"jsonrpc": "2.0", "id": "t", "method": method, "params": params}).encode()
    request = urllib.request.Request(
        node.rpc_url, data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code


def view(node: RunningDevnet, contract: str, method: str, args: dict[str, Any]) -> Any:
    """A contract view over JSON-RPC (``query call_function``), its result decoded from JSON,
    once everything sent has run and is final."""
    node.settle()
    body = rpc(
        node,
        "query",
        {
            "request_type": "call_function",
            "account_id": contract,
            "method_name": method,
            "finality": "final",
            "args_base64": base64.b64encode(json.dumps(args).encode()).decode(),
        },
    )
    result = body["result"]
    assert "error" not in result, result
    return json.loads(bytes(result["result"]))


def final_receipts(node: RunningDevnet, outcome: Any) -> list[dict[str, Any]]:
    """The receipt outcomes of a py-near outcome's transaction once FINAL (py-near's
    broadcast_tx_commit returns at EXECUTED_OPTIMISTIC, before the refunds have run)."""
    tx = outcome.transaction
    lookup = {"tx_hash": tx.hash, "sender_account_id": tx.signer_id, "wait_until": "FINAL"}
    return rpc(node, "tx", lookup)["result"]["receipts_outcome"]


def balance(node: RunningDevnet, account_id: str) -> int:
    """The final balance once everything sent has run and is final."""
    node.settle()
    return int(
        rpc(
            node,
            "query",
            {"request_type": "view_account", "account_id": account_id, "finality": "final"},
        )["result"]["amount"]
    )


def total_burnt(outcome: Any) -> int:
    """tokens_burnt over the transaction and all its receipts (a py-near TransactionResult)."""
    return int(outcome.transaction_outcome.tokens_burnt) + sum(
        int(r.tokens_burnt) for r in outcome.receipt_outcome
    )


def signed_by_alice(
    net: RunningDevnet, receiver_id: str, actions: list[Any], block_hash: str | None = None
) -> str:
    """A base64 transaction from alice.devnet with her next nonce and the latest block hash
    (or ``block_hash``, base58)."""
    import base58
    from py_near import transactions

    secret = secret_of(net, "alice.devnet")
    pk = base58.b58decode(secret.split(":")[1])
    public = base58.b58encode(pk[32:]).decode()
    key = rpc(
        net,
        "query",
        {
            "request_type": "view_access_key",
            "account_id": "alice.devnet",
            "public_key": public,
            "finality": "final",
        },
    )["result"]
    head = block_hash or rpc(net, "status", [])["result"]["sync_info"]["latest_block_hash"]
    return transactions.sign_and_serialize_transaction(
        "alice.devnet", pk, receiver_id, key["nonce"] + 1, actions, base58.b58decode(head)
    )
