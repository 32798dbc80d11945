"""What each console page shows, read through the library the CLI uses (no query of its own)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agent.home import Home


def now() -> datetime:
    return datetime.now(UTC)


def when(value: datetime | None) -> str:
    from agent.cli_schedule import _when

    return _when(value)


@contextmanager
def inbox_of(home: Home) -> Iterator[Any]:
    """The approval inbox, as `approvals list` opens it."""
    from agent.scheduler.inbox import Inbox
    from memory.audit import AuditLog
    from memory.jobs import JobStore

    with JobStore(home.jobs_db) as store, AuditLog(home.audit_db) as audit:
        yield Inbox(store, audit)


# ------------------------------------------------------------------ approvals


@dataclass(frozen=True)
class PendingItem:
    id: str
    strategy_id: str
    preview: str
    reasons: list[str]
    expires_at: datetime
    expires_in_s: int


def pending_items(home: Home) -> list[PendingItem]:
    with inbox_of(home) as inbox:
        items = inbox.pending()
    moment = now()
    return [
        PendingItem(
            i.id,
            i.strategy_id,
            i.preview,
            list(i.reasons),
            i.expires_at,
            max(int((i.expires_at - moment).total_seconds()), 0),
        )
        for i in items
    ]


# ------------------------------------------------------------------ grants


@dataclass(frozen=True)
class BudgetBar:
    label: str  # "12.5 NEAR of 20 NEAR used in any 86400s"
    percent: int
    left: str


@dataclass(frozen=True)
class GrantView:
    id: str
    version: int
    status: str
    expires_at: datetime
    rules: list[tuple[str, str]]
    bars: list[BudgetBar] = field(default_factory=list)


def grant_views(home: Home) -> list[GrantView]:
    """Each grant's rules in `grants show`'s words, its windows as `near-agent status` counts
    them."""
    from agent.cli_grants import grant_rules
    from agent.status import read_grants
    from policies.grants import Grant
    from policies.store import GrantBook

    status = {g.grant_id: g for g in read_grants(home)[0]}
    book = GrantBook(home.policy_db)
    try:
        rows = book.grants()
    finally:
        book.close()
    out = []
    for row in rows:
        g = Grant.model_validate_json(row.body)
        known = status.get(g.id)
        if known is None:
            continue
        bars = [
            BudgetBar(
                f"{w.used.display} of {w.cap.display} used in any {w.period_s}s",
                min(100, w.used.units * 100 // w.cap.units) if w.cap.units else 100,
                f"{w.left.display} left"
                + (f", more from {when(w.frees_at)}" if w.frees_at else ""),
            )
            for w in known.windows
        ]
        out.append(GrantView(g.id, row.version, known.status, g.expires_at, grant_rules(g), bars))
    return out


# ------------------------------------------------------------------ strategies


@dataclass(frozen=True)
class FireView:
    id: int
    scheduled_at: str
    status: str
    text: str
    tx_hashes: list[str]


@dataclass(frozen=True)
class StrategyView:
    id: str
    kind: str
    status: str
    what: str
    next_fire: str
    last_note: str
    fires: list[FireView]
    chart: str | None  # an SVG document, or None without a price trigger


def strategy_views(home: Home, fires: int = 10) -> list[StrategyView]:
    """What `schedule list` and `schedule show` print, per strategy, with its price chart."""
    from agent.console.chart import price_chart
    from agent.scheduler.strategies import parse_strategy
    from memory.jobs import JobStore

    out = []
    with JobStore(home.jobs_db) as store:
        for row in store.strategies():
            try:
                strategy: Any = parse_strategy(row.config)
                what = strategy.describe()
            except ValueError:
                strategy, what = None, "(invalid config)"
            recent = store.fires(row.id, limit=fires)
            views = [
                FireView(
                    f.id,
                    when(f.scheduled_at),
                    f.status,
                    str(
                        f.detail.get("recovered")
                        or f.detail.get("message")
                        or f.detail.get("guard")
                        or ""
                    ),
                    list(f.detail.get("tx_hashes") or []),
                )
                for f in recent
            ]
            status = row.status + (f" ({row.status_reason})" if row.status_reason else "")
            out.append(
                StrategyView(
                    row.id,
                    row.kind,
                    status,
                    what,
                    when(row.next_fire_at),
                    row.last_note,
                    views,
                    price_chart(strategy, recent, row.last_note) if strategy else None,
                )
            )
    return out


# ------------------------------------------------------------------ activity


def units_and_network(home: Home) -> tuple[Any, str | None]:
    """Whole-token units the home knows and its network, as `audit list` and `audit show` take
    them (so amounts read the same in the console)."""
    from agent.cli_audit import _units_and_network

    return _units_and_network(home)


# ------------------------------------------------------------------ overview


@dataclass(frozen=True)
class AuditState:
    ok: bool
    count: int
    problem: str
    last_anchor: str


def audit_state(home: Home) -> AuditState:
    """The audit chain verified end to end (as `audit verify` does) and its last anchor."""
    from memory.audit import AuditLog

    with AuditLog(home.audit_db) as audit:
        report = audit.verify()
        anchors = audit.anchors()
    last = anchors[-1] if anchors else None
    return AuditState(
        report.ok,
        report.count,
        report.reason or "",
        f"{last.entries} entries, tx {last.tx_hash} ({last.ts})" if last else "never anchored",
    )


@asynccontextmanager
async def session_inbox(home: Home) -> AsyncIterator[tuple[Any, Any]]:
    """An agent session and the inbox, as `approvals approve` opens them."""
    from agent.scheduler.inbox import Inbox
    from agent.session import AgentSession
    from memory.jobs import JobStore

    session = await AgentSession.open(home)
    try:
        with JobStore(home.jobs_db) as store:
            yield session, Inbox(store, session.audit)
    finally:
        await session.close()


def live_state(home: Home) -> dict[str, Any]:
    """A fingerprint of what the pages show: the audit head, the inbox, the daemon, the switch
    (as `near-agent status` reads them, without asking the node) and the strategies' notes."""
    from agent.status import read_status
    from memory.audit import AuditLog
    from memory.jobs import JobStore

    status = read_status(home, probe_chain=False)
    with AuditLog(home.audit_db) as audit:
        head = audit.head()
    with JobStore(home.jobs_db) as store:
        notes = [(s.id, s.status, s.last_note, when(s.next_fire_at)) for s in store.strategies()]
    return {
        "audit": head.count,
        "pending": status.approvals_pending,
        "paused": status.kill_switch.paused,
        "daemon": status.daemon.running,
        "strategies": hashlib.sha256(repr(notes).encode()).hexdigest()[:16],
    }
