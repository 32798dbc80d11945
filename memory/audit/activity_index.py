"""The activity index: one stored row per intent, derived from the audit entries, for fast pages.

Kept in the audit database beside the entries, outside the hash chain: the ``activity`` table
(one row per correlation id, keyed by its first entry's id, which is also the paging cursor),
``activity_tx`` (tx hash -> intent) and ``activity_state`` (how far the index has read, and the
hash of that entry). Each read first catches up with the entries appended since (only the
intents they touch are summarised again); if the entry the index stopped at no longer has the
hash it had, or the derivation changed (``VERSION``), the index is rebuilt from the entries.
Appending never touches it, so the log's writers and its hashes are unchanged.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memory.audit.intents import Facts, row, search_text, summarise
from memory.audit.log import AuditEntry, _entry_from_row
from memory.audit.rows import (
    ActivityFilter,
    IntentNotFound,
    IntentRow,
    IntentStory,
    Page,
    TokenUnits,
)
from memory.db import connect, write_transaction

VERSION = 2
"""Bump when :func:`memory.audit.intents.summarise` changes what it derives: the index rebuilds."""

MAX_LIMIT = 1000
_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS activity (
    first_id INTEGER PRIMARY KEY,
    intent_id TEXT NOT NULL UNIQUE,
    last_id INTEGER NOT NULL,
    started TEXT NOT NULL,
    actor TEXT NOT NULL,
    strategy TEXT,
    outcome TEXT NOT NULL,
    search TEXT NOT NULL,
    facts TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS activity_by_actor ON activity (actor, first_id);
CREATE INDEX IF NOT EXISTS activity_by_outcome ON activity (outcome, first_id);
CREATE INDEX IF NOT EXISTS activity_by_strategy ON activity (strategy, first_id);
CREATE TABLE IF NOT EXISTS activity_tx (
    tx_hash TEXT NOT NULL,
    intent_id TEXT NOT NULL,
    PRIMARY KEY (tx_hash, intent_id)
);
CREATE TABLE IF NOT EXISTS activity_state (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    version INTEGER NOT NULL,
    upto INTEGER NOT NULL,
    upto_hash TEXT NOT NULL
);
"""
_BASE58_TX = re.compile(r"[1-9A-HJ-NP-Za-km-z]{43,44}")
_BATCH = 500  # correlation ids per IN (...) query


@contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    if not path.is_file():
        raise FileNotFoundError(f"no audit log at {path}")
    conn = connect(path, redacting=False).conn  # a damaged file: DamagedDatabase, named
    try:
        yield conn
    finally:
        conn.close()


def _entries_of(conn: sqlite3.Connection, cids: list[str]) -> dict[str, list[AuditEntry]]:
    found: dict[str, list[AuditEntry]] = {}
    for start in range(0, len(cids), _BATCH):
        chunk = cids[start : start + _BATCH]
        marks = ",".join("?" * len(chunk))
        for body, prev, digest in conn.execute(
            "SELECT body, prev_hash, hash FROM entries"
            f" WHERE correlation_id IN ({marks}) ORDER BY id",
            chunk,
        ):
            entry = _entry_from_row(body, prev, digest)
            found.setdefault(entry.correlation_id, []).append(entry)
    return found


def sync(conn: sqlite3.Connection) -> None:
    """Bring the index up to the newest entry (one write transaction; other readers wait)."""
    conn.executescript(_SCHEMA)
    head = conn.execute("SELECT id, hash FROM entries ORDER BY id DESC LIMIT 1").fetchone()
    state = conn.execute("SELECT version, upto, upto_hash FROM activity_state").fetchone()
    if _current(conn, state, head):
        return
    with write_transaction(conn):
        state = conn.execute("SELECT version, upto, upto_hash FROM activity_state").fetchone()
        head = conn.execute("SELECT id, hash FROM entries ORDER BY id DESC LIMIT 1").fetchone()
        if not _current(conn, state, head):
            _catch_up(conn, state, head)


def _current(conn: sqlite3.Connection, state: Any, head: Any) -> bool:
    if head is None:
        return state is not None and state[1] == 0 and state[0] == VERSION
    return state is not None and state[0] == VERSION and (state[1], state[2]) == tuple(head)


def _still_there(conn: sqlite3.Connection, state: Any) -> bool:
    """Does the entry the index stopped at still have the hash it had (and the version match)?"""
    if state is None or state[0] != VERSION:
        return False
    if state[1] == 0:
        return True
    found = conn.execute("SELECT hash FROM entries WHERE id = ?", (state[1],)).fetchone()
    return found is not None and found[0] == state[2]


def _catch_up(conn: sqlite3.Connection, state: Any, head: Any) -> None:
    upto = state[1] if _still_there(conn, state) else 0
    if upto == 0:
        conn.execute("DELETE FROM activity")
        conn.execute("DELETE FROM activity_tx")
    touched: dict[str, list[AuditEntry]] = {}
    for body, prev, digest in conn.execute(
        "SELECT body, prev_hash, hash FROM entries WHERE id > ? ORDER BY id", (upto,)
    ):
        entry = _entry_from_row(body, prev, digest)
        touched.setdefault(entry.correlation_id, []).append(entry)
    if upto:  # intents that began before the index's mark: read their earlier entries too
        began = [
            cid
            for cid in touched
            if conn.execute("SELECT 1 FROM activity WHERE intent_id = ?", (cid,)).fetchone()
        ]
        earlier = _entries_of(conn, began)
        for cid, entries in earlier.items():
            touched[cid] = entries  # every entry of the intent, the new ones included
    rows = []
    txs: list[tuple[str, str]] = []
    for cid, entries in touched.items():
        facts = summarise(entries)
        rows.append(
            (
                facts["first_entry"],
                cid,
                facts["last_entry"],
                facts["started_at"],
                facts["actor"],
                facts["strategy"],
                facts["outcome"],
                search_text(facts),
                json.dumps(facts, ensure_ascii=False, separators=(",", ":")),
            )
        )
        txs.extend((h, cid) for h in facts["tx_hashes"])
    conn.executemany("INSERT OR REPLACE INTO activity VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.executemany("INSERT OR IGNORE INTO activity_tx VALUES (?, ?)", txs)
    last_id, last_hash = head if head is not None else (0, "")
    conn.execute(
        "INSERT OR REPLACE INTO activity_state VALUES (1, ?, ?, ?)", (VERSION, last_id, last_hash)
    )


def _ts(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime(_TS_FORMAT)


def _like(text: str) -> str:
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _where(flt: ActivityFilter) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if flt.since is not None:
        where.append("started >= ?")
        params.append(_ts(flt.since))
    if flt.until is not None:
        where.append("started < ?")
        params.append(_ts(flt.until))
    if flt.actor is not None:
        if ":" in flt.actor or flt.actor not in ("mcp",):
            where.append("actor = ?")
            params.append(flt.actor)
        else:  # "mcp": any client
            where.append("actor >= 'mcp:' AND actor < 'mcp;'")
    if flt.strategy is not None:
        where.append("strategy = ?")
        params.append(flt.strategy)
    if flt.outcome is not None:
        where.append("outcome = ?")
        params.append(flt.outcome)
    if flt.text:
        text = flt.text.strip()
        if _BASE58_TX.fullmatch(text):
            where.append(
                "(intent_id IN (SELECT intent_id FROM activity_tx WHERE tx_hash = ?)"
                " OR search LIKE ? ESCAPE '\\')"
            )
            params.extend([text, _like(text)])
        else:
            where.append("search LIKE ? ESCAPE '\\'")
            params.append(_like(text))
    return where, params


def _bounds(conn: sqlite3.Connection, flt: ActivityFilter) -> tuple[list[str], list[Any]]:
    """Entry-id bounds equivalent to the time filters, so a page walks only that stretch.

    Entries get their time inside the append transaction, so times rise with ids; the time
    conditions stay in the query too, which keeps the result exact either way.
    """
    where: list[str] = []
    params: list[Any] = []
    if flt.since is not None:
        low = conn.execute("SELECT MIN(id) FROM entries WHERE ts >= ?", (_ts(flt.since),))
        first = low.fetchone()[0]
        where.append("first_id >= ?")
        params.append(first if first is not None else 1 << 62)
    if flt.until is not None:
        high = conn.execute("SELECT MAX(id) FROM entries WHERE ts < ?", (_ts(flt.until),))
        last = high.fetchone()[0]
        where.append("first_id <= ?")
        params.append(last if last is not None else 0)
    return where, params


def _cursor(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or len(text) > 18:
        raise ValueError(f"{text!r} is not a cursor: pass the next cursor a page printed")
    return int(text)


def query_page(
    path: Path,
    flt: ActivityFilter,
    *,
    limit: int,
    before_cursor: str | None,
    units: TokenUnits,
    network: str | None,
) -> Page[IntentRow]:
    """See :func:`memory.audit.activity.list_activity`."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"the limit must be between 1 and {MAX_LIMIT}, not {limit}")
    before = _cursor(before_cursor)
    with _connect(path) as conn:
        sync(conn)
        where, params = _where(flt)
        more_where, more_params = _bounds(conn, flt)
        where += more_where
        params += more_params
        if before is not None:
            where.append("first_id < ?")
            params.append(before)
        sql = "SELECT facts FROM activity"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY first_id DESC LIMIT ?"
        found = conn.execute(sql, [*params, limit + 1]).fetchall()
    facts = [json.loads(f[0]) for f in found[:limit]]
    items = [row(f, units, network) for f in facts]
    more = len(found) > limit
    return Page[IntentRow](
        items=items, next_cursor=str(items[-1].first_entry) if more and items else None
    )


def _resolve(conn: sqlite3.Connection, ref: str) -> tuple[str, str]:
    """(intent id, how it was matched) for a tx hash, entry id or intent id (prefix)."""
    text = ref.strip()
    if not text:
        raise IntentNotFound("give a tx hash, an intent id or an entry id")
    if text.isdigit() and len(text) <= 18:
        found = conn.execute("SELECT correlation_id FROM entries WHERE id = ?", (int(text),))
        hit = found.fetchone()
        if hit is not None:
            return str(hit[0]), "entry id"
    hits = [
        r[0] for r in conn.execute("SELECT intent_id FROM activity_tx WHERE tx_hash = ?", (text,))
    ]
    if len(hits) == 1:
        return hits[0], "tx hash"
    if len(hits) > 1:
        raise IntentNotFound(f"tx {text} appears in several intents: {', '.join(hits)}")
    exact = conn.execute("SELECT intent_id FROM activity WHERE intent_id = ?", (text,)).fetchone()
    if exact is not None:
        return str(exact[0]), "intent id"
    if len(text) >= 4 and re.fullmatch(r"[0-9a-fA-F]+", text):
        prefix = text.lower()
        matches = [
            r[0]
            for r in conn.execute(
                "SELECT intent_id FROM activity WHERE intent_id >= ? AND intent_id < ?"
                " ORDER BY intent_id LIMIT 11",
                (prefix, prefix + "g"),
            )
        ]
        if len(matches) == 1:
            return matches[0], "intent id"
        if matches:
            shown_ids = ", ".join(matches[:10]) + (", ..." if len(matches) > 10 else "")
            raise IntentNotFound(f"{text!r} starts several intent ids: {shown_ids}")
    raise IntentNotFound(f"no transaction, intent or entry {text!r} in the audit log")


def find_story(path: Path, ref: str, *, units: TokenUnits, network: str | None) -> IntentStory:
    """See :func:`memory.audit.activity.find`."""
    from memory.audit.story import story_steps

    with _connect(path) as conn:
        sync(conn)
        intent_id, matched = _resolve(conn, ref)
        entries = _entries_of(conn, [intent_id])[intent_id]
    facts: Facts = summarise(entries)
    return IntentStory(
        intent=row(facts, units, network),
        steps=story_steps(entries, units),
        entries=[e.to_dict() for e in entries],
        matched=matched,
    )
