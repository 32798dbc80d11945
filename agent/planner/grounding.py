"""Grounding: the values that move money must come from the user's own words.

A model reads data it did not write (task texts, token names, chain state). Whatever that data
says, a transfer's recipient, amount and token, and a swap's amount and tokens, must be traceable
to the user's message: the amount written next to the token it is an amount of, the recipient
written out or a contact the user named. Each written amount backs one step only. This check runs
in code on every model-proposed plan, so an instruction injected into data cannot add, enlarge or
redirect a payment.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

# A number standing on its own, thousands commas only in groups of three. Digits glued to a name
# on the left ("user5000") or continuing into one ("5000.near") are part of an account id.
_NUMBER = re.compile(
    r"(?<![a-z0-9_.,\-])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![0-9_,\-]|\.\d|\.[a-z])"
)
_GAP = 4  # characters allowed between an amount and its token: "5 NEAR", "2个NEAR", "5NEARを"


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace("。", ".").lower()


def _decimal(text: Any) -> Decimal | None:
    try:
        return Decimal(str(text).replace(",", ""))
    except InvalidOperation:
        return None


def _numbers_with_positions(text: str) -> list[tuple[Decimal, int, int]]:
    """Standalone numbers in the normalised text, with where they stand."""
    found = []
    for match in _NUMBER.finditer(_normalise(text)):
        value = _decimal(match.group(1))
        if value is not None:
            found.append((value, match.start(1), match.end(1)))
    return found


def numbers_in(text: str) -> set[Decimal]:
    """Every standalone number the text writes."""
    return {value for value, _, _ in _numbers_with_positions(text)}


def accounts_named_in(
    text: str, resolve_contact: Callable[[str], str | None] | None = None
) -> set[str]:
    """Account ids written in the text, plus the accounts of contacts it names."""
    words = set(re.findall(r"[a-z0-9_.\-]+", _normalise(text)))
    named = {word.strip(".") for word in words}
    if resolve_contact is not None:
        for word in list(named):
            account = resolve_contact(word)
            if account:
                named.add(account.lower())
    return named


def _token_near_amount(text: str, start: int, end: int, token: str) -> bool:
    """Whether ``token`` is written right after (or right before) the amount at start:end."""
    cleaned = _normalise(text)
    name = re.escape(token.lower())
    after = re.match(rf"[^0-9]{{0,{_GAP}}}?{name}(?![a-z0-9_\-]|\.[a-z0-9])", cleaned[end:])
    before = re.search(rf"(?<![a-z0-9_.\-]){name}[^0-9a-z]{{0,{_GAP}}}$", cleaned[:start])
    return after is not None or before is not None


def token_named(text: str, token: str) -> bool:
    """The token's symbol or contract id appears in the text as a word."""
    cleaned = _normalise(text)
    name = re.escape(token.lower())
    return re.search(rf"(?<![a-z0-9_.\-]){name}(?![a-z0-9_\-]|\.[a-z0-9])", cleaned) is not None


def ungrounded_plan(
    steps: Sequence[tuple[str, dict[str, Any]]],
    user_text: str,
    resolve_contact: Callable[[str], str | None] | None = None,
) -> list[str]:
    """Problems with a whole plan; each written amount may back one money-moving step."""
    available = Counter(
        (value, start, end) for value, start, end in _numbers_with_positions(user_text)
    )
    problems: list[str] = []
    for index, (tool, args) in enumerate(steps, start=1):
        for problem in _step_problems(tool, args, user_text, resolve_contact, available):
            problems.append(f"step {index} ({tool}): {problem}")
    return problems


def ungrounded(
    tool: str,
    args: dict[str, Any],
    user_text: str,
    resolve_contact: Callable[[str], str | None] | None = None,
) -> list[str]:
    """The money-moving values of one step that the user's words do not support."""
    available = Counter(_numbers_with_positions(user_text))
    return _step_problems(tool, args, user_text, resolve_contact, available)


def _step_problems(
    tool: str,
    args: dict[str, Any],
    user_text: str,
    resolve_contact: Callable[[str], str | None] | None,
    available: Counter[tuple[Decimal, int, int]],
) -> list[str]:
    fields = {"transfer": ("amount", "token"), "swap": ("amount_in", "token_in")}.get(tool)
    if fields is None:
        return []
    problems: list[str] = []
    amount_field, token_field = fields
    amount, token = _decimal(args.get(amount_field)), str(args.get(token_field, ""))
    match = next(
        (
            key
            for key, count in available.items()
            if count > 0
            and key[0] == amount
            and _token_near_amount(user_text, key[1], key[2], token)
        ),
        None,
    )
    if match is None:
        problems.append(
            f"{amount_field}={args.get(amount_field)!r} {token} is not an amount you wrote "
            "(or it is already used by another step)"
        )
    else:
        available[match] -= 1
    if tool == "swap" and not token_named(user_text, str(args.get("token_out", ""))):
        problems.append(f"token_out={args.get('token_out')!r} is not a token you named")
    if tool == "transfer":
        receiver = str(args.get("receiver_id", "")).lower()
        if receiver not in accounts_named_in(user_text, resolve_contact):
            problems.append(
                f"receiver_id={args.get('receiver_id')!r} is not an account or contact you named"
            )
    return problems
