"""Grounding: the values that move money must come from the user's own words.

A model reads data it did not write (task texts, token names, chain state). Whatever that data
says, a transfer's recipient and amount and a swap's amount must be traceable to the user's
message (a recipient may also be a contact the user named). This check runs in code on every
model-proposed step, so an instruction injected into data cannot add or redirect a payment.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

_NUMBER = re.compile(r"\d[\d,_]*(?:\.\d+)?|\.\d+")
_WORD = re.compile(r"[a-z0-9_.\-]+")


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace("。", ".").lower()


def numbers_in(text: str) -> set[Decimal]:
    """Every number the text writes, thousands separators removed."""
    found: set[Decimal] = set()
    for token in _NUMBER.findall(_normalise(text)):
        try:
            found.add(Decimal(token.replace(",", "").replace("_", "")))
        except InvalidOperation:
            continue
    return found


def accounts_named_in(
    text: str, resolve_contact: Callable[[str], str | None] | None = None
) -> set[str]:
    """Account ids written in the text, plus the accounts of contacts it names."""
    words = set(_WORD.findall(_normalise(text)))
    named = {word.strip(".") for word in words}
    if resolve_contact is not None:
        for word in list(named):
            account = resolve_contact(word)
            if account:
                named.add(account.lower())
    return named


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        return None


def ungrounded(
    tool: str,
    args: dict[str, Any],
    user_text: str,
    resolve_contact: Callable[[str], str | None] | None = None,
) -> list[str]:
    """The money-moving values of a step that the user's words do not support."""
    problems: list[str] = []
    amount_fields: Iterable[str] = {"transfer": ("amount",), "swap": ("amount_in",)}.get(tool, ())
    numbers = numbers_in(user_text)
    for name in amount_fields:
        value = _decimal(args.get(name))
        if value is None or value not in numbers:
            problems.append(f"{tool}.{name}={args.get(name)!r} is not an amount you wrote")
    if tool == "transfer":
        receiver = str(args.get("receiver_id", "")).lower()
        if receiver not in accounts_named_in(user_text, resolve_contact):
            problems.append(
                f"transfer.receiver_id={args.get('receiver_id')!r} is not an account or contact "
                "you named"
            )
    return problems
