"""The activity view's types: one row per intent, a page, a filter, an intent's story.

Declared here once and re-exported by :mod:`memory.audit.activity`, the public API; the modules
that derive rows and stories import them from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from memory.audit.text import shown

Outcome = Literal[
    "done",  # every step completed on chain
    "denied",  # the policy said no (detail: the deciding rule's words)
    "declined",  # someone was asked and said no
    "refused",  # not understood, or a tool refused the arguments: nothing was prepared
    "failed",  # a transaction or step failed
    "unknown",  # sent, fate unknown: left to reconcile
    "needs_approval",  # waiting for an approval (the inbox, for strategies)
    "expired",  # an approval request expired unanswered
    "skipped",  # a strategy's fire that did not act (paused, abandoned)
    "pending",  # started and not finished (or still running)
    "recorded",  # not an action: a grant change, a pause, an anchor
]
OUTCOMES: tuple[str, ...] = Outcome.__args__  # type: ignore[attr-defined]

_OUTCOME_WORDS: dict[str, str] = {
    **{o: o for o in OUTCOMES},
    "deny": "denied",
    "denial": "denied",
    "allow": "done",
    "allowed": "done",
    "ok": "done",
    "success": "done",
    "succeeded": "done",
    "decline": "declined",
    "refuse": "refused",
    "fail": "failed",
    "error": "failed",
    "confirm": "needs_approval",
    "approval": "needs_approval",
    "needs-approval": "needs_approval",
    "awaiting_approval": "needs_approval",
    "waiting": "needs_approval",
    "expire": "expired",
    "skip": "skipped",
    "running": "pending",
}


def parse_outcome(word: str) -> Outcome:
    """The outcome a user's word means (``denied`` or ``deny``, ``allowed``, ``ok``, ...).

    Raises ValueError naming the outcomes when the word means none of them.
    """
    key = word.strip().lower().replace(" ", "_")
    if key in _OUTCOME_WORDS:
        return _OUTCOME_WORDS[key]  # type: ignore[return-value]
    raise ValueError(f"{word!r} is not an outcome; use one of: {', '.join(OUTCOMES)}")


@dataclass(frozen=True)
class TokenUnits:
    """Decimals and symbols of the tokens the caller knows (token contract id -> (decimals,
    symbol)); native NEAR ("near") is always known. An unknown token is shown in base units."""

    known: Mapping[str, tuple[int, str]] = field(default_factory=dict)

    def show(self, token: str, units: int, *, signed: bool = False) -> str:
        """``2 NEAR``, ``5.98188 USDC``, ``+5.98188 USDC`` (signed) or ``17 base units of x``:
        as a person reads them (at most 6 decimals, cut toward zero); the exact base units are
        in the row's data and in ``audit show --trace``."""
        from tools.amounts import display_amount
        from tools.tokens import NEAR_DECIMALS

        if token == "near":
            decimals, symbol = NEAR_DECIMALS, "NEAR"
        elif token in self.known:
            decimals, symbol = self.known[token]
        else:
            sign = "+" if signed and units > 0 else ""
            return f"{sign}{units} base units of {shown(token)}"
        sign = "+" if signed and units > 0 else ""
        return f"{sign}{display_amount(units, decimals)} {shown(symbol)}"

    def show_usd(self, micro: int) -> str:
        """``$12.5`` from micro-dollars (how the policy measures USD budgets)."""
        from tools.amounts import format_amount

        return f"${format_amount(micro, 6)}"


class Amount(BaseModel):
    """An amount of one token: base units (a decimal string, signed for balance changes) and
    the same in whole tokens for people."""

    model_config = ConfigDict(frozen=True)

    token: str  # token contract id, or "near" for native NEAR
    units: str = Field(pattern=r"^-?[0-9]+$")
    display: str


class IntentRow(BaseModel):
    """One intent (everything under one correlation id), as a row of the activity view."""

    model_config = ConfigDict(frozen=True)

    intent_id: str
    started_at: datetime
    ended_at: datetime
    first_entry: int  # also the row's position: Page.next_cursor is the last row's
    last_entry: int
    entry_count: int
    # "user", "scheduler", "system"; "console" or "mcp:<client>" for what those surfaces record
    actor: str
    strategy: str | None = None  # the strategy id, when a strategy fired it
    asked: str  # the intent text, or the tool call in words
    tools: list[str] = Field(default_factory=list)
    outcome: Outcome
    detail: str = ""  # why: the deciding rule's words, the error, or the tool's summary
    amounts: list[Amount] = Field(default_factory=list)  # what it was asked to move
    balance_changes: list[Amount] = Field(default_factory=list)  # what moved, signed
    fee: Amount | None = None  # gas paid in NEAR, when known
    tx_hashes: list[str] = Field(default_factory=list)
    network: str | None = None


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of results, newest first; pass ``next_cursor`` as ``before_cursor`` for more."""

    items: list[T]
    next_cursor: str | None = None


class ActivityFilter(BaseModel):
    """Which intents to list; every given field must match."""

    since: datetime | None = None  # started at or after
    until: datetime | None = None  # started before
    actor: str | None = None  # "user", "scheduler", "console", "mcp" (any client) or "mcp:x"
    strategy: str | None = None
    outcome: Outcome | None = None
    text: str | None = None  # words of the intent, a tx hash, an intent id prefix, a tool


class RuleVerdict(BaseModel):
    """One rule's verdict on an action, in the words the policy engine recorded."""

    grant: str  # "" for rules outside any grant (decode, global ceiling)
    rule: str
    result: str  # allow, deny, confirm
    code: str
    words: str  # the rule's own words ("50 NEAR exceeds 5 NEAR per action"), or its code


StoryStage = Literal[
    "message",
    "plan",
    "prepared",
    "check",
    "approval",
    "transaction",
    "receipts",
    "balance",
    "outcome",
    "error",
    "schedule",
    "record",
]


class StoryStep(BaseModel):
    """One step of an intent's story: a sentence for people and the entries it comes from."""

    stage: StoryStage
    sentence: str
    entry_ids: list[int]
    verdicts: list[RuleVerdict] = Field(default_factory=list)  # the whole trace, for checks


class IntentStory(BaseModel):
    """Everything about one intent: its row, its steps in order and its raw entries."""

    intent: IntentRow
    steps: list[StoryStep]
    entries: list[dict[str, object]]  # every entry, exactly as exported (the full trace)
    matched: str  # how the reference was resolved: "tx hash", "intent id", "entry id"


class IntentNotFound(LookupError):
    """A reference matches no intent, or several (the message says which)."""
