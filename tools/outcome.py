"""A transaction's final execution outcome, parsed without trusting its shape.

Why: py-near returns a transaction whose receipts failed as if it succeeded; here any failed
receipt (or a failed status) makes the outcome not ``ok``, and an outcome that cannot be read
raises :class:`MalformedOutcomeError` instead of being guessed at.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tools.errors import RpcError
from tools.rpc_values import find_key, parse_uint, short


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


def parse_outcome(raw: Any) -> TxOutcome:
    """Parse a FinalExecutionOutcome (the ``tx``/``send_tx`` result).

    Raises MalformedOutcomeError on any shape nearcore does not produce: a receipt list that
    cannot be read could hide a failed receipt, so nothing is assumed.
    """
    bad = MalformedOutcomeError
    if not isinstance(raw, Mapping):
        raise bad(f"the node's execution outcome is {short(raw)}, not an object")
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
            f"the node's execution outcome names two transactions: {short(tx_hash)} "
            f"and {short(outcome_id)}"
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
                raise MalformedOutcomeError(f"a SuccessValue is {short(encoded)}, not base64")
            try:
                return True, base64.b64decode(encoded, validate=True) if encoded else b"", None
            except (binascii.Error, ValueError) as exc:
                raise MalformedOutcomeError(
                    f"a SuccessValue is not valid base64: {short(encoded)}"
                ) from exc
        if "SuccessReceiptId" in status:
            return True, None, None
        if "Failure" in status:
            return False, None, failure_text(status["Failure"])
    if status in ("NotStarted", "Started", "Unknown", None):
        return False, None, f"not executed (status {status!r})"
    return False, None, f"unrecognised status {short(status)}"


def failure_text(failure: Any) -> str:
    """The most specific message in a nearcore error (a contract panic's text when there is one)."""
    found = find_key(failure, "ExecutionError")
    if isinstance(found, str):
        return found.removeprefix("Smart contract panicked: ")
    if isinstance(failure, str):
        return failure
    return json.dumps(failure, separators=(",", ":"), sort_keys=True)
