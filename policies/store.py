"""The policy engine's durable state in SQLite: grants, revocations, reservations, approvals.

Two doors into one database. :class:`GrantBook` is the user's (the CLI's ``grants add`` and
``grants revoke``): the only code that writes grants. :class:`PolicyLedger` is the engine's: it
reads grants and writes reservations, approvals and first-seen recipients, and its connections
carry an SQLite authorizer that refuses any write to grants, ceilings or revocations, so no code
holding the engine can create or widen a grant. Grant versions are immutable (triggers abort
UPDATE and DELETE).

A reservation row carries its owner (pid, process start time, host), written in the transaction
that creates it, so no other process ever sees a reservation without knowing whose it is. Settling
and releasing are conditional updates (still pending, and still the expected owner's), so a
reconcile racing the owner, or another reconcile, changes nothing twice. An owner that finishes
without settling or releasing (the outcome of what it sent is unknown) lets go of the row: the
owner is cleared, so any reconcile resolves it from the chain while that process lives on.

Amounts are u128; SQLite integers are 64-bit, so each amount is stored as three 43-bit limbs that
SQL can SUM exactly (up to 2**20 rows per sum).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memory.db import connect, read_transaction, write_transaction
from memory.process_owner import ProcessOwner, current_owner

LIMB_BITS = 43
BUCKET_US = 60_000_000  # usage is also kept per minute so a window sums buckets, not rows
GLOBAL = "*"
_LIMB = (1 << LIMB_BITS) - 1
PROTECTED = frozenset({"grants", "ceilings", "revocations"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS grants (
    grant_id TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL, sha256 TEXT NOT NULL,
    created_us INTEGER NOT NULL, source TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (grant_id, version));
CREATE TRIGGER IF NOT EXISTS grants_immutable_u BEFORE UPDATE ON grants
    BEGIN SELECT RAISE(ABORT, 'grant versions are immutable'); END;
CREATE TRIGGER IF NOT EXISTS grants_immutable_d BEFORE DELETE ON grants
    BEGIN SELECT RAISE(ABORT, 'grant versions are immutable'); END;
CREATE TABLE IF NOT EXISTS ceilings (
    version INTEGER PRIMARY KEY, body TEXT NOT NULL, created_us INTEGER NOT NULL,
    source TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS revocations (
    id INTEGER PRIMARY KEY AUTOINCREMENT, grant_id TEXT NOT NULL, up_to_version INTEGER NOT NULL,
    revoked_us INTEGER NOT NULL, reason TEXT NOT NULL DEFAULT '');
CREATE TRIGGER IF NOT EXISTS revocations_final_u BEFORE UPDATE ON revocations
    BEGIN SELECT RAISE(ABORT, 'revocations are final'); END;
CREATE TRIGGER IF NOT EXISTS revocations_final_d BEFORE DELETE ON revocations
    BEGIN SELECT RAISE(ABORT, 'revocations are final'); END;
CREATE TABLE IF NOT EXISTS reservations (
    id TEXT PRIMARY KEY, grant_id TEXT NOT NULL, grant_version INTEGER NOT NULL,
    action_hash TEXT NOT NULL, tool TEXT NOT NULL, created_us INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'settled', 'released')),
    closed_us INTEGER, detail TEXT NOT NULL DEFAULT '',
    owner_pid INTEGER, owner_start TEXT, owner_host TEXT, signing_us INTEGER) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reservations_grant_time ON reservations (grant_id, created_us);
CREATE INDEX IF NOT EXISTS reservations_time ON reservations (created_us);
CREATE TABLE IF NOT EXISTS reservation_amounts (
    reservation_id TEXT NOT NULL REFERENCES reservations (id), token TEXT NOT NULL,
    a0 INTEGER NOT NULL, a1 INTEGER NOT NULL, a2 INTEGER NOT NULL, usd_micro INTEGER NOT NULL,
    PRIMARY KEY (reservation_id, token)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS usage_buckets (
    scope TEXT NOT NULL, bucket INTEGER NOT NULL, token TEXT NOT NULL,
    a0 INTEGER NOT NULL, a1 INTEGER NOT NULL, a2 INTEGER NOT NULL, usd_micro INTEGER NOT NULL,
    PRIMARY KEY (scope, bucket, token)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS activity_buckets (
    grant_id TEXT NOT NULL, bucket INTEGER NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (grant_id, bucket)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS recipients_seen (
    account_id TEXT PRIMARY KEY, first_seen_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS approvals (
    id TEXT PRIMARY KEY, action_hash TEXT NOT NULL, created_us INTEGER NOT NULL,
    expires_us INTEGER NOT NULL, used_us INTEGER, reservation_id TEXT);
"""
# columns added after the first release; a policy.db made before gets them on open
_RESERVATION_COLUMNS = (
    ("owner_pid", "INTEGER"),
    ("owner_start", "TEXT"),
    ("owner_host", "TEXT"),
    ("signing_us", "INTEGER"),
)
_OWNER_MATCH = "owner_pid IS ? AND owner_start IS ? AND owner_host IS ?"


class PolicyStoreError(Exception):
    """A state change the store refuses (unknown reservation, used approval, ...)."""


class ReservationResolved(PolicyStoreError):
    """The reservation is no longer pending (or no longer the expected owner's): someone else,
    typically ``reconcile``, already settled or released it."""

    def __init__(self, reservation_id: str, status: str | None) -> None:
        self.reservation_id, self.status = reservation_id, status
        if status is None:
            message = f"no reservation {reservation_id}"
        elif status == "pending":
            message = f"reservation {reservation_id} is held by another process"
        else:
            message = f"reservation {reservation_id} is already {status}"
        super().__init__(message)


@dataclass(frozen=True)
class GrantRow:
    grant_id: str
    version: int
    body: str
    created_us: int
    source: str
    revoked: bool


@dataclass(frozen=True)
class ReservationRow:
    id: str
    grant_id: str
    grant_version: int
    action_hash: str
    tool: str
    created_us: int
    status: str
    amounts: dict[str, int]
    owner: ProcessOwner | None = None  # None: made before owners were recorded, or let go
    signing_us: int | None = None  # when its owner first confirmed it to sign


@dataclass(frozen=True)
class ApprovalRow:
    id: str
    action_hash: str
    created_us: int
    expires_us: int
    used_us: int | None


def split(amount: int) -> tuple[int, int, int]:
    """A u128 as three limbs SQLite can sum without overflow."""
    if not 0 <= amount < 1 << (3 * LIMB_BITS):
        raise ValueError(f"amount {amount} is out of range")
    return amount & _LIMB, (amount >> LIMB_BITS) & _LIMB, amount >> (2 * LIMB_BITS)


def join(a0: int | None, a1: int | None, a2: int | None) -> int:
    return (a0 or 0) + ((a1 or 0) << LIMB_BITS) + ((a2 or 0) << (2 * LIMB_BITS))


def _bucket_add(
    conn: sqlite3.Connection, grant_id: str, created_us: int, token: str, delta: int, usd_delta: int
) -> None:
    """Add (or, negative, remove) an amount in the minute buckets of the grant and of all."""
    sign = -1 if delta < 0 else 1
    limbs = [sign * limb for limb in split(abs(delta))]
    bucket = created_us // BUCKET_US
    for scope in (grant_id, GLOBAL):
        conn.execute(
            "INSERT INTO usage_buckets VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
            "a0 = a0 + excluded.a0, a1 = a1 + excluded.a1, a2 = a2 + excluded.a2, "
            "usd_micro = usd_micro + excluded.usd_micro",
            (scope, bucket, token, *limbs, usd_delta),
        )


def _activity_add(conn: sqlite3.Connection, grant_id: str, created_us: int, delta: int) -> None:
    conn.execute(
        "INSERT INTO activity_buckets VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET "
        "count = count + excluded.count",
        (grant_id, created_us // BUCKET_US, delta),
    )


def ensure_schema(path: Path | str) -> None:
    db = connect(path)
    try:
        db.conn.executescript(_SCHEMA)
        _add_missing_columns(db.conn)
    finally:
        db.conn.close()


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    """Bring a reservations table from an earlier release up to date (under the write lock, so
    processes opening the same old file together add each column once)."""
    if _missing_columns(conn):
        with write_transaction(conn):
            for name, kind in _missing_columns(conn):
                conn.execute(f"ALTER TABLE reservations ADD COLUMN {name} {kind}")


def _missing_columns(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    have = {row[1] for row in conn.execute("PRAGMA table_info(reservations)")}
    return [(name, kind) for name, kind in _RESERVATION_COLUMNS if name not in have]


def _grant_rows(
    conn: sqlite3.Connection, grant_id: str | None = None, latest_only: bool = True
) -> list[GrantRow]:
    where = "WHERE g.grant_id = ?" if grant_id is not None else ""
    if latest_only:
        where += (" AND " if where else "WHERE ") + (
            "g.version = (SELECT MAX(version) FROM grants h WHERE h.grant_id = g.grant_id)"
        )
    rows = conn.execute(
        "SELECT g.grant_id, g.version, g.body, g.created_us, g.source, EXISTS (SELECT 1 FROM "
        "revocations r WHERE r.grant_id = g.grant_id AND r.up_to_version >= g.version) "
        f"FROM grants g {where} ORDER BY g.grant_id, g.version",
        (grant_id,) if grant_id is not None else (),
    ).fetchall()
    return [GrantRow(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]


def _latest_ceiling(conn: sqlite3.Connection) -> tuple[int, str] | None:
    row = conn.execute(
        "SELECT version, body FROM ceilings ORDER BY version DESC LIMIT 1"
    ).fetchone()
    return None if row is None else (row[0], row[1])


class GrantBook:
    """The user's door: add grant versions and revoke them. Never handed to the agent."""

    def __init__(self, path: Path | str) -> None:
        ensure_schema(path)
        self._db = connect(path)
        self.conn = self._db.conn

    def close(self) -> None:
        self.conn.close()

    def add(
        self, bodies: Mapping[str, str], ceiling: str | None, *, now_us: int, source: str = ""
    ) -> list[tuple[str, int, bool]]:
        """Store each grant body as a new version when it differs from the latest one.

        Returns (grant id, version, whether a new version was written). All or nothing.
        """
        results = []
        with write_transaction(self.conn):
            for grant_id, body in bodies.items():
                latest = self.conn.execute(
                    "SELECT version, body FROM grants WHERE grant_id = ? "
                    "ORDER BY version DESC LIMIT 1",
                    (grant_id,),
                ).fetchone()
                revoked = (
                    latest is not None
                    and self.conn.execute(
                        "SELECT 1 FROM revocations WHERE grant_id = ? AND up_to_version >= ?",
                        (grant_id, latest[0]),
                    ).fetchone()
                    is not None
                )
                if latest is not None and latest[1] == body and not revoked:
                    results.append((grant_id, latest[0], False))
                    continue
                version = 1 if latest is None else latest[0] + 1
                self.conn.execute(
                    "INSERT INTO grants (grant_id, version, body, sha256, created_us, source) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        grant_id,
                        version,
                        body,
                        hashlib.sha256(body.encode()).hexdigest(),
                        now_us,
                        source,
                    ),
                )
                results.append((grant_id, version, True))
            if ceiling is not None:
                current = _latest_ceiling(self.conn)
                if current is None or current[1] != ceiling:
                    self.conn.execute(
                        "INSERT INTO ceilings (version, body, created_us, source) "
                        "VALUES (?, ?, ?, ?)",
                        (1 if current is None else current[0] + 1, ceiling, now_us, source),
                    )
        return results

    def revoke(self, grant_id: str | None, *, now_us: int, reason: str = "") -> list[str]:
        """Revoke one grant (every version so far) or, with None, every grant. Returns the ids."""
        with write_transaction(self.conn):
            rows = self.conn.execute(
                "SELECT grant_id, MAX(version) FROM grants "
                + ("WHERE grant_id = ? " if grant_id is not None else "")
                + "GROUP BY grant_id",
                (grant_id,) if grant_id is not None else (),
            ).fetchall()
            for gid, version in rows:
                self.conn.execute(
                    "INSERT INTO revocations (grant_id, up_to_version, revoked_us, reason) "
                    "VALUES (?, ?, ?, ?)",
                    (gid, version, now_us, reason),
                )
        return [r[0] for r in rows]

    def grants(self, grant_id: str | None = None, *, history: bool = False) -> list[GrantRow]:
        return _grant_rows(self.conn, grant_id, latest_only=not history)

    def ceiling(self) -> tuple[int, str] | None:
        return _latest_ceiling(self.conn)


_DDL_CODES = {
    getattr(sqlite3, name)
    for name in dir(sqlite3)
    if name.startswith(("SQLITE_CREATE_", "SQLITE_DROP_", "SQLITE_ALTER_"))
}
_WRITE_CODES = {sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE}


def _engine_authorizer(
    action: int, arg1: str | None, arg2: str | None, db: str | None, trigger: str | None
) -> int:
    """Refuse grant writes and schema changes on the engine's connections."""
    if action in _DDL_CODES:
        return sqlite3.SQLITE_DENY
    if action in _WRITE_CODES and arg1 in PROTECTED:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA and arg1 in ("writable_schema", "query_only") and arg2:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_ATTACH:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


class PolicyLedger:
    """The engine's door: read grants; write reservations, approvals and recipients.

    One connection per thread and process; :meth:`transaction` takes SQLite's write lock
    (BEGIN IMMEDIATE) so a check and the reservation it leads to are one atomic step.
    """

    def __init__(self, path: Path | str, *, durable: bool = True) -> None:
        self.path = str(path)
        self.durable = durable
        ensure_schema(path)
        self._local = threading.local()

    @property
    def conn(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            db = connect(self.path, durable=self.durable)
            # checkpoint less often: reservations rewrite the same few pages, which a larger
            # WAL coalesces into one write each at checkpoint time
            db.conn.execute("PRAGMA wal_autocheckpoint = 8000")
            db.conn.set_authorizer(_engine_authorizer)
            local.conn, local.pid = db.conn, os.getpid()
        return local.conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local = threading.local()

    @contextmanager
    def _unsynced(self) -> Iterator[None]:
        """Commits made inside skip their own fsync (the write-ahead log keeps their order, so
        the next durable commit carries them). Only for what a power cut may undo because
        reconcile redoes it from the journal and the chain: a claim or a settlement falls back
        to a pending reservation, which still counts in full."""
        if not self.durable:
            yield
            return
        conn = self.conn
        conn.execute("PRAGMA synchronous=NORMAL")
        try:
            yield
        finally:
            conn.execute("PRAGMA synchronous=FULL")

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        begin = write_transaction if write else read_transaction
        with begin(self.conn) as conn:
            yield conn

    # ------------------------------------------------------------------ grants (read only)

    def state_token(self) -> tuple[int | None, int | None, int | None]:
        """Changes whenever a grant, ceiling or revocation is added."""
        row = self.conn.execute(
            "SELECT (SELECT MAX(rowid) FROM grants), (SELECT MAX(rowid) FROM ceilings), "
            "(SELECT MAX(rowid) FROM revocations)"
        ).fetchone()
        return row[0], row[1], row[2]

    def grants(self, grant_id: str | None = None, *, history: bool = False) -> list[GrantRow]:
        return _grant_rows(self.conn, grant_id, latest_only=not history)

    def ceiling(self) -> tuple[int, str] | None:
        return _latest_ceiling(self.conn)

    # ------------------------------------------------------------------ usage

    def usage(self, grant_id: str | None, since_us: int) -> tuple[dict[str, int], int]:
        """Per-token base units and micro-USD of live reservations made at or after ``since_us``
        (``grant_id`` None: across all grants). Pending reservations count as spent."""
        first_full = -(-since_us // BUCKET_US)  # buckets wholly inside the window
        edge_sql = (
            "SELECT a.token, SUM(a.a0), SUM(a.a1), SUM(a.a2), SUM(a.usd_micro) "
            "FROM reservations r JOIN reservation_amounts a ON a.reservation_id = r.id "
            "WHERE r.status != 'released' AND r.created_us >= ? AND r.created_us < ?"
        )
        edge_params: tuple[Any, ...] = (since_us, first_full * BUCKET_US)
        if grant_id is not None:
            edge_sql += " AND r.grant_id = ?"
            edge_params += (grant_id,)
        tokens: dict[str, int] = {}
        usd = 0
        for sql, params in (
            (edge_sql + " GROUP BY a.token", edge_params),
            (
                "SELECT token, SUM(a0), SUM(a1), SUM(a2), SUM(usd_micro) FROM usage_buckets "
                "WHERE scope = ? AND bucket >= ? GROUP BY token",
                (grant_id if grant_id is not None else GLOBAL, first_full),
            ),
        ):
            for token, a0, a1, a2, u in self.conn.execute(sql, params):
                tokens[token] = tokens.get(token, 0) + join(a0, a1, a2)
                usd += u or 0
        return tokens, usd

    def oldest_live(self, grant_id: str | None, since_us: int) -> int | None:
        """When the oldest live reservation made at or after ``since_us`` was made (``grant_id``
        None: any grant); None when there is none. A rolling window's budget starts to come back
        when that reservation ages out of it."""
        sql = (
            "SELECT MIN(created_us) FROM reservations "
            "WHERE status != 'released' AND created_us >= ?"
        )
        params: tuple[Any, ...] = (since_us,)
        if grant_id is not None:
            sql, params = sql + " AND grant_id = ?", (since_us, grant_id)
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def activity(
        self, grant_id: str, since_us: int, *, want_last: bool = True
    ) -> tuple[int, int | None]:
        """How many live reservations since ``since_us`` and when the latest one was made."""
        first_full = -(-since_us // BUCKET_US)
        edge = self.conn.execute(
            "SELECT COUNT(*) FROM reservations WHERE grant_id = ? AND status != 'released' "
            "AND created_us >= ? AND created_us < ?",
            (grant_id, since_us, first_full * BUCKET_US),
        ).fetchone()[0]
        full = self.conn.execute(
            "SELECT COALESCE(SUM(count), 0) FROM activity_buckets WHERE grant_id = ? "
            "AND bucket >= ?",
            (grant_id, first_full),
        ).fetchone()[0]
        if not want_last:
            return edge + full, None
        last = self.conn.execute(
            "SELECT created_us FROM reservations WHERE grant_id = ? AND status != 'released' "
            "ORDER BY created_us DESC LIMIT 1",
            (grant_id,),
        ).fetchone()
        return edge + full, None if last is None else last[0]

    def seen(self, account_id: str) -> bool:
        return (
            self.conn.execute(
                "SELECT 1 FROM recipients_seen WHERE account_id = ?", (account_id,)
            ).fetchone()
            is not None
        )

    # ------------------------------------------------------------------ reservations

    def insert_reservation(
        self,
        *,
        grant_id: str,
        grant_version: int,
        action_hash: str,
        tool: str,
        created_us: int,
        amounts: Mapping[str, int],
        usd: Mapping[str, int],
        recipients: tuple[str, ...] = (),
        detail: Mapping[str, Any] | None = None,
        owner: ProcessOwner | None = None,
    ) -> str:
        """Record a pending reservation held by ``owner`` (default: this process); call inside
        :meth:`transaction`, so the owner is committed with the reservation, never after it."""
        # time-ordered ids append to the end of the primary-key index instead of touching a
        # random page per insert, which keeps each durable commit small
        reservation_id = f"{created_us:015x}{uuid.uuid4().hex[:17]}"
        owner = owner or current_owner()
        conn = self.conn
        conn.execute(
            "INSERT INTO reservations (id, grant_id, grant_version, action_hash, tool, created_us,"
            " status, detail, owner_pid, owner_start, owner_host)"
            " VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)",
            (
                reservation_id,
                grant_id,
                grant_version,
                action_hash,
                tool,
                created_us,
                json.dumps({**(detail or {}), "recipients": list(recipients)}, sort_keys=True),
                owner.pid,
                owner.start,
                owner.host,
            ),
        )
        for token, amount in amounts.items():
            conn.execute(
                "INSERT INTO reservation_amounts VALUES (?, ?, ?, ?, ?, ?)",
                (reservation_id, token, *split(amount), int(usd.get(token, 0))),
            )
            _bucket_add(conn, grant_id, created_us, token, amount, int(usd.get(token, 0)))
        _activity_add(conn, grant_id, created_us, 1)
        return reservation_id

    def reservation(self, reservation_id: str) -> ReservationRow | None:
        row = self.conn.execute(
            "SELECT id, grant_id, grant_version, action_hash, tool, created_us, status, "
            "owner_pid, owner_start, owner_host, signing_us FROM reservations WHERE id = ?",
            (reservation_id,),
        ).fetchone()
        if row is None:
            return None
        amounts = {
            t: join(a0, a1, a2)
            for t, a0, a1, a2 in self.conn.execute(
                "SELECT token, a0, a1, a2 FROM reservation_amounts WHERE reservation_id = ?",
                (reservation_id,),
            )
        }
        rid, grant_id, grant_version, action_hash, tool, created_us, status = row[:7]
        pid, start, host, signing_us = row[7:]
        owner = None if pid is None or host is None else ProcessOwner(pid, start, host)
        return ReservationRow(
            rid,
            grant_id,
            grant_version,
            action_hash,
            tool,
            created_us,
            status,
            amounts,
            owner,
            signing_us,
        )

    def pending(self, created_by_us: int | None = None) -> list[ReservationRow]:
        """Reservations neither settled nor released (to reconcile after a restart)."""
        ids = [
            r[0]
            for r in self.conn.execute(
                "SELECT id FROM reservations WHERE status = 'pending' AND created_us <= ? "
                "ORDER BY created_us",
                (created_by_us if created_by_us is not None else 2**62,),
            )
        ]
        return [row for i in ids if (row := self.reservation(i)) is not None]

    def claim(self, reservation_id: str, owner: ProcessOwner, *, now_us: int) -> bool:
        """Right before a transaction is sent: whether the reservation is still pending and still
        ``owner``'s.

        One statement, so no reconcile can slip between the check and the mark; False means it
        was taken away (settled, released or let go) and nothing may be sent for it.
        """
        # lost to a power cut: pending, resolved from the journal
        with self._unsynced(), self.transaction() as conn:
            cur = conn.execute(
                "UPDATE reservations SET signing_us = COALESCE(signing_us, ?) "
                f"WHERE id = ? AND status = 'pending' AND {_OWNER_MATCH}",
                (now_us, reservation_id, owner.pid, owner.start, owner.host),
            )
        return cur.rowcount == 1

    def disown(self, reservation_id: str, owner: ProcessOwner, *, now_us: int) -> bool:
        """``owner`` lets go of its still pending reservation: it will neither settle nor release
        it (what it sent has an unknown fate), so reconcile may resolve it now, from the journal
        and the chain, as it would a dead owner's. One conditional statement; False if the row
        was no longer pending and ``owner``'s (then nothing changes)."""
        with self.transaction() as conn:  # a write takes its turn like every other
            cur = conn.execute(
                "UPDATE reservations SET owner_pid = NULL, owner_start = NULL, owner_host = NULL, "
                "detail = json_set(detail, '$.let_go', json_object('pid', owner_pid, 'start', "
                "owner_start, 'host', owner_host, 'at_us', ?)) "
                f"WHERE id = ? AND status = 'pending' AND {_OWNER_MATCH}",
                (now_us, reservation_id, owner.pid, owner.start, owner.host),
            )
        return cur.rowcount == 1

    def settle(
        self,
        reservation_id: str,
        actual: Mapping[str, int] | None,
        *,
        now_us: int,
        owner: ProcessOwner | None = None,
        durable: bool = True,
    ) -> ReservationRow:
        """Replace the reserved amounts with what the chain moved; mark recipients as seen.

        Only a reservation still pending (and, given ``owner``, still that owner's) is settled;
        otherwise ReservationResolved says what became of it and nothing changes.
        ``durable=False`` when the transactions are journalled: a power cut may then undo the
        settlement, leaving a pending reservation (counted in full) for reconcile to settle.
        """
        with nullcontext() if durable else self._unsynced(), self.transaction() as conn:
            row = self._close(reservation_id, "settled", now_us, owner)
            if actual is not None:
                for token in set(row.amounts) | set(actual):
                    reserved = row.amounts.get(token, 0)
                    amount = int(actual.get(token, 0))
                    old_usd = conn.execute(
                        "SELECT usd_micro FROM reservation_amounts WHERE reservation_id = ? "
                        "AND token = ?",
                        (reservation_id, token),
                    ).fetchone()
                    usd = (
                        0
                        if old_usd is None or reserved == 0
                        else -(-old_usd[0] * amount // reserved)
                    )
                    conn.execute(
                        "INSERT OR REPLACE INTO reservation_amounts VALUES (?, ?, ?, ?, ?, ?)",
                        (reservation_id, token, *split(amount), usd),
                    )
                    _bucket_add(
                        conn,
                        row.grant_id,
                        row.created_us,
                        token,
                        amount - reserved,
                        usd - (old_usd[0] if old_usd else 0),
                    )
            conn.execute(
                "INSERT OR IGNORE INTO recipients_seen (account_id, first_seen_us) "
                "SELECT j.value, ? FROM reservations r, json_each(r.detail, '$.recipients') j "
                "WHERE r.id = ?",
                (now_us, reservation_id),
            )
        result = self.reservation(reservation_id)
        assert result is not None
        return result

    def release(
        self,
        reservation_id: str,
        *,
        now_us: int,
        reason: str = "",
        owner: ProcessOwner | None = None,
    ) -> None:
        """The action did not happen: its reservation stops counting.

        Conditional like :meth:`settle`: ReservationResolved if it is no longer pending (or no
        longer ``owner``'s), and nothing changes.
        """
        with self.transaction() as conn:
            row = self._close(reservation_id, "released", now_us, owner)
            for token, a0, a1, a2, usd in conn.execute(
                "SELECT token, a0, a1, a2, usd_micro FROM reservation_amounts "
                "WHERE reservation_id = ?",
                (reservation_id,),
            ).fetchall():
                _bucket_add(conn, row.grant_id, row.created_us, token, -join(a0, a1, a2), -usd)
            _activity_add(conn, row.grant_id, row.created_us, -1)
            conn.execute(
                "UPDATE reservations SET detail = json_set(detail, '$.release_reason', ?) "
                "WHERE id = ?",
                (reason, reservation_id),
            )

    def _close(
        self, reservation_id: str, status: str, now_us: int, owner: ProcessOwner | None
    ) -> ReservationRow:
        """Move a pending reservation to ``status`` in one conditional statement (inside the
        caller's transaction); the row as it was, or ReservationResolved."""
        row = self.reservation(reservation_id)
        sql = (
            "UPDATE reservations SET status = ?, closed_us = ? WHERE id = ? AND status = 'pending'"
        )
        params: tuple[Any, ...] = (status, now_us, reservation_id)
        if owner is not None:
            sql += f" AND {_OWNER_MATCH}"
            params += (owner.pid, owner.start, owner.host)
        if row is None or self.conn.execute(sql, params).rowcount != 1:
            raise ReservationResolved(reservation_id, None if row is None else row.status)
        return row

    # ------------------------------------------------------------------ approvals

    def add_approval(self, action_hash: str, *, now_us: int, expires_us: int) -> str:
        approval_id = uuid.uuid4().hex
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO approvals (id, action_hash, created_us, expires_us) "
                "VALUES (?, ?, ?, ?)",
                (approval_id, action_hash, now_us, expires_us),
            )
        return approval_id

    def approval(self, approval_id: str) -> ApprovalRow | None:
        row = self.conn.execute(
            "SELECT id, action_hash, created_us, expires_us, used_us FROM approvals WHERE id = ?",
            (approval_id,),
        ).fetchone()
        return None if row is None else ApprovalRow(*row)

    def use_approval(self, approval_id: str, *, now_us: int, reservation_id: str) -> bool:
        """Mark an approval used, inside the reserving transaction; False if already used."""
        cur = self.conn.execute(
            "UPDATE approvals SET used_us = ?, reservation_id = ? WHERE id = ? AND used_us IS NULL",
            (now_us, reservation_id, approval_id),
        )
        return cur.rowcount == 1
