"""The offline planner: deterministic rules that turn the user's words into a Plan, no model.

It is the embedded default, so it must be predictable: every clause of the sentence either
matches one rule completely and becomes one step, or the whole plan is refused with a message
that shows how to say it. Only the user's own words are planned; quoted text is data (a label),
never a command; a payment, swap, claim or label comes only from a sentence that instructs (not
one that denies, asks or imagines, see ``mood``). Nothing here touches the network; contacts come
from a callable.

``read`` exposes what the grammar reads clause by clause; the LLM planner's grounding compares a
model's plan against exactly these readings, so there is one grammar for both planners.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from agent.plan import (
    CANONICAL_SYMBOLS,
    AmountError,
    Plan,
    PlanStep,
    StepError,
    canonical_token,
    check_args,
    is_account_id,
    normalise_amount,
)
from agent.planner.lexicon import (
    EN_SEND_WORDS,
    EN_SWAP_WORDS,
    MONEY_VERB,
    STATUS_WORDS,
    TOKEN_WORDS_NOT_SYMBOLS,
    VAGUE_AMOUNT,
)
from agent.planner.messages import (
    examples_for,
    not_understood,
    too_long,
    unknown_contact,
)
from agent.planner.mood import Mood
from agent.planner.protocol import PlannerContext
from agent.planner.rules import SLIPPAGE, SLIPPAGE_MENTION, match_clause
from agent.planner.text import Prepared, prepare

MAX_TEXT_CHARS = 2000
MAX_STEPS = 8

_VAGUE = re.compile(VAGUE_AMOUNT, re.IGNORECASE)
_MONEY = re.compile(MONEY_VERB, re.IGNORECASE)
_ID = re.compile(r"\d+")
_BPS_UNITS = frozenset(
    {"bps", "bp", "basispoint", "basispoints", "ベーシスポイント", "个基点", "基点"}
)
# Tools that move funds, and those that need the user's instruction: every tool that acts (a
# claim receives funds, a label is signed on the user's behalf); only reading needs none.
FUND_MOVING = frozenset({"transfer", "swap"})
NEEDS_INSTRUCTION = FUND_MOVING | {"claim_rewards", "claim_lostfound", "submit_label"}
# "send 1 NEAR to bob and 3 NEAR to carol": a money verb, then amounts that share it.
_LEADING_MONEY_VERB = re.compile(rf"^(?P<verb>{EN_SEND_WORDS}|{EN_SWAP_WORDS})\s+", re.IGNORECASE)
_AND_AN_AMOUNT = re.compile(r"\s*,?\s*\band\s+(?=\.?\d)|\s*,\s*(?=\.?\d)", re.IGNORECASE)
_STARTS_WITH_AMOUNT = re.compile(r"^\.?\d")


class Refusal(Exception):
    """Why a clause cannot become a step; shown to the user, followed by examples if asked."""

    def __init__(self, message: str, *, examples: bool = True) -> None:
        super().__init__(message)
        self.examples = examples


@dataclass(frozen=True)
class ClauseReading:
    """What the grammar reads in one clause: a tool call, or why it cannot read one."""

    clause: str  # as the user wrote it (quotes restored)
    mood: Mood
    tool: str | None = None
    args: Mapping[str, Any] | None = None
    refusal: str | None = None
    examples: bool = True

    @property
    def moves_funds(self) -> bool:
        return self.tool in FUND_MOVING

    def not_instructed(self) -> str | None:
        """Why this reading must not run although it was read: the sentence is no instruction."""
        if self.tool not in NEEDS_INSTRUCTION or self.mood.instruction:
            return None
        why = (
            f'"{self.clause}" is not an instruction: {self.mood.why_not_an_instruction()}, '
            "so nothing will be sent, swapped, claimed or labelled."
        )
        if self.tool == "submit_label" and self.args is not None:
            # a label is free text ("no", "not spam"); quoted, it is data and says nothing
            task, label = self.args["task_id"], self.args["label"]
            why += (
                f' If those words are the label itself, quote it: label task {task} as "{label}".'
            )
        return why


@dataclass(frozen=True)
class TextReading:
    """The grammar's reading of a whole text: each clause, or why the text cannot be read."""

    intent: str
    clauses: tuple[ClauseReading, ...] = ()
    refusal: str | None = None


class OfflinePlanner:
    """Rule-based planner for English, Japanese and Chinese intents."""

    name = "offline"

    def __init__(
        self,
        contacts: Callable[[str], str | None] | None = None,
        default_token: str = "NEAR",
        unavailable: Mapping[str, str] | None = None,
        language: str = "auto",
    ) -> None:
        """``unavailable``: tool name -> why this network cannot run it (tools.registry); a
        clause that reads as one of them is refused with that reason. ``language``: the reply
        language preference ("auto" follows the words)."""
        token = canonical_token(default_token)
        if token is None:
            raise ValueError(f"default_token {default_token!r} is not a token symbol or contract")
        self._contacts = contacts
        self._default_token = token
        self._unavailable = dict(unavailable or {})
        self._language = language

    async def plan(self, text: str, context: PlannerContext | None = None) -> Plan:
        """The ``Planner`` call: the grammar needs no context and never waits."""
        return self.plan_text(text)

    def plan_text(self, text: str) -> Plan:
        """A plan for the whole text, or a refusal that says why and gives examples."""
        reading = self.read(text)
        if reading.refusal is not None:
            return self._refuse(reading.intent, reading.refusal)
        steps: list[PlanStep] = []
        for clause in reading.clauses:
            if clause.refusal is not None:
                return self._refuse(reading.intent, clause.refusal, examples=clause.examples)
            if clause.tool in self._unavailable:
                why = self._unavailable[clause.tool]
                return self._refuse(
                    reading.intent, f'Cannot do "{clause.clause}": {why}.', examples=False
                )
            not_instructed = clause.not_instructed()
            if not_instructed is not None:
                return self._refuse(reading.intent, not_instructed)
            steps.append(PlanStep.model_validate({"tool": clause.tool, "args": clause.args}))
        return Plan(intent=reading.intent, steps=steps, planner="offline")

    def read(self, text: str, *, ellipsis: bool = False) -> TextReading:
        """What the grammar reads in each clause of the text, with each clause's mood.

        With ``ellipsis``, a clause that shares the money verb of the one before it ("send 1 NEAR
        to bob and 3 NEAR to carol", "..., then 2 NEAR to bob again") is read as one clause per
        amount with that verb written out; the planner itself does not guess this, but grounding
        may read it, since it only ever narrows what a model proposes.
        """
        intent = text.strip() if isinstance(text, str) else ""
        if not intent:
            return TextReading(intent, refusal="Nothing to plan.")
        if len(intent) > MAX_TEXT_CHARS:
            return TextReading(intent, refusal=too_long(MAX_TEXT_CHARS))
        prepared = prepare(intent)
        if not prepared.clauses:
            return TextReading(intent, refusal=not_understood(intent, self._language))
        if len(prepared.clauses) > MAX_STEPS:
            return TextReading(
                intent,
                refusal=f"That is {len(prepared.clauses)} actions; at most {MAX_STEPS} can be "
                "planned at once, so nothing will run. Split the request into smaller ones.",
            )
        readings: list[ClauseReading] = []
        verb: str | None = None
        for index, clause in enumerate(prepared.clauses):
            mood = prepared.mood(index)
            same_sentence = index > 0 and (
                prepared.sentence_of[index] == prepared.sentence_of[index - 1]
            )
            carried = verb if same_sentence else None
            reading = self._read_clause(clause, prepared, mood, len(readings) + 1)
            if ellipsis and reading.tool is None:
                parts = _elliptical_parts(clause, carried)
                if parts is not None:
                    split = [
                        self._read_clause(part, prepared, mood, len(readings) + 1 + n)
                        for n, part in enumerate(parts)
                    ]
                    if all(_token_written(r, part) for r, part in zip(split, parts, strict=True)):
                        readings.extend(split)
                        verb = carried or _leading_verb(clause)
                        continue
            readings.append(reading)
            verb = _leading_verb(clause) if reading.moves_funds else None
        return TextReading(intent, tuple(readings))

    def _read_clause(
        self, clause: str, prepared: Prepared, mood: Mood, index: int
    ) -> ClauseReading:
        shown = prepared.restore_all(clause)
        try:
            tool, args = self._step(clause, prepared)
            return ClauseReading(shown, mood, tool, check_args(tool, args, index))
        except Refusal as refusal:
            message = prepared.restore_all(str(refusal))
            return ClauseReading(shown, mood, refusal=message, examples=refusal.examples)
        except StepError as exc:
            message = prepared.restore_all(f'Cannot plan "{clause}": {exc}.')
            return ClauseReading(shown, mood, refusal=message)

    def _refuse(self, intent: str, error: str, *, examples: bool = True) -> Plan:
        message = f"{error} {examples_for(intent, self._language)}" if examples else error
        return Plan.refuse(intent, message, "offline")

    def _step(self, clause: str, prepared: Prepared) -> tuple[str, dict[str, Any]]:
        bare, bps = _take_slippage(clause)
        matched = match_clause(bare) or match_clause(bare.replace("、", " "))
        if matched is None:
            raise Refusal(_why_not(clause, self._language))
        tool, slots = matched
        if bps is not None and tool != "swap":
            raise Refusal(f'Slippage only applies to a swap, but "{clause}" is not one.')
        if tool == "exact_out":
            raise Refusal(
                f'"{clause}" names the amount to receive; only an exact amount of the token you '
                'pay with can be swapped, so say how much you sell, like "swap 10 USDC to NEAR".'
            )
        if tool == "transfer":
            return tool, {
                "receiver_id": self._recipient(slots["recipient"]),
                "amount": _amount(slots["amount"], clause),
                "token": self._token(slots.get("token"), clause, default=True),
            }
        if tool == "swap":
            args: dict[str, Any] = {
                "token_in": self._token(slots["token_in"], clause),
                "token_out": self._token(slots["token_out"], clause),
                "amount_in": _amount(slots["amount_in"], clause),
            }
            if bps is not None:
                args["max_slippage_bps"] = bps
            return tool, args
        if tool in ("balance", "claim_lostfound"):
            token = slots.get("token")
            return tool, {} if token is None else {"token": self._token(token, clause)}
        if tool == "list_tasks":
            status = slots.get("status")
            return tool, {} if status is None else {"status": STATUS_WORDS[status.lower()]}
        if tool == "submit_label":
            return tool, _label_args(slots, prepared, clause)
        ids = slots.get("ids")
        return tool, {} if ids is None else {"task_ids": _task_ids(ids)}

    def _token(self, raw: str | None, clause: str, *, default: bool = False) -> str:
        if raw is None:
            if default:
                return self._default_token
            raise Refusal(f'Say which token in "{clause}", for example NEAR or USDC.')
        if raw.lower() in TOKEN_WORDS_NOT_SYMBOLS:
            raise Refusal(f'"{raw}" in "{clause}" is not a token; say which, e.g. NEAR or USDC.')
        token = canonical_token(raw)
        if (
            token is not None
            and raw.lower() not in CANONICAL_SYMBOLS
            and "." not in raw
            and len(raw) != 64
            and self._lookup(raw) is not None
        ):
            raise Refusal(
                f'"{raw}" in "{clause}" is one of your contacts, not a token; a token is a symbol '
                "(like NEAR or USDC) or a token contract id."
            )
        if token is None:
            raise Refusal(
                f'"{raw}" in "{clause}" is not a token symbol (like NEAR or USDC) or a token '
                "contract id (like usdc.fakes.testnet)."
            )
        return token

    def _recipient(self, raw: str) -> str:
        """An account id as written, or a contact's account; never a guess."""
        if "." in raw or len(raw) == 64:
            if is_account_id(raw):
                return raw
            if is_account_id(raw.lower()):
                raise Refusal(f'"{raw}" is not a valid account id: NEAR account ids are lowercase.')
            raise Refusal(
                f'"{raw}" is not a valid NEAR account id (2-64 characters of a-z, 0-9, "-", "_", '
                '"." with no separator at either end or twice in a row).'
            )
        account = self._lookup(raw)
        if account is None and not is_account_id(raw.lower()):
            raise Refusal(f'"{raw}" is neither a known contact nor a valid NEAR account id.')
        if account is None:
            raise Refusal(unknown_contact(raw), examples=False)
        if not is_account_id(account):
            raise Refusal(f'The contact "{raw}" points to {account!r}, which is not an account id.')
        return account

    def _lookup(self, name: str) -> str | None:
        if self._contacts is None:
            return None
        for candidate in dict.fromkeys((name, name.lower())):
            try:
                account = self._contacts(candidate)
            except Exception as exc:  # an address book failure must not crash planning
                raise Refusal(f'Could not look up the contact "{name}": {exc}') from None
            if account:
                return account.strip() if isinstance(account, str) else None
        return None


def _leading_verb(clause: str) -> str | None:
    found = _LEADING_MONEY_VERB.match(clause)
    return found.group("verb") if found is not None else None


def _token_written(reading: ClauseReading, part: str) -> bool:
    """A clause read out of an elliptical sentence counts only if it names its own token: in
    "send 1 USDC to bob, 3 to carol" the 3 is not read as the default token."""
    if reading.tool != "transfer" or reading.args is None:
        return reading.tool is not None
    token = re.escape(str(reading.args["token"]))
    return re.search(rf"(?<![\w.\-]){token}(?![\w\-]|\.\w)", part, re.IGNORECASE) is not None


def _elliptical_parts(clause: str, carried_verb: str | None) -> list[str] | None:
    """The clause as one clause per amount, each with the money verb written out; or None."""
    verb = _leading_verb(clause)
    if verb is not None:
        body = clause
    elif carried_verb is not None and _STARTS_WITH_AMOUNT.match(clause):
        verb, body = carried_verb, f"{carried_verb} {clause}"
    else:
        return None
    parts = [part.strip() for part in _AND_AN_AMOUNT.split(body)]
    if any(not part for part in parts) or (len(parts) == 1 and body is clause):
        return None
    return [parts[0], *(f"{verb} {part}" for part in parts[1:])]


def _take_slippage(clause: str) -> tuple[str, int | None]:
    """The clause without its slippage phrase, and the slippage in basis points if stated."""
    found: list[int] = []
    bare = clause
    for pattern in SLIPPAGE:
        match = pattern.search(bare)
        if match is None:
            continue
        found.append(_bps(match.group("pct"), match.group("unit"), clause))
        bare = (bare[: match.start()] + " " + bare[match.end() :]).strip()
        bare = re.sub(r"\s+", " ", bare)
    if len(found) > 1 or (found and SLIPPAGE_MENTION.search(bare)):
        raise Refusal(f'State the slippage once in "{clause}", like "with 0.5% slippage".')
    if not found and SLIPPAGE_MENTION.search(clause):
        raise Refusal(
            f'Could not read the slippage in "{clause}"; write it like "with 0.5% slippage" '
            "(スリッページ0.5%で / 滑点0.5%)."
        )
    return bare, (found[0] if found else None)


def _bps(number: str, unit: str, clause: str) -> int:
    value = Decimal(number)
    bps = value if re.sub(r"\s+", "", unit.lower()) in _BPS_UNITS else value * 100
    if bps != bps.to_integral_value():
        raise Refusal(f'The slippage in "{clause}" is finer than one basis point (0.01%).')
    if bps > 10_000:
        raise Refusal(f'The slippage in "{clause}" is above 100%.')
    return int(bps)


def _amount(raw: str, clause: str) -> str:
    try:
        return normalise_amount(raw)
    except AmountError as exc:
        raise Refusal(f'The amount in "{clause}" is not usable: {exc}.') from None


def _task_ids(raw: str) -> list[int]:
    return list(dict.fromkeys(int(i) for i in _ID.findall(raw)))


def _label_args(slots: dict[str, str], prepared: Prepared, clause: str) -> dict[str, Any]:
    label = prepared.restore(slots["label"].strip())  # quoted text comes back exactly
    if not label.strip():
        raise Refusal(f'The label in "{clause}" is empty.')
    args: dict[str, Any] = {"task_id": int(slots["task"]), "label": label}
    if "item" in slots:
        args["item_id"] = int(slots["item"])
    return args


def _why_not(clause: str, language: str) -> str:
    """The most specific reason a clause matched no rule."""
    vague = _VAGUE.search(clause)
    if vague is not None and _MONEY.search(clause):
        return (
            f'"{vague.group(0)}" in "{clause}" is not an exact amount; nothing is moved without '
            "an exact number."
        )
    return not_understood(clause, language)
