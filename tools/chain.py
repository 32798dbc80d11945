"""The chain adapter: the one module that talks to a NEAR node (through py-near).

Why it exists rather than py-near's ``Account``:

* py-near returns a transaction whose receipts failed as if it succeeded; here any failed
  receipt (or a failed status) raises :class:`TransactionFailedError` with the parsed outcome.
* py-near decodes view results byte by byte with ``chr()``; here the ``result`` bytes of
  ``query call_function`` are decoded as UTF-8.
* Idempotent submission: the transaction is signed once with py-near's primitives, so its hash
  is known before it is sent. After a transport error (connection lost, HTTP 5xx, node timeout)
  the adapter looks the hash up and only ever re-sends the *same signed bytes*; it signs again
  with a new nonce only when the node proves the first transaction was not accepted (the node
  refused it with InvalidNonce at first submission, or the nonce was used up and the hash is
  still unknown after a bounded wait). If the fate cannot be learned, it raises
  :class:`OutcomeUnknownError` carrying the hash instead of guessing.
* One transaction in flight per (account, public key), with the nonce re-read from the chain
  before every signature and a bounded retry on InvalidNonce. Nonces come from a
  :class:`~tools.nonce_ledger.NonceSource`: with an agent home, the nonce ledger makes them
  unique per key across processes, so two runs can never sign the same bytes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import base58
from loguru import logger
from py_near.providers import JsonProvider
from py_near.transactions import (
    create_delete_access_key_action,
    create_function_call_access_key_action,
    create_function_call_action,
    create_transfer_action,
)
from py_near_primitives import Transaction

from tools import failpoints
from tools.action import FunctionCallSpec, TransactionSpec, TransferSpec
from tools.errors import (
    InvalidAccountIdError,
    InvalidTransactionError,
    OutcomeUnknownError,
    RpcError,
    TransactionFailedError,
    TransientRpcError,
    UnknownAccountError,
    ViewCallError,
)
from tools.keys import Credentials
from tools.nonce_ledger import NonceKey, NonceSource, ProcessNonces

log = logging.getLogger(__name__)

STORAGE_PRICE_PER_BYTE = 10**19  # yoctoNEAR, nearcore's storage_amount_per_byte
_TRANSIENT_CAUSES = {
    "TIMEOUT_ERROR",
    "RPC_ERROR",
    "INTERNAL_ERROR",
    "NO_SYNCED_BLOCKS",
    "NOT_SYNCED_YET",
    "UNAVAILABLE_SHARD",
    "HTTP_ERROR",
}


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class ReceiptResult:
    """One receipt's execution (the transaction's own outcome is not a receipt)."""

    receipt_id: str
    executor_id: str
    ok: bool
    value: bytes | None = None
    error: str | None = None
    logs: tuple[str, ...] = ()
    tokens_burnt: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "receipt_id": self.receipt_id,
            "executor_id": self.executor_id,
            "status": "success" if self.ok else "failure",
            "error": self.error,
        }


@dataclass(frozen=True)
class TxOutcome:
    """A final execution outcome, parsed."""

    tx_hash: str
    signer_id: str
    receiver_id: str
    status_ok: bool
    value: bytes | None
    failure: str | None
    receipts: tuple[ReceiptResult, ...]
    tokens_burnt: int
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status_ok and all(r.ok for r in self.receipts)

    @property
    def failed_receipts(self) -> tuple[ReceiptResult, ...]:
        return tuple(r for r in self.receipts if not r.ok)

    @property
    def logs(self) -> tuple[str, ...]:
        return tuple(line for r in self.receipts for line in r.logs)

    def json_value(self) -> Any:
        """The transaction's return value as JSON (None when empty); a typed error otherwise."""
        if not self.value:
            return None
        try:
            return json.loads(self.value.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise MalformedOutcomeError(
                f"transaction {self.tx_hash} returned a value that is not JSON"
            ) from exc

    def first_error(self) -> str | None:
        if self.failure:
            return self.failure
        bad = self.failed_receipts
        return bad[0].error if bad else None


class MalformedOutcomeError(RpcError):
    """The node's execution outcome does not have the shape nearcore gives it.

    Raised instead of a guess: an outcome that cannot be read proves nothing about success.
    """

    code = "malformed_outcome"


U128_MAX = 2**128 - 1
U64_MAX = 2**64 - 1


def parse_uint(
    value: Any, what: str, *, limit: int = U128_MAX, error: type[RpcError] = RpcError
) -> int:
    """A JSON u128/u64 (decimal string or integer) as an int, refusing anything else.

    Nodes send u128 as strings; a bool, a float, a sign or a value beyond ``limit`` means the
    answer is not what nearcore sends, and reading it as a number would turn a lie into money.
    """
    if isinstance(value, bool):
        raise error(f"the node sent {what} as {value!r}, not an unsigned integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 40:
        number = int(value)
    else:
        raise error(f"the node sent {what} as {_short(value)}, not an unsigned integer")
    if not 0 <= number <= limit:
        raise error(f"the node sent {what} = {number}, outside 0..{limit}")
    return number


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_outcome(raw: Any) -> TxOutcome:
    """Parse a FinalExecutionOutcome (the ``tx``/``send_tx`` result).

    Raises MalformedOutcomeError on any shape nearcore does not produce: a receipt list that
    cannot be read could hide a failed receipt, so nothing is assumed.
    """
    bad = MalformedOutcomeError
    if not isinstance(raw, Mapping):
        raise bad(f"the node's execution outcome is {_short(raw)}, not an object")
    tx = raw.get("transaction")
    tx_outcome = raw.get("transaction_outcome")
    if tx is None:
        tx = {}
    if tx_outcome is None:
        tx_outcome = {}
    if not isinstance(tx, Mapping) or not isinstance(tx_outcome, Mapping):
        raise bad("the node's execution outcome has a malformed transaction")
    tx_hash = tx.get("hash")
    outcome_id = tx_outcome.get("id")
    if tx_hash is None:
        tx_hash = outcome_id
    if not isinstance(tx_hash, str) or not tx_hash:
        raise bad("the node's execution outcome names no transaction hash")
    if outcome_id is not None and outcome_id != tx_hash:
        raise bad(
            f"the node's execution outcome names two transactions: {_short(tx_hash)} "
            f"and {_short(outcome_id)}"
        )
    if "status" not in raw:
        raise bad(f"the execution outcome of {tx_hash} has no status")
    status_ok, value, failure = _status(raw["status"])
    receipts_raw = raw.get("receipts_outcome")
    if not isinstance(receipts_raw, list):
        raise bad(f"the execution outcome of {tx_hash} has no receipt list")
    own = tx_outcome.get("outcome")
    if own is None:
        own = {}
    if not isinstance(own, Mapping):
        raise bad(f"the execution outcome of {tx_hash} has a malformed transaction outcome")
    burnt = parse_uint(own.get("tokens_burnt", 0), "tokens_burnt", error=bad)
    receipts = []
    for item in receipts_raw:
        outcome = item.get("outcome") if isinstance(item, Mapping) else None
        if not isinstance(outcome, Mapping):
            raise bad(f"the execution outcome of {tx_hash} has a malformed receipt")
        ok, rvalue, error = _status(outcome.get("status"))
        receipt_burnt = parse_uint(outcome.get("tokens_burnt", 0), "tokens_burnt", error=bad)
        burnt += receipt_burnt
        logs = outcome.get("logs")
        if logs is None:
            logs = []
        if not isinstance(logs, list) or not all(isinstance(line, str) for line in logs):
            raise bad(f"the execution outcome of {tx_hash} has malformed logs")
        receipts.append(
            ReceiptResult(
                receipt_id=str(item.get("id", "")),
                executor_id=str(outcome.get("executor_id", "")),
                ok=ok,
                value=rvalue,
                error=error,
                logs=tuple(logs),
                tokens_burnt=receipt_burnt,
            )
        )
    return TxOutcome(
        tx_hash=tx_hash,
        signer_id=str(tx.get("signer_id", "")),
        receiver_id=str(tx.get("receiver_id", "")),
        status_ok=status_ok,
        value=value,
        failure=failure,
        receipts=tuple(receipts),
        tokens_burnt=burnt,
        raw=raw,
    )


def _status(status: Any) -> tuple[bool, bytes | None, str | None]:
    if isinstance(status, Mapping):
        if "SuccessValue" in status:
            encoded = status["SuccessValue"] or ""
            if not isinstance(encoded, str):
                raise MalformedOutcomeError(f"a SuccessValue is {_short(encoded)}, not base64")
            try:
                return True, base64.b64decode(encoded, validate=True) if encoded else b"", None
            except (binascii.Error, ValueError) as exc:
                raise MalformedOutcomeError(
                    f"a SuccessValue is not valid base64: {_short(encoded)}"
                ) from exc
        if "SuccessReceiptId" in status:
            return True, None, None
        if "Failure" in status:
            return False, None, failure_text(status["Failure"])
    if status in ("NotStarted", "Started", "Unknown", None):
        return False, None, f"not executed (status {status!r})"
    return False, None, f"unrecognised status {_short(status)}"


def failure_text(failure: Any) -> str:
    """The most specific message in a nearcore error (a contract panic's text when there is one)."""
    found = _find_key(failure, "ExecutionError")
    if isinstance(found, str):
        return found.removeprefix("Smart contract panicked: ")
    if isinstance(failure, str):
        return failure
    return json.dumps(failure, separators=(",", ":"), sort_keys=True)


def _find_key(obj: Any, key: str) -> Any:
    if isinstance(obj, Mapping):
        if key in obj:
            return obj[key]
        for value in obj.values():
            found = _find_key(value, key)
            if found is not None:
                return found
    elif isinstance(obj, list):
        for value in obj:
            found = _find_key(value, key)
            if found is not None:
                return found
    return None


# --------------------------------------------------------------------------- rpc errors


class _UnknownTransaction(Exception):
    pass


class _InvalidNonce(Exception):
    def __init__(self, ak_nonce: int | None) -> None:
        super().__init__(f"InvalidNonce (key nonce {ak_nonce})")
        self.ak_nonce = ak_nonce


class _MethodNotFound(RpcError):
    pass


def classify_rpc_error(error: Mapping[str, Any]) -> Exception:
    """Turn a JSON-RPC ``error`` object into a typed exception (py-near's parser needs ``data``)."""
    cause = error.get("cause") or {}
    cause_name = cause.get("name") if isinstance(cause, Mapping) else None
    name = error.get("name")
    message = str(error.get("message") or cause_name or name or "RPC error")
    data = error.get("data")
    if cause_name in _TRANSIENT_CAUSES or name == "HANDLER_ERROR" and cause_name is None:
        return TransientRpcError(f"node error: {cause_name or message}", cause=cause_name)
    if cause_name == "UNKNOWN_TRANSACTION":
        return _UnknownTransaction(message)
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
        return _MethodNotFound(f"the node does not support {data or message}")
    if cause_name in ("NO_CONTRACT_CODE", "CONTRACT_EXECUTION_ERROR"):
        return ViewCallError(_error_detail(cause, data, message))
    nonce = _find_key(error, "InvalidNonce")
    if isinstance(nonce, Mapping):
        ak = nonce.get("ak_nonce")
        try:
            ak_nonce = parse_uint(ak, "ak_nonce", limit=U64_MAX) if ak is not None else None
        except RpcError:
            ak_nonce = None
        return _InvalidNonce(ak_nonce)
    if cause_name == "INVALID_TRANSACTION" or name == "REQUEST_VALIDATION_ERROR" and data:
        return InvalidTransactionError(
            f"the node refused the transaction: {_error_detail(cause, data, message)}"
        )
    return RpcError(f"RPC error: {_error_detail(cause, data, message)}", cause=cause_name)


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


# --------------------------------------------------------------------------- signing


@dataclass(frozen=True)
class SignedTx:
    tx_hash: str
    signed_b64: str
    nonce: int
    signer_id: str
    receiver_id: str
    public_key: str = ""  # the key that signed, so a journal can later check its nonce


@dataclass(frozen=True)
class FunctionCallKeyGrant:
    """An access key limited to calling ``method_names`` (empty = any) on ``receiver_id``
    without deposits, paying at most ``allowance`` yoctoNEAR of gas (None = unlimited)."""

    public_key: str
    receiver_id: str
    method_names: tuple[str, ...] = ()
    allowance: int | None = None


@dataclass(frozen=True)
class KeyTransaction:
    """Add and/or delete access keys of the signer's own account (never built by a planner)."""

    signer_id: str
    add: tuple[FunctionCallKeyGrant, ...] = ()
    delete: tuple[str, ...] = ()  # public keys

    @property
    def receiver_id(self) -> str:
        return self.signer_id


def _py_near_actions(spec: TransactionSpec | KeyTransaction) -> list[Any]:
    actions: list[Any] = []
    if isinstance(spec, KeyTransaction):
        for grant in spec.add:
            actions.append(
                create_function_call_access_key_action(
                    grant.public_key, grant.allowance, grant.receiver_id, list(grant.method_names)
                )
            )
        actions.extend(create_delete_access_key_action(pk) for pk in spec.delete)
        return actions
    for action in spec.actions:
        if isinstance(action, TransferSpec):
            actions.append(create_transfer_action(action.deposit))
        elif isinstance(action, FunctionCallSpec):
            actions.append(
                create_function_call_action(
                    action.method_name, action.args_bytes(), action.gas, action.deposit
                )
            )
        else:  # pragma: no cover - the union is closed
            raise TypeError(f"unsupported action {action!r}")
    return actions


def sign_transaction(
    creds: Credentials,
    spec: TransactionSpec | KeyTransaction,
    nonce: int,
    block_hash: bytes,
) -> SignedTx:
    """Sign with py-near's primitives; the hash is known before anything is sent."""
    pair = creds.key_pair
    tx = Transaction(
        spec.signer_id,
        pair.public_bytes,
        nonce,
        spec.receiver_id,
        block_hash,
        _py_near_actions(spec),
    )
    signed = bytes(tx.to_vec(pair.seed + pair.public_bytes))
    return SignedTx(
        tx_hash=base58.b58encode(bytes(tx.get_hash())).decode(),
        signed_b64=base64.b64encode(signed).decode(),
        nonce=nonce,
        signer_id=spec.signer_id,
        receiver_id=spec.receiver_id,
        public_key=creds.public_key,
    )


# --------------------------------------------------------------------------- client


class ChainClient:
    """Reads and writes one NEAR network. Safe to share between tools in one process.

    ``timeout_s`` bounds every HTTP request; ``retries`` bounds retries of transient errors
    (reads) and of lookups/re-sends of a transaction whose submission hit one. ``nonces``
    allocates nonces and holds keys (the home's NonceLedger; by default, this process only).
    """

    def __init__(
        self,
        rpc_url: str,
        *,
        timeout_s: float = 10.0,
        retries: int = 3,
        backoff_s: float = 0.25,
        nonce_retries: int = 8,
        wait_until: str = "FINAL",
        finality: str = "final",
        nonces: NonceSource | None = None,
    ) -> None:
        logger.disable("py_near")  # this adapter reports py-near's failures as typed errors
        self.rpc_url = rpc_url
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.nonce_retries = nonce_retries
        self.wait_until = wait_until
        self.finality = finality
        self.nonces: NonceSource = nonces if nonces is not None else ProcessNonces()
        self._provider: JsonProvider | None = None
        self._provider_loop: asyncio.AbstractEventLoop | None = None
        self._legacy_send = False

    def __repr__(self) -> str:
        return f"ChainClient({self.rpc_url!r})"

    # ---- transport

    async def _get_provider(self) -> JsonProvider:
        loop = asyncio.get_running_loop()
        if self._provider is None or self._provider_loop is not loop:
            self._provider = JsonProvider(
                self.rpc_url, allow_broadcast=False, timeout=self.timeout_s
            )
            await self._provider.startup()
            self._provider_loop = loop
        return self._provider

    async def close(self) -> None:
        """Close the HTTP session (only from the event loop that opened it)."""
        if self._provider is not None and self._provider_loop is asyncio.get_running_loop():
            await self._provider.shutdown()
        self._provider = None

    async def rpc_once(self, method: str, params: Any) -> Any:
        """One JSON-RPC request; errors become typed exceptions, nothing is retried."""
        provider = await self._get_provider()
        try:
            content = await provider.call_rpc_request(method, params)
        except Exception as exc:  # py-near lets some transport errors through
            raise TransientRpcError(f"RPC {self.rpc_url} unreachable: {exc}") from exc
        if not content:
            raise TransientRpcError(f"RPC {self.rpc_url} did not answer {method}")
        if not isinstance(content, Mapping):
            raise TransientRpcError(f"RPC {self.rpc_url} answered garbage to {method}")
        if content.get("error") is not None:
            error = content["error"]
            if not isinstance(error, Mapping):
                raise RpcError(f"RPC error: {error}")
            raise classify_rpc_error(error)
        if "result" not in content:
            raise TransientRpcError(f"RPC {self.rpc_url} answered {method} without a result")
        return content["result"]

    async def rpc(self, method: str, params: Any) -> Any:
        """A read: transient errors are retried with exponential backoff."""
        for attempt in range(self.retries + 1):
            try:
                return await self.rpc_once(method, params)
            except TransientRpcError:
                if attempt >= self.retries:
                    raise
                await asyncio.sleep(self.backoff_s * 2**attempt)
        raise AssertionError("unreachable")

    # ---- reads

    async def view_account(self, account_id: str) -> dict[str, Any]:
        """The account's view; an answer that is not an object is refused, never read as 0."""
        result = await self.rpc(
            "query",
            {"request_type": "view_account", "account_id": account_id, "finality": self.finality},
        )
        if not isinstance(result, Mapping):
            raise RpcError(
                f"the node answered view_account of {account_id} with "
                f"{_short(result)}, not an account"
            )
        if result.get("error"):
            raise UnknownAccountError(f"account {account_id} does not exist", account_id=account_id)
        return dict(result)

    async def account_exists(self, account_id: str) -> bool:
        try:
            await self.view_account(account_id)
        except UnknownAccountError:
            return False
        return True

    async def near_balance(self, account_id: str) -> dict[str, int]:
        """total (liquid), locked, storage-staked and available yoctoNEAR."""
        acc = await self.view_account(account_id)
        if "amount" not in acc:
            raise RpcError(f"the node's view of {account_id} has no amount")
        amount = parse_uint(acc["amount"], f"the balance of {account_id}")
        locked = parse_uint(acc.get("locked", 0), f"the locked balance of {account_id}")
        storage = (
            parse_uint(
                acc.get("storage_usage", 0), f"the storage usage of {account_id}", limit=U64_MAX
            )
            * STORAGE_PRICE_PER_BYTE
        )
        reserved = max(0, storage - locked)
        return {
            "total": amount,
            "locked": locked,
            "storage": storage,
            "available": max(0, amount - reserved),
        }

    async def view(
        self, contract_id: str, method: str, args: Mapping[str, Any] | None = None
    ) -> Any:
        """A contract view; the result bytes are decoded as UTF-8 JSON (not with chr())."""
        payload = json.dumps(dict(args or {}), separators=(",", ":")).encode()
        try:
            result = await self.rpc(
                "query",
                {
                    "request_type": "call_function",
                    "account_id": contract_id,
                    "method_name": method,
                    "args_base64": base64.b64encode(payload).decode(),
                    "finality": self.finality,
                },
            )
        except ViewCallError as exc:
            raise ViewCallError(
                f"{contract_id}.{method} failed: {exc.message}",
                contract_id=contract_id,
                method=method,
            ) from exc
        if not isinstance(result, Mapping):
            raise ViewCallError(
                f"{contract_id}.{method}: the node answered {_short(result)}, not a call result",
                contract_id=contract_id,
                method=method,
            )
        if result.get("error"):
            raise ViewCallError(
                f"{contract_id}.{method} failed: {result['error']}",
                contract_id=contract_id,
                method=method,
            )
        data = result.get("result")
        if not isinstance(data, list) or not all(
            isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in data
        ):
            raise ViewCallError(
                f"{contract_id}.{method}: the node's result is not a list of bytes",
                contract_id=contract_id,
                method=method,
            )
        raw = bytes(data)
        if not raw:
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ViewCallError(f"{contract_id}.{method} returned non-JSON bytes") from exc

    async def access_key_nonce(self, account_id: str, public_key: str) -> int:
        result = await self.rpc(
            "query",
            {
                "request_type": "view_access_key",
                "account_id": account_id,
                "public_key": public_key,
                "finality": "optimistic",
            },
        )
        if not isinstance(result, Mapping):
            raise RpcError(f"the node answered view_access_key with {_short(result)}")
        if result.get("error"):
            raise InvalidTransactionError(
                f"the key {public_key} is not an access key of {account_id}", account_id=account_id
            )
        if "nonce" not in result:
            raise RpcError(f"the node's view of the key of {account_id} has no nonce")
        return parse_uint(result["nonce"], "the access key nonce", limit=U64_MAX)

    async def latest_block_hash(self) -> bytes:
        """The final block's hash (32 bytes); anything else would sign an unusable transaction."""
        block = await self.rpc("block", {"finality": "final"})
        header = block.get("header") if isinstance(block, Mapping) else None
        encoded = header.get("hash") if isinstance(header, Mapping) else None
        if not isinstance(encoded, str):
            raise RpcError("the node's latest block has no header hash")
        try:
            decoded = base58.b58decode(encoded)
        except ValueError as exc:
            raise RpcError(f"the node's block hash {_short(encoded)} is not base58") from exc
        if len(decoded) != 32:
            raise RpcError(f"the node's block hash {_short(encoded)} is not 32 bytes")
        return decoded

    async def tx_status(self, tx_hash: str, sender_id: str) -> TxOutcome | None:
        """The final outcome of a known hash, or None when the node has never seen it.

        Raises MalformedOutcomeError when the answer is unreadable or is another transaction's.
        """
        try:
            raw = await self.rpc_once(
                "tx",
                {"tx_hash": tx_hash, "sender_account_id": sender_id, "wait_until": self.wait_until},
            )
        except _UnknownTransaction:
            return None
        except _MethodNotFound:
            raw = await self.rpc_once("tx", [tx_hash, sender_id])
        outcome = parse_outcome(raw)
        if outcome.tx_hash != tx_hash:
            raise MalformedOutcomeError(
                f"asked for transaction {tx_hash}, the node answered with {outcome.tx_hash}"
            )
        return outcome

    # ---- writes

    def nonce_key(self, creds: Credentials) -> NonceKey:
        return NonceKey(self.rpc_url, creds.account_id, creds.public_key)

    async def send(
        self,
        creds: Credentials,
        spec: TransactionSpec | KeyTransaction,
        *,
        raise_on_failure: bool = True,
        on_signed: Callable[[SignedTx], Any] | None = None,
    ) -> TxOutcome:
        """Sign, submit and wait for the final outcome of one transaction.

        Raises TransactionFailedError if the transaction or any receipt failed (unless
        ``raise_on_failure`` is False), InvalidTransactionError if the node refused it, and
        OutcomeUnknownError (with the hash) if its fate could not be learned. ``on_signed`` is
        called with each signed transaction before it is first sent, so that a caller can journal
        the hash and, after a crash, resolve it with :meth:`tx_status` instead of sending again.
        """
        if spec.signer_id != creds.account_id:
            raise InvalidTransactionError(
                f"transaction signer {spec.signer_id} is not the key's account {creds.account_id}"
            )
        return await self.send_signed_by(
            creds,
            spec.receiver_id,
            partial(sign_transaction, creds, spec),
            raise_on_failure=raise_on_failure,
            on_signed=on_signed,
        )

    async def send_signed_by(
        self,
        creds: Credentials,
        receiver_id: str,
        sign: Callable[[int, bytes], SignedTx],
        *,
        raise_on_failure: bool = True,
        on_signed: Callable[[SignedTx], Any] | None = None,
    ) -> TxOutcome:
        """:meth:`send` for a transaction built elsewhere: ``sign(nonce, block_hash)`` signs it
        with ``creds`` for the nonce this adapter allocates (and may be called again with a new
        nonce after the node refused one)."""
        failpoints.hit("before_send")
        key = self.nonce_key(creds)
        async with self.nonces.hold(key):
            outcome = await self._send_held(key, sign, on_signed)
        if raise_on_failure and not outcome.ok:
            raise TransactionFailedError(
                f"transaction {outcome.tx_hash} to {receiver_id} failed: {outcome.first_error()}",
                outcome=outcome,
                tx_hash=outcome.tx_hash,
            )
        return outcome

    async def _send_held(
        self,
        key: NonceKey,
        sign: Callable[[int, bytes], SignedTx],
        on_signed: Callable[[SignedTx], Any] | None,
    ) -> TxOutcome:
        for attempt in range(self.nonce_retries + 1):
            if attempt:  # another client is using the key: back off with jitter, then resync
                await asyncio.sleep(self.backoff_s * random.uniform(0.5, 1.5) * min(attempt, 4))
            chain_nonce = await self.access_key_nonce(key.account_id, key.public_key)
            nonce = self.nonces.allocate(key, chain_nonce)
            block_hash = await self.latest_block_hash()
            signed = sign(nonce, block_hash)
            if (signed.nonce, signed.signer_id) != (nonce, key.account_id):
                raise InvalidTransactionError(
                    f"transaction {signed.tx_hash} was not signed as allocated "
                    f"(nonce {signed.nonce} by {signed.signer_id}, not {nonce} by "
                    f"{key.account_id}); nothing was sent"
                )
            self.nonces.record(key, nonce, signed.tx_hash)  # this allocation's alone, or refused
            if on_signed is not None:
                on_signed(signed)
            try:
                return await self._deliver(signed)
            except _InvalidNonce as exc:
                # Proven not accepted: the node refused it, or the hash stayed unknown while the
                # nonce was used by something else. Safe to sign again with a fresh nonce.
                log.info("nonce %s refused for %s; resyncing", nonce, key.account_id)
                if exc.ak_nonce is not None:
                    self.nonces.advance(key, exc.ak_nonce)
        raise InvalidTransactionError(
            f"the node kept refusing nonces for {key.account_id} after "
            f"{self.nonce_retries + 1} attempts (another client is using the same key?)"
        )

    async def _submit(self, signed: SignedTx) -> Any:
        if not self._legacy_send:
            try:
                return await self.rpc_once(
                    "send_tx",
                    {"signed_tx_base64": signed.signed_b64, "wait_until": self.wait_until},
                )
            except _MethodNotFound:
                self._legacy_send = True
        return await self.rpc_once("broadcast_tx_commit", [signed.signed_b64])

    async def _own_outcome(self, signed: SignedTx, raw: Any) -> TxOutcome:
        """The outcome of *this* transaction: an answer about another hash is looked up again."""
        outcome = parse_outcome(raw)
        if outcome.tx_hash == signed.tx_hash:
            return outcome
        log.warning(
            "the node answered transaction %s with the outcome of %s; looking it up",
            signed.tx_hash,
            outcome.tx_hash,
        )
        found = await self.tx_status(signed.tx_hash, signed.signer_id)
        if found is None:
            raise OutcomeUnknownError(
                f"transaction {signed.tx_hash} was sent but the node answered with another "
                "transaction's outcome and does not know this one; check it by hash before "
                "trying again",
                tx_hash=signed.tx_hash,
            )
        return found

    async def _deliver(self, signed: SignedTx) -> TxOutcome:
        """Get one signed transaction executed exactly once, or fail saying so.

        Raises _InvalidNonce only when the transaction provably was not accepted: refused at
        first submission, or its nonce used up while its hash stays unknown.
        """
        sent = False  # once sent without a definite refusal, never sign anything else for it
        nonce_refused = False
        unknown_since_refusal = 0
        for attempt in range(self.retries + 3):
            if attempt:
                await asyncio.sleep(self.backoff_s * 2 ** min(attempt - 1, 5))
            try:
                if sent:
                    outcome = await self.tx_status(signed.tx_hash, signed.signer_id)
                    if outcome is not None:
                        return outcome
                    if nonce_refused:
                        unknown_since_refusal += 1
                        if unknown_since_refusal >= 2:
                            break  # the nonce went to another transaction: ours never will run
                        continue
                    # Unknown to the node: the same bytes again cannot execute twice.
                sent = True
                answer = await self._submit(signed)
                failpoints.hit("after_submit")
                return await self._own_outcome(signed, answer)
            except MalformedOutcomeError as exc:
                # the bytes reached a node, so the transaction may well be on chain
                raise OutcomeUnknownError(
                    f"transaction {signed.tx_hash} was sent but the node's answer about it cannot "
                    f"be trusted ({exc.message}); check it by hash before trying again",
                    tx_hash=signed.tx_hash,
                ) from exc
            except _InvalidNonce:
                if attempt == 0:
                    raise  # refused at first submission: nothing was accepted
                nonce_refused = True  # perhaps our own earlier send used it: look the hash up
            except _UnknownTransaction:
                pass
            except RpcError as exc:
                # Transient or not (e.g. REQUEST_ROUTED: forwarded, will execute), the bytes may
                # have reached a node: only the hash can tell, never a second signature.
                log.warning(
                    "transaction %s: %s; will look it up by hash", signed.tx_hash, exc.message
                )
            except (InvalidTransactionError, _MethodNotFound):
                if attempt == 0:
                    raise
                # a re-send refused for another reason (e.g. expired): rely on the lookup
        else:
            raise OutcomeUnknownError(
                f"transaction {signed.tx_hash} was sent but its outcome could not be confirmed; "
                "check it by hash before trying again",
                tx_hash=signed.tx_hash,
            )
        raise _InvalidNonce(None)
