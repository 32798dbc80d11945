"""The scheduler's SQLite tables: strategies, the fire ledger and the approval inbox.

One file shared by the daemon and the CLI (separate processes). A fire row is unique per
(strategy, scheduled time) and is committed before the fire acts, so a restart can tell what was
already started and never runs it twice. Guard rails (trades per period, cooldown, consecutive
failures) are read from the same ledger, so they survive restarts too.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memory.db import connect, write_transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS strategies (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    config TEXT NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT NOT NULL DEFAULT '',
    next_fire_at TEXT,
    created_at TEXT NOT NULL,
    last_note TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS fires (
    id INTEGER PRIMARY KEY,
    strategy_id TEXT NOT NULL,
    scheduled_at TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}',
    UNIQUE (strategy_id, scheduled_at)
);
CREATE INDEX IF NOT EXISTS fires_by_status ON fires (status);
CREATE INDEX IF NOT EXISTS fires_by_strategy ON fires (strategy_id, scheduled_at);
-- the due query reads this index only (next_fire_at is sortable ISO text); made at open, so an
-- existing home gains it the first time a newer version opens its jobs.db
CREATE INDEX IF NOT EXISTS strategies_due ON strategies (status, next_fire_at);
CREATE TABLE IF NOT EXISTS inbox (
    id TEXT PRIMARY KEY,
    strategy_id TEXT NOT NULL,
    fire_id INTEGER,
    tool TEXT NOT NULL,
    args TEXT NOT NULL,
    preview TEXT NOT NULL,
    reasons TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    status TEXT NOT NULL,
    resolved_at TEXT,
    detail TEXT NOT NULL DEFAULT ''
);
"""

# Fire statuses. "started" is the only one a crash can leave behind.
STARTED = "started"
# Final statuses: done, failed, unknown (sent, outcome not known), denied (policy), declined,
# refused (the tool would not prepare it), skipped (a guard), missed (late past the grace),
# abandoned (interrupted before anything was sent, or paused), awaiting_approval (in the inbox).
TRADE_STATUSES = ("started", "done", "unknown", "failed")  # counted by trade-per-period guards
NOT_ACTING = ("failed", "unknown", "refused", "denied")  # counted toward auto-pause, until a done


def ts(when: datetime) -> str:
    """A sortable UTC timestamp (microseconds), the one format every column uses."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(text: str) -> datetime:
    """The inverse of ``ts`` (fromisoformat: a C parser, where strptime cost a due query at
    thousands of strategies more than everything else in it)."""
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class StrategyRow:
    id: str
    kind: str
    config: dict[str, Any]
    source: str
    status: str  # active | paused | completed
    status_reason: str
    next_fire_at: datetime | None
    created_at: datetime
    last_note: str
    config_text: str = ""  # the stored text of ``config``: what parsed configs are cached by


@dataclass(frozen=True)
class FireRow:
    id: int
    strategy_id: str
    scheduled_at: datetime
    started_at: datetime
    finished_at: datetime | None
    status: str
    correlation_id: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class InboxRow:
    id: str
    strategy_id: str
    fire_id: int | None
    tool: str
    args: dict[str, Any]
    preview: str
    reasons: list[str]
    created_at: datetime
    expires_at: datetime
    status: str  # pending | approved | denied | expired | failed
    resolved_at: datetime | None
    detail: str


class DuplicateFire(Exception):
    """This (strategy, scheduled time) was already recorded: it must not run again."""


class JobStore:
    """Strategies, fires and inbox items in one SQLite file."""

    def __init__(self, path: Path | str, *, durable: bool = True) -> None:
        self._db = connect(path, durable=durable)
        self.conn = self._db.conn
        self.conn.executescript(_SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> JobStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE): all of it commits, or none."""
        with write_transaction(self.conn) as conn:
            yield conn

    # ------------------------------------------------------------------ strategies

    def add_strategy(
        self,
        strategy_id: str,
        kind: str,
        config: dict[str, Any],
        *,
        source: str,
        next_fire_at: datetime | None,
        now: datetime,
        replace: bool = False,
    ) -> None:
        self.add_strategies(
            [(strategy_id, kind, config, next_fire_at)], source=source, now=now, replace=replace
        )

    def add_strategies(
        self,
        items: Iterable[tuple[str, str, dict[str, Any], datetime | None]],
        *,
        source: str,
        now: datetime,
        replace: bool = False,
    ) -> None:
        """Several strategies (id, kind, config, next fire) in one transaction: all or none."""
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        with self.transaction() as conn:
            conn.executemany(
                f"{verb} INTO strategies (id, kind, config, source, status, next_fire_at,"
                " created_at) VALUES (?, ?, ?, ?, 'active', ?, ?)",
                [
                    (
                        strategy_id,
                        kind,
                        json.dumps(config, sort_keys=True),
                        source,
                        ts(next_fire_at) if next_fire_at else None,
                        ts(now),
                    )
                    for strategy_id, kind, config, next_fire_at in items
                ],
            )

    def strategy(self, strategy_id: str) -> StrategyRow | None:
        row = self.conn.execute("SELECT * FROM strategies WHERE id = ?", (strategy_id,)).fetchone()
        return _strategy(row) if row else None

    def strategies(self, status: str | None = None) -> list[StrategyRow]:
        sql = "SELECT * FROM strategies"
        params: tuple[str, ...] = ()
        if status is not None:
            sql, params = sql + " WHERE status = ?", (status,)
        return [_strategy(r) for r in self.conn.execute(sql + " ORDER BY id", params)]

    def ids(self, status: str | None = None) -> set[str]:
        """The ids of every strategy (with ``status``), without reading their configs."""
        sql = "SELECT id FROM strategies"
        params: tuple[str, ...] = ()
        if status is not None:
            sql, params = sql + " WHERE status = ?", (status,)
        return {row[0] for row in self.conn.execute(sql, params)}

    def remove_strategy(self, strategy_id: str) -> bool:
        with self.transaction() as conn:
            cur = conn.execute("DELETE FROM strategies WHERE id = ?", (strategy_id,))
        return cur.rowcount > 0

    def set_status(self, strategy_id: str, status: str, reason: str = "") -> bool:
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE strategies SET status = ?, status_reason = ? WHERE id = ?",
                (status, reason, strategy_id),
            )
        return cur.rowcount > 0

    def set_next(self, updates: Iterable[tuple[str, datetime | None, str]]) -> None:
        """Advance many strategies' next fire time (and last note) in one transaction."""
        rows = [(ts(n) if n else None, note, sid) for sid, n, note in updates]
        if not rows:
            return
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE strategies SET next_fire_at = ?, last_note = ? WHERE id = ?", rows
            )

    def due(self, now: datetime) -> list[StrategyRow]:
        rows = self.conn.execute(
            "SELECT * FROM strategies WHERE status = 'active' AND next_fire_at IS NOT NULL"
            " AND next_fire_at <= ? ORDER BY next_fire_at",
            (ts(now),),
        )
        return [_strategy(r) for r in rows]

    def next_wake(self) -> datetime | None:
        row = self.conn.execute(
            "SELECT MIN(next_fire_at) FROM strategies WHERE status = 'active'"
        ).fetchone()
        return parse_ts(row[0]) if row and row[0] else None

    # ------------------------------------------------------------------ fires

    def start_fires(
        self,
        fires: Iterable[tuple[str, datetime, str, dict[str, Any]]],
        now: datetime,
        *,
        complete: Iterable[str] = (),
        advance: Iterable[tuple[str, datetime | None, str]] = (),
    ) -> dict[tuple[str, str], int]:
        """Record fires as started, durably, before any of them acts.

        ``fires`` holds (strategy id, scheduled at, correlation id, detail). A fire already in the
        ledger is left out of the result (it must not run again). Strategies in ``complete``
        (one-shot orders) are marked completed in the same transaction, so they never fire twice;
        ``advance`` moves next fire times (see ``set_next``) in it too.
        """
        started: dict[tuple[str, str], int] = {}
        now_text = ts(now)
        with self.transaction() as conn:
            for strategy_id, scheduled, cid, detail in fires:
                when = ts(scheduled)
                try:
                    cur = conn.execute(
                        "INSERT INTO fires (strategy_id, scheduled_at, started_at, status,"
                        " correlation_id, detail) VALUES (?, ?, ?, 'started', ?, ?)",
                        (strategy_id, when, now_text, cid, json.dumps(detail)),
                    )
                except sqlite3.IntegrityError:
                    continue
                started[(strategy_id, when)] = int(cur.lastrowid or 0)
            conn.executemany(
                "UPDATE strategies SET next_fire_at = ?, last_note = ? WHERE id = ?",
                [(ts(n) if n else None, note, sid) for sid, n, note in advance],
            )
            for strategy_id in complete:
                conn.execute(
                    "UPDATE strategies SET status = 'completed', status_reason = 'fired' "
                    "WHERE id = ?",
                    (strategy_id,),
                )
        return started

    def record_fire(
        self,
        strategy_id: str,
        scheduled: datetime,
        status: str,
        now: datetime,
        detail: dict[str, Any],
    ) -> bool:
        """A fire that never acts (skipped by a guard, missed): written once, final at once."""
        try:
            with self.transaction() as conn:
                conn.execute(
                    "INSERT INTO fires (strategy_id, scheduled_at, started_at, finished_at,"
                    " status, correlation_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        strategy_id,
                        ts(scheduled),
                        ts(now),
                        ts(now),
                        status,
                        uuid.uuid4().hex,
                        json.dumps(detail),
                    ),
                )
        except sqlite3.IntegrityError:
            return False
        return True

    def finish_fire(
        self, fire_id: int, status: str, now: datetime, detail: dict[str, Any] | None = None
    ) -> None:
        with self.transaction() as conn:
            row = conn.execute("SELECT detail FROM fires WHERE id = ?", (fire_id,)).fetchone()
            merged = {**json.loads(row[0]), **(detail or {})} if row else dict(detail or {})
            conn.execute(
                "UPDATE fires SET status = ?, finished_at = ?, detail = ? WHERE id = ?",
                (status, ts(now), json.dumps(merged, default=str), fire_id),
            )

    def finish_fires(self, items: Iterable[tuple[int, str, dict[str, Any]]], now: datetime) -> None:
        """Several ``finish_fire`` calls in one transaction (one disk sync)."""
        now_text = ts(now)
        with self.transaction() as conn:
            for fire_id, status, detail in items:
                row = conn.execute("SELECT detail FROM fires WHERE id = ?", (fire_id,)).fetchone()
                merged = {**(json.loads(row[0]) if row else {}), **detail}
                conn.execute(
                    "UPDATE fires SET status = ?, finished_at = ?, detail = ? WHERE id = ?",
                    (status, now_text, json.dumps(merged, default=str), fire_id),
                )

    def note_fire(self, fire_id: int, detail: dict[str, Any]) -> None:
        """Add to a fire's detail without changing its status (e.g. how its inbox item ended)."""
        with self.transaction() as conn:
            row = conn.execute("SELECT detail FROM fires WHERE id = ?", (fire_id,)).fetchone()
            if row is not None:
                conn.execute(
                    "UPDATE fires SET detail = ? WHERE id = ?",
                    (json.dumps({**json.loads(row[0]), **detail}, default=str), fire_id),
                )

    def fire(self, fire_id: int) -> FireRow | None:
        row = self.conn.execute("SELECT * FROM fires WHERE id = ?", (fire_id,)).fetchone()
        return _fire(row) if row else None

    def fires(
        self,
        strategy_id: str | None = None,
        *,
        status: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[FireRow]:
        where: list[str] = []
        params: list[Any] = []
        if strategy_id is not None:
            where.append("strategy_id = ?")
            params.append(strategy_id)
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if since is not None:
            where.append("scheduled_at >= ?")
            params.append(ts(since))
        sql = "SELECT * FROM fires" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY scheduled_at DESC, id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_fire(r) for r in self.conn.execute(sql, params)]

    def count_trades(self, strategy_id: str, since: datetime) -> int:
        """Fires that traded (or may have) after ``since``: the window is (since, now]."""
        placeholders = ",".join("?" * len(TRADE_STATUSES))
        row = self.conn.execute(
            f"SELECT COUNT(*) FROM fires WHERE strategy_id = ? AND started_at > ?"
            f" AND status IN ({placeholders})",
            (strategy_id, ts(since), *TRADE_STATUSES),
        ).fetchone()
        return int(row[0])

    def last_trade_at(self, strategy_id: str) -> datetime | None:
        placeholders = ",".join("?" * len(TRADE_STATUSES))
        row = self.conn.execute(
            f"SELECT MAX(started_at) FROM fires WHERE strategy_id = ?"
            f" AND status IN ({placeholders})",
            (strategy_id, *TRADE_STATUSES),
        ).fetchone()
        return parse_ts(row[0]) if row and row[0] else None

    def consecutive_failures(self, strategy_id: str) -> int:
        """Fires that could not act (failed, unknown, refused, or denied by the policy) since the
        last one that completed (done): a strategy the policy keeps denying cannot act either."""
        count = 0
        for (status,) in self.conn.execute(
            "SELECT status FROM fires WHERE strategy_id = ? AND status IN"
            f" ('done', {', '.join(repr(s) for s in NOT_ACTING)})"
            " ORDER BY scheduled_at DESC, id DESC LIMIT 1000",
            (strategy_id,),
        ):
            if status == "done":
                break
            count += 1
        return count

    # ------------------------------------------------------------------ inbox

    def add_inbox(
        self,
        *,
        strategy_id: str,
        fire_id: int | None,
        tool: str,
        args: dict[str, Any],
        preview: str,
        reasons: list[str],
        now: datetime,
        expires_at: datetime,
    ) -> str:
        item_id = uuid.uuid4().hex[:12]
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO inbox (id, strategy_id, fire_id, tool, args, preview, reasons,"
                " created_at, expires_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
                (
                    item_id,
                    strategy_id,
                    fire_id,
                    tool,
                    json.dumps(args),
                    preview,
                    json.dumps(reasons),
                    ts(now),
                    ts(expires_at),
                ),
            )
        return item_id

    def refresh_inbox(
        self,
        item_id: str,
        *,
        fire_id: int | None,
        args: dict[str, Any],
        preview: str,
        reasons: list[str],
        expires_at: datetime,
    ) -> bool:
        """A newer fire's request takes a pending item's place; False if it is no longer pending."""
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE inbox SET fire_id = ?, args = ?, preview = ?, reasons = ?, expires_at = ?"
                " WHERE id = ? AND status = 'pending'",
                (
                    fire_id,
                    json.dumps(args),
                    preview,
                    json.dumps(reasons),
                    ts(expires_at),
                    item_id,
                ),
            )
        return cur.rowcount > 0

    def fires_asking(self, strategy_id: str, item_id: str) -> int:
        """How many fires were declined into inbox item ``item_id`` (one stands for several)."""
        row = self.conn.execute(
            "SELECT COUNT(*) FROM fires WHERE strategy_id = ? AND status = 'awaiting_approval'"
            " AND json_extract(detail, '$.inbox_id') = ?",
            (strategy_id, item_id),
        ).fetchone()
        return int(row[0])

    def inbox(self, status: str | None = None) -> list[InboxRow]:
        sql = "SELECT * FROM inbox"
        params: tuple[str, ...] = ()
        if status is not None:
            sql, params = sql + " WHERE status = ?", (status,)
        return [_inbox(r) for r in self.conn.execute(sql + " ORDER BY created_at", params)]

    def inbox_item(self, item_id: str) -> InboxRow | None:
        row = self.conn.execute("SELECT * FROM inbox WHERE id = ?", (item_id,)).fetchone()
        return _inbox(row) if row else None

    def resolve_inbox(
        self,
        item_id: str,
        status: str,
        now: datetime,
        detail: str = "",
        *,
        only_from: str = "pending",
    ) -> bool:
        """Move an item out of ``only_from``; False if someone else resolved it first."""
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE inbox SET status = ?, resolved_at = ?, detail = ? "
                "WHERE id = ? AND status = ?",
                (status, ts(now), detail, item_id, only_from),
            )
        return cur.rowcount > 0


def _strategy(row: tuple[Any, ...]) -> StrategyRow:
    sid, kind, config, source, status, reason, nxt, created, note = row
    return StrategyRow(
        sid,
        kind,
        json.loads(config),
        source,
        status,
        reason,
        parse_ts(nxt) if nxt else None,
        parse_ts(created),
        note,
        config,
    )


def _fire(row: tuple[Any, ...]) -> FireRow:
    fid, sid, sched, started, finished, status, cid, detail = row
    return FireRow(
        fid,
        sid,
        parse_ts(sched),
        parse_ts(started),
        parse_ts(finished) if finished else None,
        status,
        cid,
        json.loads(detail),
    )


def _inbox(row: tuple[Any, ...]) -> InboxRow:
    iid, sid, fid, tool, args, preview, reasons, created, expires, status, resolved, detail = row
    return InboxRow(
        iid,
        sid,
        fid,
        tool,
        json.loads(args),
        preview,
        json.loads(reasons),
        parse_ts(created),
        parse_ts(expires),
        status,
        parse_ts(resolved) if resolved else None,
        detail,
    )
