"""Guard rails that hold whatever any model says: trades per period, cooldown, auto-pause.

They read the fire ledger (which survives restarts), so a restart never resets a count. The
grant's budget is the policy engine's job and is checked again on every fire.
"""

from __future__ import annotations

from datetime import datetime

from agent.scheduler.strategies import Guards
from memory.jobs import JobStore


def blocked_by(store: JobStore, strategy_id: str, guards: Guards, now: datetime) -> str | None:
    """Why this strategy may not trade now (a short machine-readable reason), or None."""
    trades = store.count_trades(strategy_id, now - guards.period)
    if trades >= guards.max_trades:
        return f"max_trades: {trades} of {guards.max_trades} per {guards.per} used"
    if guards.cooldown:
        last = store.last_trade_at(strategy_id)
        if last is not None and now - last < guards.cooldown_delta:
            return f"cooldown: last trade at {last.isoformat()}, cooldown {guards.cooldown}"
    return None


def should_auto_pause(store: JobStore, strategy_id: str, guards: Guards) -> int | None:
    """The failure count when it has reached the limit (the strategy must pause), else None."""
    failures = store.consecutive_failures(strategy_id)
    return failures if failures >= guards.max_failures else None
