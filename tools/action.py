"""The canonical action: exactly what will be signed, in base units, for the policy engine.

``tool.prepare()`` returns one of these. The policy engine evaluates it (and re-derives every
outflow from the transactions themselves rather than trusting the summary fields); the executor
signs exactly ``transactions``; the audit log records it. Amounts are ``int`` base units and are
written to JSON as decimal strings, NEAR's convention for u128.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer


def _to_base_units(value: Any) -> int:
    """Accept an int or a string of digits; refuse floats, bools and anything else."""
    if isinstance(value, bool):
        raise ValueError("an amount cannot be a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise ValueError(
        f"an amount in base units must be an integer or a string of digits, got {value!r}"
    )


U128 = Annotated[
    int,
    BeforeValidator(_to_base_units),
    Field(ge=0, lt=2**128),
    PlainSerializer(str, return_type=str, when_used="json"),
]
"""A non-negative integer below 2**128 (yoctoNEAR, token base units), JSON as a string."""

NEAR = "near"
"""The token id used for native NEAR in flows; NEP-141 tokens are named by their contract id."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TransferSpec(_Frozen):
    kind: Literal["transfer"] = "transfer"
    deposit: U128


class FunctionCallSpec(_Frozen):
    kind: Literal["function_call"] = "function_call"
    method_name: str
    args: dict[str, Any]  # decoded JSON arguments; the signed bytes are their compact JSON
    gas: int = Field(gt=0, lt=2**64)
    deposit: U128 = 0

    def args_bytes(self) -> bytes:
        return json.dumps(self.args, separators=(",", ":")).encode()


ActionSpec = Annotated[TransferSpec | FunctionCallSpec, Field(discriminator="kind")]


class TransactionSpec(_Frozen):
    """One transaction to sign: signer, receiver and its actions, in order."""

    signer_id: str
    receiver_id: str
    actions: tuple[ActionSpec, ...]


class TokenFlow(_Frozen):
    """Value leaving the user's account: ``amount`` of ``token`` to ``recipient``."""

    token: str  # NEAR or a token contract id
    amount: U128
    recipient: str
    purpose: str = ""  # "transfer", "swap_in", "storage_deposit", "wrap", ...


class Quote(_Frozen):
    """An exchange quote the action was priced from."""

    token_in: str
    token_out: str
    amount_in: U128
    amount_out: U128
    min_amount_out: U128
    pool_ids: tuple[int, ...]
    max_slippage_bps: int = Field(ge=0, le=10_000)
    fetched_at: datetime
    source: str  # exchange contract id


class CanonicalAction(_Frozen):
    """Everything that will happen if this action is approved."""

    tool: str
    signer_id: str
    transactions: tuple[TransactionSpec, ...]
    outflows: tuple[TokenFlow, ...] = ()
    recipients: tuple[str, ...] = ()
    quote: Quote | None = None
    preview: str
    args: dict[str, Any] = {}  # the tool call's arguments (a read-only tool reads by them)

    def canonical_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def action_hash(self) -> str:
        """What a confirmation is bound to: any change to the action changes the hash."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()
