"""An in-process NEAR node behind the chain client's transport seam, for its unit tests.

One fake for two uses. By default it is a small faithful node: it understands what the client
needs (block, view_account, view_access_key, call_function, send_tx / broadcast_tx_commit, tx),
decodes and verifies the signed bytes with the devnet's own decoder, and applies transactions
holding one Transfer. Faults are consumed one per submission: "drop" (HTTP 503, nothing applied),
"lose" (applied, then the connection is lost), "timeout" (applied, then TIMEOUT_ERROR), "routed"
(applied, then REQUEST_ROUTED), "steal" (dropped, and another transaction takes its nonce).
And any answer can be scripted instead (``replies``): raw bytes, an HTTP status with a body, a
JSON envelope, or a function of the params giving one, so any field of any response can be
malformed. Nothing goes over a socket: the client's real envelope reading
(``tools.transport.read_result``) still parses every byte.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import base58

from devnet.transaction import Transfer, decode_signed_transaction, signature_valid
from tools.chain import ChainClient
from tools.errors import TransientRpcError
from tools.transport import RpcReply

Reply = bytes | RpcReply | dict[str, Any] | Callable[[Any], "bytes | RpcReply | dict[str, Any]"]
SUBMISSIONS = ("send_tx", "broadcast_tx_commit")


def rpc_error(cause: str, info: Any = None, name: str = "HANDLER_ERROR", data: Any = None) -> dict:
    """A JSON-RPC error envelope shaped as nearcore sends it."""
    return {
        "jsonrpc": "2.0",
        "id": "dontcare",
        "error": {
            "name": name,
            "cause": {"name": cause, "info": info or {}},
            "code": -32000,
            "message": "Server error",
            "data": data or cause,
        },
    }


def envelope(result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": "dontcare", "result": result}


def encode_view(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def signed_param(params: Any) -> str:
    return params["signed_tx_base64"] if isinstance(params, dict) else params[0]


@dataclass
class FakeChain:
    """A :class:`tools.transport.RpcTransport`; ``client()`` gives a ChainClient over it."""

    balances: dict[str, int] = field(default_factory=dict)
    nonces: dict[tuple[str, str], int] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    view_results: dict[str, bytes] = field(default_factory=dict)
    replies: dict[str, Reply] = field(default_factory=dict)  # method or request_type -> answer
    txs: dict[str, dict] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)
    applied: int = 0
    submissions: int = 0
    down: bool = False
    fail_receipt: bool = False
    stale_once: bool = False
    resend_gives_invalid_nonce: bool = False  # how some nodes answer a re-sent applied tx
    url: str = "http://fake-chain.invalid"

    def client(self, **kwargs: Any) -> ChainClient:
        return ChainClient(self.url, transport=self, **kwargs)

    async def close(self) -> None:
        pass

    async def request(self, method: str, params: Any) -> RpcReply:
        if self.down:
            return RpcReply(503, b"down")
        key = params.get("request_type", method) if isinstance(params, dict) else method
        self.seen.append(key)
        reply = self.replies.get(key)
        if callable(reply):
            reply = reply(params)
        if reply is None:
            reply = self._submit(params) if method in SUBMISSIONS else self._read(method, params)
        if isinstance(reply, RpcReply):
            return reply
        if isinstance(reply, bytes):
            return RpcReply(200, reply)
        return RpcReply(200, json.dumps(reply).encode())

    def _submit(self, params: Any) -> RpcReply | dict:
        self.submissions += 1
        fault = self.faults.pop(0) if self.faults else None
        if fault == "drop":
            return RpcReply(503, b"dropped")
        signed = base64.b64decode(signed_param(params))
        if fault == "steal":  # another client's transaction takes this nonce first
            tx = decode_signed_transaction(signed)
            self.nonces[(tx.signer_id, tx.public_key.text())] = tx.nonce
            return RpcReply(503, b"dropped")
        result = self.apply(signed)
        if fault == "lose":
            raise TransientRpcError("connection lost after the node applied the transaction")
        if fault == "routed" and "result" in result:  # forwarded to another node; will run
            return rpc_error("REQUEST_ROUTED", {"transaction_hash": "h"})
        if fault == "timeout" and "result" in result:
            return rpc_error("TIMEOUT_ERROR")
        return result

    def _read(self, method: str, params: Any) -> dict:
        if method == "block":
            return envelope(
                {"header": {"hash": base58.b58encode(bytes(32)).decode(), "height": 10}}
            )
        if method == "tx":
            tx_hash = params["tx_hash"] if isinstance(params, dict) else params[0]
            if tx_hash in self.txs:
                return envelope(self.txs[tx_hash])
            return rpc_error("UNKNOWN_TRANSACTION", {"requested_transaction_hash": tx_hash})
        if method == "query":
            kind = params["request_type"]
            account = params["account_id"]
            if kind == "view_account":
                if account not in self.balances:
                    return rpc_error("UNKNOWN_ACCOUNT", {"requested_account_id": account})
                return envelope(
                    {
                        "amount": str(self.balances[account]),
                        "locked": "0",
                        "storage_usage": 100,
                        "code_hash": "1" * 32,
                    }
                )
            if kind == "view_access_key":
                key = (account, params["public_key"])
                if key not in self.nonces:
                    return envelope({"error": "unknown key", "logs": []})
                nonce = self.nonces[key]
                if self.stale_once:
                    self.stale_once = False
                    nonce = max(0, nonce - 5)
                return envelope(
                    {
                        "nonce": nonce,
                        "permission": "FullAccess",
                        "block_height": 10,
                        "block_hash": "x",
                    }
                )
            if kind == "call_function":
                raw = self.view_results.get(params["method_name"])
                if raw is None:
                    return envelope({"error": "MethodNotFound", "logs": []})
                return envelope(
                    {"result": list(raw), "logs": [], "block_height": 10, "block_hash": "x"}
                )
        return rpc_error("METHOD_NOT_FOUND", name="REQUEST_VALIDATION_ERROR", data=method)

    def apply(self, signed: bytes) -> dict:
        """Apply one signed Transfer as a node would; the JSON-RPC envelope it answers."""
        tx = decode_signed_transaction(signed)  # an independent decoder checks the bytes
        assert signature_valid(tx), "the client produced a bad signature"
        tx_hash = base58.b58encode(tx.hash).decode()
        pk = tx.public_key.text()
        key = (tx.signer_id, pk)
        if tx_hash in self.txs and not self.resend_gives_invalid_nonce:
            return envelope(self.txs[tx_hash])  # a known transaction is answered, not re-run
        if tx.nonce <= self.nonces.get(key, 0):
            return rpc_error(
                "INVALID_TRANSACTION",
                data={
                    "TxExecutionError": {
                        "InvalidTxError": {
                            "InvalidNonce": {
                                "tx_nonce": tx.nonce,
                                "ak_nonce": self.nonces.get(key, 0),
                            }
                        }
                    }
                },
            )
        assert len(tx.actions) == 1 and isinstance(tx.actions[0], Transfer), "one Transfer only"
        amount = tx.actions[0].deposit
        self.nonces[key] = tx.nonce
        self.applied += 1
        receipt_status: dict = {"SuccessValue": ""}
        if self.fail_receipt:
            receipt_status = {
                "Failure": {
                    "ActionError": {
                        "index": 0,
                        "kind": {
                            "FunctionCallError": {
                                "ExecutionError": "Smart contract panicked: boom ✗"
                            }
                        },
                    }
                }
            }
        else:
            self.balances[tx.signer_id] -= amount
            self.balances[tx.receiver_id] = self.balances.get(tx.receiver_id, 0) + amount
        outcome = final_outcome(
            tx_hash, tx.signer_id, tx.receiver_id, nonce=tx.nonce, public_key=pk
        )
        outcome["receipts_outcome"][0]["outcome"]["status"] = receipt_status
        self.txs[tx_hash] = outcome
        return envelope(outcome)


def final_outcome(
    tx_hash: str,
    signer_id: str,
    receiver_id: str,
    *,
    nonce: int = 8,
    public_key: str = "",
    status: Any = None,
    receipt_status: Any = None,
    burnt: Any = "0",
    receipts: Any = None,
) -> dict[str, Any]:
    """A FinalExecutionOutcome with one receipt, any field of which a test may replace."""
    receipt = {
        "id": "r1",
        "outcome": {
            "logs": [],
            "receipt_ids": [],
            "gas_burnt": 1,
            "tokens_burnt": burnt,
            "executor_id": receiver_id,
            "status": receipt_status or {"SuccessValue": ""},
        },
    }
    return {
        "status": status or {"SuccessValue": ""},
        "transaction": {
            "hash": tx_hash,
            "signer_id": signer_id,
            "receiver_id": receiver_id,
            "nonce": nonce,
            "public_key": public_key,
            "actions": [],
        },
        "transaction_outcome": {
            "id": tx_hash,
            "outcome": {
                "logs": [],
                "receipt_ids": ["r1"],
                "gas_burnt": 1,
                "tokens_burnt": "0",
                "status": {"SuccessReceiptId": "r1"},
                "executor_id": signer_id,
            },
        },
        "receipts_outcome": [receipt] if receipts is None else receipts,
    }
