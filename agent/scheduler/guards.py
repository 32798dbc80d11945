"""Guard rails that hold whatever any model says: trades per period, cooldown, auto-pause.

They read the fire ledger (which survives restarts), so a restart never resets a count. The
grant's budget is the policy engine's job and is checked again on every fire.
"""

from __future__ import annotations

from datetime import datetime

from agent.scheduler.parsed import Parsed
from memory.jobs import JobStore


def blocked_by(store: JobStore, strategy_id: str, parsed: Parsed, now: datetime) -> str | None:
    """Why this strategy may not trade now (a short machine-readable reason), or None."""
    guards = parsed.strategy.guards
    trades = store.count_trades(strategy_id, now - parsed.period)
    if trades >= guards.max_trades:
        return f"max_trades: {trades} of {guards.max_trades} per {guards.per} used"
    if parsed.cooldown:
        last = store.last_trade_at(strategy_id)
        if last is not None and now - last < parsed.cooldown:
            return f"cooldown: last trade at {last.isoformat()}, cooldown {guards.cooldown}"
    return None


def should_auto_pause(store: JobStore, strategy_id: str, parsed: Parsed) -> int | None:
    """How many fires in a row could not act (failed, refused, unknown, denied) when that has
    reached ``guards.max_failures`` (the strategy must pause), else None."""
    failures = store.consecutive_failures(strategy_id)
    return failures if failures >= parsed.strategy.guards.max_failures else None


def pause_reason(count: int, status: str, message: str) -> str:
    """Why a strategy paused itself, in words: how many fires in a row, and the last one's
    reason (for a denial, the rule's own words)."""
    what = "denials by the policy" if status == "denied" else "failures"
    last = message.strip() or status
    return f"auto-paused after {count} consecutive {what}: {last}"
