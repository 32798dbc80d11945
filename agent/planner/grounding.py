"""Grounding: a model can narrow what the user asked, never widen or change it.

A model reads data it did not write (task texts, token names, chain state), and it can simply be
wrong. So every fund-moving step it proposes must be a payment or swap the user's own words ask
for, in its role: the offline grammar reads the user's text clause by clause (``OfflinePlanner.
read``, one grammar for both planners), and each transfer must equal one read transfer in
recipient, amount and token, each swap one read swap in sold token, amount and bought token. Each
read clause backs one step, in the order written; the model may leave steps out, never add,
enlarge, redirect or reverse one. A clause from a sentence that denies, asks or imagines ("do
NOT send", "how much would 1 NEAR get me?", "如果...") backs nothing; a contact is only ever read
in a recipient's place and a token in a token's, so a contact named like a token cannot be paid
by a swap. A claim needs the user to mention rewards in an instruction. What the grammar cannot
read grounds nothing: the plan is refused with the field that differs, never guessed.
This check runs in code on every model-proposed plan.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from agent.planner.offline import ClauseReading, OfflinePlanner, TextReading
from agent.planner.text import prepare

# A number standing on its own, thousands commas only in groups of three. Digits glued to a name
# on the left ("user5000") or continuing into one ("5000.near") are part of an account id.
_NUMBER = re.compile(
    r"(?<![a-z0-9_.,\-])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![0-9_,\-]|\.\d|\.[a-z])"
)


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


# The fields that move funds, per tool: who gets paid, how much of what; what is sold for what.
FUND_FIELDS: dict[str, tuple[str, ...]] = {
    "transfer": ("receiver_id", "amount", "token"),
    "swap": ("token_in", "amount_in", "token_out"),
}
_TOKEN_FIELDS = ("token", "token_in", "token_out")
_REWARD_WORDS = re.compile(
    r"(?<![\w.\-])(?:rewards?|earnings|payouts?)(?![\w\-])|報酬|リワード|賞金|奖励|报酬|收益|奖金",
    re.IGNORECASE,
)


def same_value(field: str, proposed: Any, read: Any) -> bool:
    """Whether a proposed field equals what the grammar read (amounts compared as numbers)."""
    if field.startswith("amount"):
        left, right = _decimal(proposed), _decimal(read)
        return left is not None and left == right
    return str(proposed) == str(read)


def matches(tool: str, args: dict[str, Any], clause: ClauseReading) -> bool:
    """A step equals a read clause in its tool and every fund-moving field."""
    if clause.tool != tool or clause.args is None:
        return False
    return all(same_value(f, args.get(f), clause.args.get(f)) for f in FUND_FIELDS[tool])


def read_user_words(
    user_text: str,
    resolve_contact: Callable[[str], str | None] | None = None,
    default_token: str = "NEAR",
) -> TextReading:
    """The grammar's reading of the user's words, shared clauses spelled out ("and 3 to carol")."""
    return OfflinePlanner(contacts=resolve_contact, default_token=default_token).read(
        user_text if isinstance(user_text, str) else "", ellipsis=True
    )


def ungrounded_plan(
    steps: Sequence[tuple[str, dict[str, Any]]],
    user_text: str,
    resolve_contact: Callable[[str], str | None] | None = None,
    *,
    default_token: str = "NEAR",
) -> list[str]:
    """Problems with a whole plan: each fund-moving step must equal one clause of the user's
    words, each clause backs one step, in the order written; nothing may be added."""
    reading = read_user_words(user_text, resolve_contact, default_token)
    fund_clauses = [c for c in reading.clauses if c.moves_funds]
    used: set[int] = set()
    last = -1
    problems: list[str] = []
    for number, (tool, args) in enumerate(steps, start=1):
        where = f"step {number} ({tool})"
        if tool == "claim_rewards":
            problems.extend(f"{where}: {p}" for p in _claim_problems(user_text)[:1])
            continue
        if tool not in FUND_FIELDS:
            continue
        found = next(
            (
                i
                for i, clause in enumerate(fund_clauses)
                if i > last and i not in used and matches(tool, args, clause)
            ),
            None,
        )
        if found is None:
            why = _differences(tool, args, fund_clauses, used, reading, resolve_contact)
            problems.append(f"{where}: {why}")
            continue
        used.add(found)
        last = found
        clause = fund_clauses[found]
        not_instructed = clause.not_instructed()
        if not_instructed is not None:
            problems.append(f"{where}: {not_instructed}")
        problems.extend(f"{where}: {p}" for p in _slippage_problems(tool, args, clause))
    return problems


def ungrounded(
    tool: str,
    args: dict[str, Any],
    user_text: str,
    resolve_contact: Callable[[str], str | None] | None = None,
    *,
    default_token: str = "NEAR",
) -> list[str]:
    """The problems of one step on its own (as if it were the whole plan)."""
    problems = ungrounded_plan(
        [(tool, args)], user_text, resolve_contact, default_token=default_token
    )
    return [p.split(": ", 1)[1] for p in problems]


def _differences(
    tool: str,
    args: dict[str, Any],
    fund_clauses: list[ClauseReading],
    used: set[int],
    reading: TextReading,
    resolve_contact: Callable[[str], str | None] | None,
) -> str:
    """Why a step matches no free clause, naming each field that differs from the nearest one."""
    exact = [i for i, c in enumerate(fund_clauses) if matches(tool, args, c)]
    if any(i not in used for i in exact):
        return f"this {tool} comes in a different order from your words"
    if exact:
        return f"you asked for this {tool} fewer times than the plan makes it"
    fields = FUND_FIELDS[tool]
    same_tool = [c for c in fund_clauses if c.tool == tool]
    problems: list[str] = []
    if tool == "transfer":
        problems.extend(_token_as_recipient(args, reading, resolve_contact))
    if not same_tool:
        if fund_clauses:
            other = fund_clauses[0]
            problems.append(f'you asked for a {other.tool} ("{other.clause}"), not a {tool}')
        shown = [f for f in fields if not f.startswith("token") or tool == "swap"]
        if problems and tool == "transfer":
            shown.remove("receiver_id")  # already said why
        problems.extend(_no_such_field(tool, field, args) for field in shown)
        return "; ".join(problems + _unread(reading))

    def likeness(clause: ClauseReading) -> tuple[int, bool]:
        same = [same_value(f, args.get(f), (clause.args or {}).get(f)) for f in fields]
        return sum(same), same[0]  # ties go to the clause with the same recipient / sold token

    nearest = max(same_tool, key=likeness)
    read = nearest.args or {}
    for field in fields:
        if same_value(field, args.get(field), read.get(field)):
            continue
        if any(same_value(field, args.get(field), (c.args or {}).get(field)) for c in same_tool):
            problems.append(
                f'{field}={args.get(field)!r} differs from your words: "{nearest.clause}" '
                f"has {read.get(field)!r} there"
            )
        else:
            problems.append(_no_such_field(tool, field, args))
    return "; ".join(problems)


def _no_such_field(tool: str, field: str, args: dict[str, Any]) -> str:
    value = args.get(field)
    if field == "receiver_id":
        return (
            f"receiver_id={value!r} is not an account or contact you named as the recipient "
            "of a transfer you asked for"
        )
    if field.startswith("amount"):
        token = args.get("token" if tool == "transfer" else "token_in")
        return (
            f"{field}={value!r} {token} is not an amount you wrote for this {tool} "
            "(or it is already used by another step)"
        )
    role = {"token": "token to send", "token_in": "token to sell", "token_out": "token to buy"}
    return f"{field}={value!r} is not the {role[field]} in any {tool} you asked for"


def _token_as_recipient(
    args: dict[str, Any],
    reading: TextReading,
    resolve_contact: Callable[[str], str | None] | None,
) -> list[str]:
    """A transfer to the contact named like a token the user wrote as a token."""
    if resolve_contact is None:
        return []
    tokens = {
        str(c.args[f]) for c in reading.clauses if c.args for f in _TOKEN_FIELDS if f in c.args
    }
    for token in sorted(tokens):
        try:
            account = resolve_contact(token.lower())
        except Exception:  # an address book failure only loses this hint
            return []
        if account and account == args.get("receiver_id"):
            return [
                f"receiver_id={account!r} is your contact {token.lower()!r}, but you wrote "
                f"{token} as a token; a token is never a recipient"
            ]
    return []


def _unread(reading: TextReading) -> list[str]:
    """What the grammar could not read (a sentence that is no instruction first), so the user
    knows why and how to say it."""
    if reading.refusal is not None:
        return [reading.refusal]
    unread = [c for c in reading.clauses if c.refusal is not None]
    for clause in unread:
        if not clause.mood.instruction:
            return [
                f'"{clause.clause}" is not an instruction: {clause.mood.why_not_an_instruction()}'
            ]
    return [c.refusal for c in unread[:1] if c.refusal is not None]


def _slippage_problems(tool: str, args: dict[str, Any], clause: ClauseReading) -> list[str]:
    """A model may tighten the slippage the user stated, never loosen it or invent one."""
    proposed = args.get("max_slippage_bps")
    if tool != "swap" or proposed is None:
        return []
    stated = (clause.args or {}).get("max_slippage_bps")
    if stated is None:
        return [f"max_slippage_bps={proposed} is not a slippage you stated"]
    if proposed > stated:
        return [f"max_slippage_bps={proposed} is above the {stated} bps you stated"]
    return []


def _claim_problems(user_text: str) -> list[str]:
    """A claim needs the user to ask for rewards, in a sentence that is an instruction."""
    prepared = prepare(user_text if isinstance(user_text, str) else "")
    asking = [i for i, clause in enumerate(prepared.clauses) if _REWARD_WORDS.search(clause)]
    if not asking:
        return ["you did not ask to claim rewards"]
    if any(prepared.mood(index).instruction for index in asking):
        return []
    return [
        f"you did not ask to claim rewards: {prepared.mood(asking[0]).why_not_an_instruction()}"
    ]
