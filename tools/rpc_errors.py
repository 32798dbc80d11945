"""Classifying a node's JSON-RPC ``error`` object into a typed exception.

Why: what the chain client may do next depends on the kind of error, not its text. A transient error
may be retried (a read) or looked up by hash (a send); a nonce refusal proves the transaction was
not accepted; an unknown transaction is not yet known. py-near's own parser needs ``data`` and
flattens errors; this one reads what nearcore sends and refuses nothing it can classify.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tools.errors import (
    InvalidAccountIdError,
    InvalidTransactionError,
    RpcError,
    TransientRpcError,
    UnknownAccountError,
    ViewCallError,
)
from tools.rpc_values import U64_MAX, find_key, parse_uint

TRANSIENT_CAUSES = frozenset(
    {
        "TIMEOUT_ERROR",
        "RPC_ERROR",
        "INTERNAL_ERROR",
        "NO_SYNCED_BLOCKS",
        "NOT_SYNCED_YET",
        "UNAVAILABLE_SHARD",
        "HTTP_ERROR",
    }
)


class UnknownTransaction(Exception):
    """The node has not seen the transaction asked about (not yet, or never)."""


class InvalidNonce(Exception):
    """The node refused a transaction's nonce: that transaction was not accepted."""

    def __init__(self, ak_nonce: int | None) -> None:
        super().__init__(f"InvalidNonce (key nonce {ak_nonce})")
        self.ak_nonce = ak_nonce


class MethodNotFound(RpcError):
    """The node does not know the JSON-RPC method (an older node: use the legacy one)."""


def classify_rpc_error(error: Mapping[str, Any]) -> Exception:
    """Turn a JSON-RPC ``error`` object into a typed exception (py-near's parser needs ``data``)."""
    cause = error.get("cause") or {}
    cause_name = cause.get("name") if isinstance(cause, Mapping) else None
    name = error.get("name")
    message = str(error.get("message") or cause_name or name or "RPC error")
    data = error.get("data")
    if cause_name == "TIMEOUT_ERROR" and _timeout_reason(cause) == "NOT_OBSERVED":
        # nearcore 2.14+ says why a lookup timed out: this node never saw the transaction
        return UnknownTransaction(f"node error: TIMEOUT_ERROR (NOT_OBSERVED): {message}")
    if cause_name in TRANSIENT_CAUSES or name == "HANDLER_ERROR" and cause_name is None:
        return TransientRpcError(f"node error: {cause_name or message}", cause=cause_name)
    if cause_name == "UNKNOWN_TRANSACTION":
        return UnknownTransaction(message)
    if cause_name == "UNKNOWN_ACCOUNT":
        info = cause.get("info") or {}
        account = info.get("requested_account_id") if isinstance(info, Mapping) else None
        return UnknownAccountError(
            f"account {account or ''} does not exist".replace("  ", " "), account_id=account
        )
    if cause_name == "INVALID_ACCOUNT":
        info = cause.get("info") or {}
        account = info.get("requested_account_id") if isinstance(info, Mapping) else None
        return InvalidAccountIdError(
            f"{account!r} is not a valid NEAR account id", account_id=account
        )
    if cause_name == "METHOD_NOT_FOUND":
        return MethodNotFound(f"the node does not support {data or message}")
    if cause_name in ("NO_CONTRACT_CODE", "CONTRACT_EXECUTION_ERROR"):
        return ViewCallError(_error_detail(cause, data, message))
    nonce = find_key(error, "InvalidNonce")
    if isinstance(nonce, Mapping):
        ak = nonce.get("ak_nonce")
        try:
            ak_nonce = parse_uint(ak, "ak_nonce", limit=U64_MAX) if ak is not None else None
        except RpcError:
            ak_nonce = None
        return InvalidNonce(ak_nonce)
    if cause_name == "INVALID_TRANSACTION" or name == "REQUEST_VALIDATION_ERROR" and data:
        return InvalidTransactionError(
            f"the node refused the transaction: {_error_detail(cause, data, message)}"
        )
    return RpcError(f"RPC error: {_error_detail(cause, data, message)}", cause=cause_name)


def _timeout_reason(cause: Any) -> str | None:
    """The ``cause`` a TIMEOUT_ERROR carries in its ``info`` (nearcore 2.14+, TimeoutErrorCause:
    NOT_OBSERVED, PENDING, DOES_NOT_TRACK_SHARD, ERROR); None from older nodes."""
    info = cause.get("info") if isinstance(cause, Mapping) else None
    reason = info.get("cause") if isinstance(info, Mapping) else None
    return reason if isinstance(reason, str) else None


def _error_detail(cause: Any, data: Any, message: str) -> str:
    info = cause.get("info") if isinstance(cause, Mapping) else None
    for candidate in (info, data):
        if candidate:
            return (
                candidate
                if isinstance(candidate, str)
                else json.dumps(candidate, separators=(",", ":"), sort_keys=True)
            )
    return message
