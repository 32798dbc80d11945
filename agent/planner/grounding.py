"""Grounding: a model can narrow what the user asked, never widen or change it.

A model reads data it did not write (task texts, token names, chain state), and it can simply be
wrong. So every step it proposes that acts (anything but the read-only ``balance`` and
``list_tasks``) must be one the user's own words ask for, in its role: the offline grammar reads
the user's text clause by clause (``OfflinePlanner.read``, one grammar for both planners), and
each transfer must equal one read transfer in recipient, amount and token; each swap one read
swap in sold token, amount and bought token, at no wider slippage than the user stated (the
stated one is carried when the model leaves it out); each label submission one read label in
task, item and label; each claim one read claim, naming no task when the user named none and
otherwise only tasks the user named. Each read clause backs one step, in the order written; the
model may leave steps out, never add, enlarge, redirect or reverse one. A clause from a sentence
that denies, asks or imagines ("do NOT send", "how much would 1 NEAR get me?", "如果...") backs
nothing; a contact is only ever read in a recipient's place and a token in a token's, so a
contact named like a token cannot be paid by a swap. Fail closed: when any part of the message
is beyond the grammar ("just kidding", "冗談です", "Bitte nicht."), it may take back or bound
what the rest says, so no step acts. What does not ground is refused with the field that
differs, never guessed. This check runs in code on every model-proposed plan.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from agent.planner.offline import ClauseReading, OfflinePlanner, TextReading
from agent.planner.text import fold_width
from tools import registry

# A number standing on its own, thousands commas only in groups of three. Digits glued to a name
# on the left ("user5000") or continuing into one ("5000.near") are part of an account id.
_NUMBER = re.compile(
    r"(?<![a-z0-9_.,\-])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![0-9_,\-]|\.\d|\.[a-z])"
)


def _normalise(text: str) -> str:
    return fold_width(text).replace("。", ".").lower()


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


_TOKEN_FIELDS = ("token", "token_in", "token_out")


# What grounding knows of each tool is declared on the tool's class (``tools.base.Tool``).
def read_only_tools() -> frozenset[str]:
    """Tools that only read: a model may call them whatever the user wrote. The rest act."""
    return registry.read_only_tools()


def grounded_fields() -> dict[str, tuple[str, ...]]:
    """The fields each acting step must take unchanged from the clause that backs it (a claim's
    task ids may be narrowed, see ``_claim_within``)."""
    return {n: c.grounded_fields for n, c in registry.declared().items() if c.grounded_fields}


def fund_fields() -> dict[str, tuple[str, ...]]:
    """The grounded fields of the tools that move funds: who gets paid, how much of what."""
    moving = registry.spending_kinds()
    return {n: f for n, f in grounded_fields().items() if n in moving}


def _what_it_does(tool: str) -> str:
    found = registry.declared().get(tool)
    return found.asks_to if found is not None and found.asks_to else f"call {tool}"


@dataclass(frozen=True)
class Grounding:
    """A model's plan checked against the user's words: the steps as they may run (the user's
    stated slippage carried into a swap that left it out), or the problems that refuse it."""

    steps: list[tuple[str, dict[str, Any]]]
    problems: list[str]


def same_value(field: str, proposed: Any, read: Any) -> bool:
    """Whether a proposed field equals what the grammar read (amounts compared as numbers)."""
    if field.startswith("amount"):
        left, right = _decimal(proposed), _decimal(read)
        return left is not None and left == right
    if field == "task_ids":
        return _claim_within(proposed, read)
    return str(proposed) == str(read)


def _claim_within(proposed: Any, read: Any) -> bool:
    """A claim names no task when the user named none, else some of the tasks the user named."""
    if read is None or proposed is None:
        return proposed is None and read is None
    wanted = {str(i) for i in read}
    return bool(proposed) and {str(i) for i in proposed} <= wanted


def matches(tool: str, args: dict[str, Any], clause: ClauseReading) -> bool:
    """A step equals a read clause in its tool and every grounded field."""
    fields = grounded_fields().get(tool)
    if clause.tool != tool or clause.args is None or fields is None:
        return False
    return all(same_value(f, args.get(f), clause.args.get(f)) for f in fields)


def read_user_words(
    user_text: str,
    resolve_contact: Callable[[str], str | None] | None = None,
    default_token: str = "NEAR",
) -> TextReading:
    """The grammar's reading of the user's words, shared clauses spelled out ("and 3 to carol")."""
    return OfflinePlanner(contacts=resolve_contact, default_token=default_token).read(
        user_text if isinstance(user_text, str) else "", ellipsis=True
    )


def ground_plan(
    steps: Sequence[tuple[str, dict[str, Any]]],
    user_text: str,
    resolve_contact: Callable[[str], str | None] | None = None,
    *,
    default_token: str = "NEAR",
) -> Grounding:
    """A whole plan checked: each acting step must equal one clause of the user's words, each
    clause backs one step, in the order written; nothing may be added; and nothing acts while
    part of the message is beyond the grammar."""
    reading = read_user_words(user_text, resolve_contact, default_token)
    read_only = read_only_tools()
    acting = [c for c in reading.clauses if c.tool is not None and c.tool not in read_only]
    unread = _unread(reading)
    used: set[int] = set()
    last = -1
    grounded: list[tuple[str, dict[str, Any]]] = []
    problems: list[str] = []
    for number, (tool, args) in enumerate(steps, start=1):
        if tool in read_only:
            grounded.append((tool, args))
            continue
        where = f"step {number} ({tool})"
        found = next(
            (
                i
                for i, clause in enumerate(acting)
                if i > last and i not in used and matches(tool, args, clause)
            ),
            None,
        )
        if found is None:
            why = _differences(tool, args, acting, used, reading, resolve_contact)
            problems.append(f"{where}: {why}")
            continue
        used.add(found)
        last = found
        clause = acting[found]
        not_instructed = clause.not_instructed()
        if not_instructed is not None:
            problems.append(f"{where}: {not_instructed}")
        if unread:
            problems.append(
                f"{where}: {unread[0]} Part of your message could not be read, and it may take "
                "back or limit the rest, so nothing is sent, swapped, claimed or labelled; "
                "leave out or rephrase what could not be read."
            )
        carried, slippage = _slippage(tool, args, clause)
        problems.extend(f"{where}: {p}" for p in slippage)
        grounded.append((tool, carried))
    return Grounding([] if problems else grounded, problems)


def ungrounded_plan(
    steps: Sequence[tuple[str, dict[str, Any]]],
    user_text: str,
    resolve_contact: Callable[[str], str | None] | None = None,
    *,
    default_token: str = "NEAR",
) -> list[str]:
    """The problems with a whole plan (``ground_plan``); empty when it may run."""
    return ground_plan(steps, user_text, resolve_contact, default_token=default_token).problems


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
    acting: list[ClauseReading],
    used: set[int],
    reading: TextReading,
    resolve_contact: Callable[[str], str | None] | None,
) -> str:
    """Why a step matches no free clause, naming each field that differs from the nearest one."""
    exact = [i for i, c in enumerate(acting) if matches(tool, args, c)]
    if any(i not in used for i in exact):
        return f"this {tool} comes in a different order from your words"
    if exact:
        return f"you asked for this {tool} fewer times than the plan makes it"
    fields = grounded_fields().get(tool)
    if fields is None:
        return f"{tool} is not a step your words can ask for"
    moves_funds = tool in fund_fields()
    same_tool = [c for c in acting if c.tool == tool]
    problems = _token_as_recipient(args, reading, resolve_contact) if tool == "transfer" else []
    if not same_tool:
        if not moves_funds:
            return "; ".join([f"you did not ask to {_what_it_does(tool)}", *_unread(reading)])
        shown = [f for f in fields if not f.startswith("token") or tool == "swap"]
        if problems:
            shown.remove("receiver_id")  # already said why
        if acting:
            other = acting[0]
            problems.append(f'you asked for a {other.tool} ("{other.clause}"), not a {tool}')
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
        if not moves_funds:
            problems.append(_not_as_written(field, args.get(field), read.get(field), nearest))
        elif any(same_value(field, args.get(field), (c.args or {}).get(field)) for c in same_tool):
            problems.append(
                f'{field}={args.get(field)!r} differs from your words: "{nearest.clause}" '
                f"has {read.get(field)!r} there"
            )
        else:
            problems.append(_no_such_field(tool, field, args))
    return "; ".join(problems)


def _not_as_written(field: str, proposed: Any, read: Any, clause: ClauseReading) -> str:
    """A label or claim field that is not the user's: changed, added, or a claim widened."""
    if field == "task_ids" and read is None:
        return (
            f'task_ids={proposed!r} names tasks, but "{clause.clause}" names none; a claim names '
            "only tasks you named"
        )
    if field == "task_ids":
        return (
            f'task_ids={proposed!r} goes beyond the tasks "{clause.clause}" names ({read!r}); a '
            "claim names only tasks you named"
        )
    return f'{field}={proposed!r} differs from your words: "{clause.clause}" has {read!r} there'


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
    knows why and how to say it; empty when it read every clause."""
    if reading.refusal is not None:
        return [reading.refusal]
    unread = [c for c in reading.clauses if c.refusal is not None]
    for clause in unread:
        if not clause.mood.instruction:
            return [
                f'"{clause.clause}" is not an instruction: {clause.mood.why_not_an_instruction()}'
            ]
    return [c.refusal for c in unread[:1] if c.refusal is not None]


def _slippage(
    tool: str, args: dict[str, Any], clause: ClauseReading
) -> tuple[dict[str, Any], list[str]]:
    """The swap with the slippage the user stated: a model may tighten it, never loosen, drop
    or invent one (a dropped one would let a wider default fill its place)."""
    if tool != "swap":
        return args, []
    stated = (clause.args or {}).get("max_slippage_bps")
    proposed = args.get("max_slippage_bps")
    if proposed is None:
        return (args if stated is None else {**args, "max_slippage_bps": stated}), []
    if stated is None:
        return args, [f"max_slippage_bps={proposed} is not a slippage you stated"]
    if proposed > stated:
        return args, [f"max_slippage_bps={proposed} is above the {stated} bps you stated"]
    return args, []
