"""What a client may read without calling a tool: the grants in force with the budget each
window has left, and the newest audit entries. Both are JSON data.

Budgets are counted by the policy's own ledger and window rule (``policies.windows``), the very
figures the next decision starts from; amounts are exact base units as strings, with the same
amount in whole tokens alongside for reading.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from policies.grants import NEAR_DECIMALS, Ceiling, Grant, Window, grant_status
from policies.store import GrantBook, PolicyLedger
from policies.windows import check_windows, to_us
from tools.action import NEAR
from tools.amounts import format_amount

GRANTS_URI = "near-agent://grants"
ACTIVITY_URI = "near-agent://audit/recent"
ACTIVITY_ENTRIES = 50

RESOURCES = (
    (GRANTS_URI, "grants", "The grants in force, with the budget each window has left."),
    (ACTIVITY_URI, "recent-activity", f"The newest {ACTIVITY_ENTRIES} audit log entries."),
)


def _whole(grant: Grant | None, measure: str, units: int) -> str | None:
    if measure == "usd":
        return f"${format_amount(units, 6)}"
    decimals = (
        NEAR_DECIMALS if measure == NEAR else (grant.decimals.get(measure) if grant else None)
    )
    if decimals is None:
        return None
    return format_amount(units, decimals)


def _budgets(
    ledger: PolicyLedger, scope: str, grant: Grant | None, windows: tuple[Window, ...], now_us: int
) -> list[dict[str, Any]]:
    lines = check_windows(scope, windows, ledger, grant.id if grant else None, now_us, {}, 0)
    out = []
    for line in lines:
        row = line.to_dict()
        del row["requested"]
        for key in ("cap", "used", "left"):
            row[f"{key}_whole"] = _whole(grant, line.measure, getattr(line, key))
        if grant is not None and line.measure not in ("usd", NEAR):
            row["symbol"] = grant.label(line.measure)
        out.append(row)
    return out


def grants_in_force(policy_db: Any, now: datetime | None = None) -> dict[str, Any]:
    """Every grant that is active now, its rules and the budget left per window, and the
    global ceiling's windows."""
    now = now or datetime.now(UTC)
    now_us = to_us(now)
    book = GrantBook(policy_db)
    ledger = PolicyLedger(policy_db)
    try:
        grants = []
        for row in book.grants():
            grant = Grant.model_validate_json(row.body)
            status = grant_status(grant, revoked=row.revoked, now=now)
            if status != "active":
                continue
            grants.append(
                {
                    "grant": json.loads(grant.model_dump_json()),
                    "version": row.version,
                    "status": status,
                    "budgets": _budgets(ledger, grant.id, grant, grant.windows, now_us),
                }
            )
        ceiling_row = book.ceiling()
        ceiling = Ceiling.model_validate_json(ceiling_row[1]) if ceiling_row else None
        global_windows = ceiling.windows if ceiling else ()
        return {
            "as_of": now.isoformat(),
            "grants": grants,
            "global": _budgets(ledger, "global", None, global_windows, now_us),
        }
    finally:
        ledger.close()
        book.close()
