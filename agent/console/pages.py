"""What each console page shows, read through the library the CLI uses (no query of its own)."""

from __future__ import annotations

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
    from agent.scheduler.daemon import jobs_db
    from agent.scheduler.inbox import Inbox
    from memory.audit import AuditLog
    from memory.jobs import JobStore

    with JobStore(jobs_db(home)) as store, AuditLog(home.audit_db) as audit:
        yield Inbox(store, audit)


def paused(home: Home) -> bool:
    from memory.audit import AuditLog
    from memory.switch import KillSwitch

    with AuditLog(home.audit_db) as audit:
        switch = KillSwitch(home.memory_db, audit)
        try:
            return switch.is_paused()
        finally:
            switch.close()


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
    """Each grant's rules in `grants show`'s words and its windows as `grants check` counts them."""
    from agent.cli_grants import _shower, _units, configured_facts, grant_rules
    from policies.engine import PolicyEngine
    from policies.grants import grant_status

    moment = now()
    units = _units(home)
    engine = PolicyEngine(home.policy_db, facts=configured_facts(home))
    try:
        out = []
        for active in engine.grants():
            g = active.grant
            lines = engine.window_usage(g, moment)
            bars = []
            for line in lines:
                show = _shower(line.measure, dict(units))
                name = units.get(line.measure, (0, line.measure))[1]
                name = "" if line.measure == "usd" else f" {name}"
                percent = min(100, line.used * 100 // line.cap) if line.cap else 100
                bars.append(
                    BudgetBar(
                        f"{show(line.used)}{name} of {show(line.cap)}{name} used "
                        f"in any {line.period_s}s",
                        percent,
                        f"{show(line.left)}{name} left",
                    )
                )
            out.append(
                GrantView(
                    g.id,
                    active.version,
                    grant_status(g, revoked=active.revoked, now=moment),
                    g.expires_at,
                    grant_rules(g),
                    bars,
                )
            )
        return out
    finally:
        engine.close()


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
    from agent.scheduler.daemon import jobs_db
    from agent.scheduler.strategies import parse_strategy
    from memory.jobs import JobStore

    out = []
    with JobStore(jobs_db(home)) as store:
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


def token_units(home: Home) -> Any:
    """Decimals and symbols of the tokens the grants name, for whole-token amounts."""
    from agent.cli_grants import _units
    from memory.audit.activity import TokenUnits

    return TokenUnits({t: (d, label) for t, (d, label) in _units(home).items()})


def network_of(home: Home) -> str | None:
    from agent.config import ConfigError, load_config

    try:
        return load_config(home.config_file).network
    except ConfigError:
        return None


# ------------------------------------------------------------------ overview


@dataclass(frozen=True)
class Overview:
    network: str
    account: str
    rpc_url: str
    paused: bool
    pending: int
    strategies: int
    audit_ok: bool
    audit_count: int
    audit_problem: str
    last_anchor: str


def overview(home: Home) -> Overview:
    from agent.config import load_config
    from agent.scheduler.daemon import jobs_db
    from memory.audit import AuditLog
    from memory.jobs import JobStore

    config = load_config(home.config_file)
    with AuditLog(home.audit_db) as audit:
        report = audit.verify()
        anchors = audit.anchors()
    with JobStore(jobs_db(home)) as store:
        count = len(store.strategies())
    last = anchors[-1] if anchors else None
    return Overview(
        network=config.network,
        account=config.account_id,
        rpc_url=str(config.rpc_url or "(the network's default)"),
        paused=paused(home),
        pending=len(pending_items(home)),
        strategies=count,
        audit_ok=report.ok,
        audit_count=report.count,
        audit_problem=report.reason or "",
        last_anchor=(
            f"{last.entries} entries, tx {last.tx_hash} ({last.ts})" if last else "never anchored"
        ),
    )


@asynccontextmanager
async def session_inbox(home: Home) -> AsyncIterator[tuple[Any, Any]]:
    """An agent session and the inbox, as `approvals approve` opens them."""
    from agent.scheduler.daemon import jobs_db
    from agent.scheduler.inbox import Inbox
    from agent.session import AgentSession
    from memory.jobs import JobStore

    session = await AgentSession.open(home)
    try:
        with JobStore(jobs_db(home)) as store:
            yield session, Inbox(store, session.audit)
    finally:
        await session.close()


def live_state(home: Home) -> dict[str, Any]:
    """A fingerprint of what the pages show: the audit head, the inbox, the fires, the switch."""
    from agent.scheduler.daemon import jobs_db
    from memory.audit import AuditLog
    from memory.jobs import JobStore

    with AuditLog(home.audit_db) as audit:
        head = audit.head()
    with JobStore(jobs_db(home)) as store:
        pending = len(store.inbox("pending"))
        notes = [(s.id, s.status, s.last_note, when(s.next_fire_at)) for s in store.strategies()]
    return {
        "audit": head.count,
        "pending": pending,
        "paused": paused(home),
        "strategies": hash(tuple(notes)) & 0xFFFFFFFF,
    }
