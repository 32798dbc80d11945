"""JSON-RPC errors in nearcore's shape.

nearcore answers errors with HTTP 200 and an ``error`` object carrying ``name`` (the error family),
``cause`` ``{name, info}``, ``code``, ``message`` and ``data``. Clients key off ``cause.name`` and
py-near walks ``data``, so all five are always present.
"""

from __future__ import annotations

from typing import Any


class RpcError(Exception):
    """An error the server answers as a JSON-RPC error object."""

    def __init__(
        self,
        name: str,
        cause: str,
        info: dict[str, Any],
        data: Any,
        *,
        code: int = -32000,
        message: str = "Server error",
    ) -> None:
        super().__init__(f"{cause}: {data}")
        self.name = name
        self.cause = cause
        self.info = info
        self.data = data
        self.code = code
        self.message = message

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cause": {"name": self.cause, "info": self.info},
            "code": self.code,
            "message": self.message,
            "data": self.data,
        }


def parse_error(message: str) -> RpcError:
    return RpcError(
        "REQUEST_VALIDATION_ERROR",
        "PARSE_ERROR",
        {"error_message": message},
        message,
        code=-32700,
        message="Parse error",
    )


def method_not_found(method: str) -> RpcError:
    return RpcError(
        "REQUEST_VALIDATION_ERROR",
        "METHOD_NOT_FOUND",
        {"method_name": method},
        method,
        code=-32601,
        message="Method not found",
    )


def internal_error(message: str) -> RpcError:
    return RpcError("INTERNAL_ERROR", "INTERNAL_ERROR", {"error_message": message}, message)


def timeout_error(cause: str | None = None) -> RpcError:
    """TIMEOUT_ERROR; nearcore 2.14+ says why a transaction lookup timed out in ``info.cause``
    (TimeoutErrorCause: NOT_OBSERVED, PENDING, DOES_NOT_TRACK_SHARD, ERROR)."""
    return RpcError("HANDLER_ERROR", "TIMEOUT_ERROR", {"cause": cause} if cause else {}, "Timeout")


def http_status(error: RpcError) -> int:
    """The HTTP status nearcore answers an error with (nearcore #11806, #11822; near/docs
    #2195): 400 for a request that does not validate, 408 for a timeout, 500 for an internal
    error, 200 for every other (handler) error."""
    if error.name == "REQUEST_VALIDATION_ERROR":
        return 400
    if error.name == "INTERNAL_ERROR":
        return 500
    if error.cause == "TIMEOUT_ERROR":
        return 408
    return 200


class InvalidTx(Exception):
    """A transaction nearcore would refuse before it reaches a block (``InvalidTxError``)."""

    def __init__(self, error: Any) -> None:
        super().__init__(str(error))
        self.error = error  # the InvalidTxError payload, e.g. {"InvalidNonce": {...}}

    def rpc(self) -> RpcError:
        """nearcore skips the context when it serialises the cause (``info`` is ``{}``) and puts
        the error in ``data`` (chain/jsonrpc-primitives/src/types/transactions.rs,
        ``RpcTransactionError::InvalidTransaction`` and its ``From`` for ``RpcError``)."""
        data = {"TxExecutionError": {"InvalidTxError": self.error}}
        return RpcError("HANDLER_ERROR", "INVALID_TRANSACTION", {}, data)


class ActionFailure(Exception):
    """An action failed while a receipt executed (``ActionError``)."""

    def __init__(self, kind: Any, index: int | None = None) -> None:
        super().__init__(str(kind))
        self.kind = kind
        self.index = index

    def as_status(self) -> dict[str, Any]:
        error: dict[str, Any] = {"kind": self.kind}
        if self.index is not None:
            error["index"] = self.index
        return {"Failure": {"ActionError": error}}


def function_call_error(message: str) -> dict[str, Any]:
    """The ActionErrorKind of a contract that panicked or failed, with its message."""
    return {"FunctionCallError": {"ExecutionError": message}}


def unknown_account(account_id: str, height: int, block_hash: str) -> RpcError:
    return RpcError(
        "HANDLER_ERROR",
        "UNKNOWN_ACCOUNT",
        {"requested_account_id": account_id, "block_height": height, "block_hash": block_hash},
        f"account {account_id} does not exist while viewing",
    )


def invalid_account(account_id: str, height: int, block_hash: str) -> RpcError:
    return RpcError(
        "HANDLER_ERROR",
        "INVALID_ACCOUNT",
        {"requested_account_id": account_id, "block_height": height, "block_hash": block_hash},
        f"Account ID {account_id} is invalid",
    )


def rust_debug_str(text: str) -> str:
    """``text`` as Rust's ``{:?}`` prints a string: quoted, with quotes and controls escaped."""
    out = []
    for ch in text:
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def view_vm_error(error: str) -> str:
    """What a failed ``call_function`` query answers in ``error``: the VM's FunctionCallError as
    Rust debug-prints it (runtime/runtime/src/state_viewer/mod.rs, ``call_function``)."""
    return f"wasm execution failed with error: {error}"


def view_code_does_not_exist(account_id: str) -> str:
    return view_vm_error(
        f"CompilationError(CodeDoesNotExist {{ account_id: {rust_debug_str(account_id)} }})"
    )


def view_guest_panic(message: str) -> str:
    return view_vm_error(f"HostError(GuestPanic {{ panic_msg: {rust_debug_str(message)} }})")


def view_prohibited(host_function: str) -> str:
    return view_vm_error(
        f"HostError(ProhibitedInView {{ method_name: {rust_debug_str(host_function)} }})"
    )


def no_contract_code(account_id: str, height: int, block_hash: str) -> RpcError:
    return RpcError(
        "HANDLER_ERROR",
        "NO_CONTRACT_CODE",
        {"contract_account_id": account_id, "block_height": height, "block_hash": block_hash},
        f"Contract code for contract ID #{account_id} has never been observed on the node",
    )


def unknown_block(reference: Any) -> RpcError:
    return RpcError(
        "HANDLER_ERROR",
        "UNKNOWN_BLOCK",
        {"block_reference": reference},
        "DB Not Found Error: BLOCK HEIGHT / HASH",
    )


def garbage_collected_block(height: int, block_hash: str) -> RpcError:
    """A query at a block the node no longer keeps the state of (RpcQueryError in
    chain/jsonrpc-primitives/src/types/query.rs)."""
    return RpcError(
        "HANDLER_ERROR",
        "GARBAGE_COLLECTED_BLOCK",
        {"block_height": height, "block_hash": block_hash},
        f"The data for block #{height} is garbage collected on this node, use an archival "
        "node to fetch historical data",
    )


def unknown_transaction(tx_hash: str) -> RpcError:
    return RpcError(
        "HANDLER_ERROR",
        "UNKNOWN_TRANSACTION",
        {"requested_transaction_hash": tx_hash},
        f"Transaction {tx_hash} doesn't exist",
    )


def unknown_receipt(receipt_id: str) -> RpcError:
    return RpcError(
        "HANDLER_ERROR",
        "UNKNOWN_RECEIPT",
        {"receipt_id": receipt_id},
        f"Receipt with id {receipt_id} has never been observed on this node",
    )


def unknown_chunk(chunk_hash: str) -> RpcError:
    return RpcError(
        "HANDLER_ERROR",
        "UNKNOWN_CHUNK",
        {"chunk_hash": chunk_hash},
        f"Chunk Missing (unavailable on the node): {chunk_hash}",
    )


def invalid_shard_id(shard_id: Any) -> RpcError:
    return RpcError(
        "HANDLER_ERROR",
        "INVALID_SHARD_ID",
        {"shard_id": shard_id},
        f"Shard id {shard_id} does not exist",
    )
