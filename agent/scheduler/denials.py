"""A policy denial in the rule's own words, for a fire's ledger row and an auto-pause reason.

The executor's step report carries the decision as a dict (``Decision.to_dict``): the denying
rules of its trace say why, most already in words ("10 NEAR exceeds 5 NEAR per action"). The
global ceiling's trace is in base units, so it is told from its budget line instead
("global ceiling: 49 NEAR used + 2 NEAR asked would pass 50 NEAR per 24h").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.action import NEAR
from tools.amounts import format_amount

NEAR_DECIMALS = 24
USD = "usd"  # the budget measure in micro-USD


def period_text(seconds: int) -> str:
    """86400 -> "24h", 604800 -> "7d", 300 -> "5m", 90 -> "90s": a whole unit, as grants say."""
    if seconds % 3600 == 0 and seconds <= 72 * 3600:
        return f"{seconds // 3600}h"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def amount_text(amount: int, measure: str, units: Mapping[str, tuple[int, str]]) -> str:
    """Base units in whole tokens with the token's symbol (``units``: id -> decimals, symbol)."""
    if measure == USD:
        return f"${format_amount(amount, 6)}"
    if measure == NEAR:
        return f"{format_amount(amount, NEAR_DECIMALS)} NEAR"
    if measure in units:
        decimals, symbol = units[measure]
        return f"{format_amount(amount, decimals)} {symbol}"
    return f"{amount} (base units of {measure})"


def _ceiling_words(decision: Mapping[str, Any], units: Mapping[str, tuple[int, str]]) -> str:
    for line in decision.get("budgets") or []:
        if line.get("scope") != "global":
            continue
        cap, used, asked = int(line["cap"]), int(line["used"]), int(line["requested"])
        if used + asked <= cap:
            continue
        measure = str(line["measure"])
        return (
            f"global ceiling: {amount_text(used, measure, units)} used + "
            f"{amount_text(asked, measure, units)} asked would pass "
            f"{amount_text(cap, measure, units)} per {period_text(int(line['period_s']))}"
        )
    return ""


def denial_words(
    decision: Mapping[str, Any] | None, units: Mapping[str, tuple[int, str]] | None = None
) -> str:
    """Why the policy denied, in words: each denying rule once, most telling first."""
    if not decision:
        return "denied by the policy"
    units = units or {}
    said: list[str] = []
    for step in decision.get("trace") or []:
        if step.get("result") != "deny":
            continue
        code = str(step.get("code", ""))
        text = ""
        if code == "global_ceiling":
            text = _ceiling_words(decision, units)
        if not text:
            rule = code.replace("_", " ")
            detail = str(step.get("detail", ""))
            text = f"{rule}: {detail}" if detail else rule
        if text not in said:
            said.append(text)
    if not said:
        reasons = ", ".join(decision.get("reasons") or [])
        return f"denied by the policy ({reasons})" if reasons else "denied by the policy"
    return "; ".join(said)
