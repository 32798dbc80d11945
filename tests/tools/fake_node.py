"""A tiny NEAR-RPC look-alike for the chain adapter's unit tests, with scripted faults.

It understands only what the adapter needs (block, view_account, view_access_key, call_function,
send_tx / broadcast_tx_commit, tx) and transactions holding one Transfer. Faults are consumed one
per submission: "drop" (HTTP 503, nothing applied), "lose" (applied, then HTTP 500),
"timeout" (applied, then TIMEOUT_ERROR), "routed" (applied, then REQUEST_ROUTED), "steal"
(dropped, and another transaction takes its nonce).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import base58
from aiohttp import web

from devnet.transaction import Transfer, decode_signed_transaction, signature_valid


def _err(cause: str, info: Any = None, name: str = "HANDLER_ERROR", data: Any = None) -> dict:
    return {
        "error": {
            "name": name,
            "cause": {"name": cause, "info": info or {}},
            "code": -32000,
            "message": "Server error",
            "data": data or cause,
        }
    }


@dataclass
class FakeNode:
    balances: dict[str, int] = field(default_factory=dict)
    nonces: dict[tuple[str, str], int] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    view_results: dict[str, bytes] = field(default_factory=dict)
    txs: dict[str, dict] = field(default_factory=dict)
    applied: int = 0
    submissions: int = 0
    down: bool = False
    fail_receipt: bool = False
    stale_once: bool = False
    resend_gives_invalid_nonce: bool = False  # how some nodes answer a re-sent applied tx
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> FakeNode:
        app = web.Application()
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        if self.down:
            return web.Response(status=503, text="down")
        body = await request.json()
        method, params = body["method"], body["params"]
        if method in ("send_tx", "broadcast_tx_commit"):
            self.submissions += 1
            fault = self.faults.pop(0) if self.faults else None
            if fault == "drop":
                return web.Response(status=503, text="dropped")
            if fault == "steal":  # another client's transaction takes this nonce first
                tx = decode_signed_transaction(
                    base64.b64decode(
                        params["signed_tx_base64"] if isinstance(params, dict) else params[0]
                    )
                )
                self.nonces[(tx.signer_id, tx.public_key.text())] = tx.nonce
                return web.Response(status=503, text="dropped")
            signed = params["signed_tx_base64"] if isinstance(params, dict) else params[0]
            result = self._apply(base64.b64decode(signed))
            if fault == "lose":
                return web.Response(status=500, text="lost")
            if fault == "routed" and "result" in result:  # forwarded to another node; will run
                return web.json_response(
                    {
                        "jsonrpc": "2.0",
                        "id": body["id"],
                        **_err("REQUEST_ROUTED", {"transaction_hash": "h"}),
                    }
                )
            if fault == "timeout" and "result" in result:
                return web.json_response(
                    {"jsonrpc": "2.0", "id": body["id"], **_err("TIMEOUT_ERROR")}
                )
            return web.json_response({"jsonrpc": "2.0", "id": body["id"], **result})
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], **self._read(method, params)})

    def _read(self, method: str, params: Any) -> dict:
        if method == "block":
            return {
                "result": {"header": {"hash": base58.b58encode(bytes(32)).decode(), "height": 10}}
            }
        if method == "tx":
            tx_hash = params["tx_hash"] if isinstance(params, dict) else params[0]
            if tx_hash in self.txs:
                return {"result": self.txs[tx_hash]}
            return _err("UNKNOWN_TRANSACTION", {"requested_transaction_hash": tx_hash})
        if method == "query":
            kind = params["request_type"]
            account = params["account_id"]
            if kind == "view_account":
                if account not in self.balances:
                    return _err("UNKNOWN_ACCOUNT", {"requested_account_id": account})
                return {
                    "result": {
                        "amount": str(self.balances[account]),
                        "locked": "0",
                        "storage_usage": 100,
                        "code_hash": "1" * 32,
                    }
                }
            if kind == "view_access_key":
                key = (account, params["public_key"])
                if key not in self.nonces:
                    return {"result": {"error": "unknown key", "logs": []}}
                nonce = self.nonces[key]
                if self.stale_once:
                    self.stale_once = False
                    nonce = max(0, nonce - 5)
                return {
                    "result": {
                        "nonce": nonce,
                        "permission": "FullAccess",
                        "block_height": 10,
                        "block_hash": "x",
                    }
                }
            if kind == "call_function":
                raw = self.view_results.get(params["method_name"])
                if raw is None:
                    return {"result": {"error": "MethodNotFound", "logs": []}}
                return {
                    "result": {
                        "result": list(raw),
                        "logs": [],
                        "block_height": 10,
                        "block_hash": "x",
                    }
                }
        return _err("METHOD_NOT_FOUND", name="REQUEST_VALIDATION_ERROR", data=method)

    def _apply(self, signed: bytes) -> dict:
        tx = decode_signed_transaction(signed)  # an independent decoder checks the bytes
        assert signature_valid(tx), "the adapter produced a bad signature"
        tx_hash = base58.b58encode(tx.hash).decode()
        pk = tx.public_key.text()
        key = (tx.signer_id, pk)
        if tx_hash in self.txs and not self.resend_gives_invalid_nonce:
            return {"result": self.txs[tx_hash]}  # a known transaction is answered, not re-run
        if tx.nonce <= self.nonces.get(key, 0):
            return _err(
                "INVALID_TRANSACTION",
                name="HANDLER_ERROR",
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
        outcome = {
            "status": {"SuccessValue": ""},
            "transaction": {
                "hash": tx_hash,
                "signer_id": tx.signer_id,
                "nonce": tx.nonce,
                "receiver_id": tx.receiver_id,
                "public_key": pk,
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
                    "executor_id": tx.signer_id,
                },
            },
            "receipts_outcome": [
                {
                    "id": "r1",
                    "outcome": {
                        "logs": [],
                        "receipt_ids": [],
                        "gas_burnt": 1,
                        "tokens_burnt": "0",
                        "status": receipt_status,
                        "executor_id": tx.receiver_id,
                    },
                }
            ],
        }
        self.txs[tx_hash] = outcome
        return {"result": outcome}


def encode_view(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")
