"""The offline planner: deterministic rules that turn the user's words into a Plan, no model.

It is the embedded default, so it must be predictable: every clause of the sentence either
matches one rule completely and becomes one step, or the whole plan is refused with a message
that shows how to say it. Only the user's own words are planned; quoted text is data (a label),
never a command. Nothing here touches the network; contacts come from a callable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from agent.plan import (
    AmountError,
    Plan,
    PlanStep,
    StepError,
    canonical_token,
    check_args,
    is_account_id,
    normalise_amount,
)
from agent.planner.lexicon import MONEY_VERB, STATUS_WORDS, TOKEN_WORDS_NOT_SYMBOLS, VAGUE_AMOUNT
from agent.planner.messages import (
    examples_for,
    not_understood,
    too_long,
    unknown_contact,
)
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


class Refusal(Exception):
    """Why a clause cannot become a step; shown to the user, followed by examples if asked."""

    def __init__(self, message: str, *, examples: bool = True) -> None:
        super().__init__(message)
        self.examples = examples


class OfflinePlanner:
    """Rule-based planner for English, Japanese and Chinese intents."""

    name = "offline"

    def __init__(
        self,
        contacts: Callable[[str], str | None] | None = None,
        default_token: str = "NEAR",
    ) -> None:
        token = canonical_token(default_token)
        if token is None:
            raise ValueError(f"default_token {default_token!r} is not a token symbol or contract")
        self._contacts = contacts
        self._default_token = token

    def plan(self, text: str) -> Plan:
        """A plan for the whole text, or a refusal that says why and gives examples."""
        intent = text.strip() if isinstance(text, str) else ""
        if not intent:
            return self._refuse(intent, "Nothing to plan.")
        if len(intent) > MAX_TEXT_CHARS:
            return self._refuse(intent, too_long(MAX_TEXT_CHARS))
        prepared = prepare(intent)
        if not prepared.clauses:
            return self._refuse(intent, not_understood(intent))
        if len(prepared.clauses) > MAX_STEPS:
            return self._refuse(
                intent,
                f"That is {len(prepared.clauses)} actions; at most {MAX_STEPS} can be planned "
                "at once, so nothing will run. Split the request into smaller ones.",
            )
        steps: list[PlanStep] = []
        for index, clause in enumerate(prepared.clauses, start=1):
            try:
                tool, args = self._step(clause, prepared)
                steps.append(
                    PlanStep.model_validate({"tool": tool, "args": check_args(tool, args, index)})
                )
            except Refusal as refusal:
                message = prepared.restore_all(str(refusal))
                return self._refuse(intent, message, examples=refusal.examples)
            except StepError as exc:
                message = prepared.restore_all(f'Cannot plan "{clause}": {exc}.')
                return self._refuse(intent, message)
        return Plan(intent=intent, steps=steps, planner="offline")

    def _refuse(self, intent: str, error: str, *, examples: bool = True) -> Plan:
        message = f"{error} {examples_for(intent)}" if examples else error
        return Plan.refuse(intent, message, "offline")

    def _step(self, clause: str, prepared: Prepared) -> tuple[str, dict[str, Any]]:
        bare, bps = _take_slippage(clause)
        matched = match_clause(bare) or match_clause(bare.replace("、", " "))
        if matched is None:
            raise Refusal(_why_not(clause))
        tool, slots = matched
        if bps is not None and tool != "swap":
            raise Refusal(f'Slippage only applies to a swap, but "{clause}" is not one.')
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
        if tool == "balance":
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


def _why_not(clause: str) -> str:
    """The most specific reason a clause matched no rule."""
    vague = _VAGUE.search(clause)
    if vague is not None and _MONEY.search(clause):
        return (
            f'"{vague.group(0)}" in "{clause}" is not an exact amount; nothing is moved without '
            "an exact number."
        )
    return not_understood(clause)
