"""The arguments of every tool call, and the one gate that validates them.

Each tool names its argument model on its class (``tools.base.Tool.Args``); ``validate_args``
finds it through ``tools.registry``, so no table here lists the tools.

A planner (offline rules or an LLM) proposes ``{"tool": ..., "args": {...}}``; the plan checks it
with ``check_args`` and the tool layer parses it again with the very same models before anything
is prepared, so what a plan shows is exactly what a tool receives. The models are strict: unknown
or missing fields, wrong types and float amounts are refused with a message naming the field;
account ids follow NEAR's rules, token symbols are put in their canonical case, and amounts become
exact decimal text in whole tokens (the grammar lives in ``tools.amounts``).

``transfer`` requires its ``token``: docs/architecture.md's contract is ``transfer {receiver_id,
amount, token}``, and a transfer whose token was left out is too ambiguous to default to NEAR.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    model_validator,
)

from tools.amounts import normalise_amount_text
from tools.base import ToolArgs
from tools.errors import AmountError, InvalidAccountIdError
from tools.network import (
    check_account_id,
    is_token_symbol,
    is_valid_account_id,
    names_a_contract,
)
from tools.text_screen import DeceptiveTextError, check_visible

__all__ = [
    "CANONICAL_SYMBOLS",
    "MAX_AMOUNT_CHARS",
    "MAX_LABEL_CHARS",
    "MAX_TASK_ID",
    "AccountIdError",
    "AmountError",
    "BalanceArgs",
    "ClaimRewardsArgs",
    "ListTasksArgs",
    "SubmitLabelArgs",
    "SwapArgs",
    "TransferArgs",
    "canonical_token",
    "is_account_id",
    "normalise_amount",
]

MAX_AMOUNT_CHARS = 80
MAX_LABEL_CHARS = 1000
MAX_TASK_ID = 2**64 - 1

CANONICAL_SYMBOLS: Mapping[str, str] = MappingProxyType(
    {"near": "NEAR", "wnear": "wNEAR", "usdc": "USDC", "usdt": "USDT", "ref": "REF"}
)


class AccountIdError(InvalidAccountIdError, ValueError):
    """An invalid account id in the arguments; a ValueError so pydantic reports it per field."""


def is_account_id(text: str) -> bool:
    """NEAR account id rules: 2-64 chars, lowercase a-z 0-9 - _ ., no edge or doubled separators.

    Implicit accounts (64 lowercase hex chars) satisfy the same rule. The rule itself lives in
    ``tools.network`` so the plan and the tools can never disagree about it.
    """
    return is_valid_account_id(text)


def canonical_token(text: str) -> str | None:
    """A known symbol in its canonical case, a symbol as written, or a contract id; else None.

    Symbols are compared case-insensitively ("usdc" -> "USDC"); a contract id is any valid
    account id containing a dot, or an implicit (hex) account, passed through unchanged; a
    symbol may carry a short suffix (USDC.e), as bridged tokens do.
    """
    if not isinstance(text, str):
        return None
    word = text.strip()
    known = CANONICAL_SYMBOLS.get(word.lower())
    if known is not None:
        return known
    if names_a_contract(word):
        return word
    if is_token_symbol(word):
        return word
    return None


def normalise_amount(value: Any) -> str:
    """Exact decimal text of a positive amount as a planner may write it: "1,000.25" -> "1000.25".

    The shared grammar of ``tools.amounts``, plus what a plan must not contain: more than
    ``MAX_AMOUNT_CHARS`` characters, or a trailing "." that makes the number look cut off.
    """
    return normalise_amount_text(value, trailing_point=False, max_chars=MAX_AMOUNT_CHARS)


def _account(value: Any) -> str:
    if not isinstance(value, str):
        raise AccountIdError(f"must be a NEAR account id string, not a {type(value).__name__}")
    try:
        check_visible(value, "account id")
    except DeceptiveTextError as exc:
        raise AccountIdError(exc.message, account_id=exc.details["text"]) from None
    try:
        return check_account_id(value)
    except InvalidAccountIdError as exc:
        raise AccountIdError(exc.message, **exc.details) from None


def _token(value: Any) -> str:
    if not isinstance(value, str):
        kind = type(value).__name__
        raise ValueError(f"must be a token symbol or contract id string, not {kind}")
    token = canonical_token(value)
    if token is None:
        raise ValueError(
            f"{value!r} is neither a token symbol (like NEAR or USDC) nor a contract account id"
        )
    return token


def _label(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not a {type(value).__name__}")
    if not value.strip():
        raise ValueError("is empty")
    if len(value) > MAX_LABEL_CHARS:
        raise ValueError(f"is longer than {MAX_LABEL_CHARS} characters")
    return value


Amount = Annotated[
    str,
    BeforeValidator(normalise_amount),
    Field(description='Decimal string in whole tokens exactly as the user wrote it, e.g. "2.5"'),
]
AccountId = Annotated[
    str, BeforeValidator(_account), Field(description="NEAR account id, e.g. bob.near")
]
Token = Annotated[
    str,
    BeforeValidator(_token),
    Field(description='"NEAR", a token symbol such as "USDC", or a token contract id'),
]
Label = Annotated[str, BeforeValidator(_label), Field(description="The label text")]
TaskId = Annotated[StrictInt, Field(ge=0, le=MAX_TASK_ID)]


class _Args(ToolArgs):
    """Values are kept exactly as validated: a label is submitted as the plan shows it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class TransferArgs(_Args):
    """Send an amount of NEAR or a fungible token to an account."""

    receiver_id: AccountId = Field(description="the NEAR account that receives the tokens")
    amount: Amount = Field(description='whole tokens as a decimal string, e.g. "1.5"')
    token: Token = Field(description="NEAR, a token symbol or a token contract id")


class SwapArgs(_Args):
    """Swap an exact amount of one token for another on the exchange."""

    token_in: Token = Field(description="what to sell: NEAR, a symbol or a contract id")
    token_out: Token = Field(description="what to buy: NEAR, a symbol or a contract id")
    amount_in: Amount = Field(description='whole tokens to sell as a decimal string, e.g. "5"')
    max_slippage_bps: Annotated[StrictInt, Field(ge=0, le=10_000)] | None = Field(
        default=None, description="optional; may only lower the user's configured maximum"
    )

    @model_validator(mode="after")
    def _different_tokens(self) -> SwapArgs:
        if self.token_in.lower() == self.token_out.lower():
            raise ValueError(f"token_in and token_out are both {self.token_in!r}")
        return self


class BalanceArgs(_Args):
    """Show the balance of one token, or of every known token."""

    token: Token | None = Field(
        default=None, description="NEAR, a token symbol or contract id; omit for every known token"
    )


class ListTasksArgs(_Args):
    """List labelling tasks, optionally only open or closed ones."""

    status: Literal["open", "closed"] | None = Field(
        default=None, description="open or closed; omit for all"
    )


class SubmitLabelArgs(_Args):
    """Submit a label for an item of a labelling task."""

    task_id: TaskId
    item_id: TaskId | None = Field(
        default=None, description="omit for the first item this account hasn't labelled"
    )
    label: Label


class ClaimRewardsArgs(_Args):
    """Claim the rewards earned on labelling tasks (all of them when no ids are given)."""

    task_ids: Annotated[list[TaskId], Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="omit to claim from every task"
    )
