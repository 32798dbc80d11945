"""The tamper-evident audit log: every step of every intent, append-only and hash-chained.

Each entry is stored as the exact canonical bytes that were hashed (see
``memory.audit.canonical``) plus its ``prev_hash`` and ``hash``; the columns used to query (kind,
actor, correlation_id, ...) are SQLite generated columns over those bytes, so they cannot drift
from what the chain covers.
Appends take the chain head inside ``BEGIN IMMEDIATE``, so several processes (the scheduler daemon
and a chat session) can append to one file without forking the chain.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, get_args

from memory.audit.anchor import (
    Anchor,
    AnchorNotary,
    chain_anchors,
    check_in_log,
    check_on_chain,
)
from memory.audit.canonical import (
    GENESIS_HASH,
    AuditPayloadError,
    body_for,
    chain_hash,
    normalize,
)
from memory.audit.verify import Broken, VerifyReport, truncation, walk_chain
from memory.db import connect, write_transaction
from memory.redact import redact, redact_text

__all__ = [
    "Actor",
    "AuditDraft",
    "AuditEntry",
    "AuditKind",
    "AuditLog",
    "AuditPayloadError",
    "AuditReadError",
    "Head",
    "VerifyReport",
    "new_correlation_id",
]


class AuditKind(StrEnum):
    """Every step an intent can take, from the user's message to the balance change."""

    USER_MESSAGE = "user_message"
    PLAN = "plan"
    ACTION_PREPARED = "action_prepared"
    POLICY_DECISION = "policy_decision"
    APPROVAL_REQUESTED = "approval_requested"
    APPROVAL_GRANTED = "approval_granted"
    APPROVAL_DENIED = "approval_denied"
    APPROVAL_EXPIRED = "approval_expired"
    TX_SUBMITTED = "tx_submitted"
    TX_OUTCOME = "tx_outcome"
    ERROR = "error"
    GRANT_ADDED = "grant_added"
    GRANT_REVOKED = "grant_revoked"
    SCHEDULE_FIRED = "schedule_fired"
    PAUSED = "paused"
    RESUMED = "resumed"
    ANCHOR = "anchor"
    LABEL_SUBMITTED = "label_submitted"


Actor = Literal["user", "scheduler", "system", "mcp", "console"]  # console: the local web page
_ACTORS = frozenset(get_args(Actor))
_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
MAX_ENTRY_BYTES = 1 << 20
_DATA_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

_SCHEMA_VERSION = 1
# Derived columns read the hashed body; a damaged body yields NULLs instead of query errors.
_FIELD = "(CASE WHEN json_valid(body) THEN json_extract(body, '$.{name}') END)"
_DERIVED = ("ts", "kind", "actor", "correlation_id", "tool", "status")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
{derived}
);
CREATE INDEX IF NOT EXISTS entries_by_correlation ON entries (correlation_id);
CREATE INDEX IF NOT EXISTS entries_by_kind ON entries (kind);
CREATE INDEX IF NOT EXISTS entries_by_ts ON entries (ts);
CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS entries_no_delete BEFORE DELETE ON entries
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS anchors (
    id INTEGER PRIMARY KEY,
    head_hash TEXT NOT NULL,
    entries INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    network TEXT NOT NULL,
    contract TEXT NOT NULL,
    ts TEXT NOT NULL
);
"""


def _schema() -> str:
    derived = ",\n".join(f"    {c} TEXT AS {_FIELD.format(name=c)} VIRTUAL" for c in _DERIVED)
    return _SCHEMA.replace("{derived}", derived)


def new_correlation_id() -> str:
    """A fresh id tying one intent's steps (message, plan, decision, tx, outcome) together."""
    return uuid.uuid4().hex


def utc_now() -> str:
    return datetime.now(UTC).strftime(_TS_FORMAT)


def _as_ts(when: datetime | str) -> str:
    """A time in the log's own sortable format (naive times are taken as UTC)."""
    if isinstance(when, str):
        when = datetime.fromisoformat(when.strip().replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime(_TS_FORMAT)


@dataclass(frozen=True)
class AuditDraft:
    """One entry to append with :meth:`AuditLog.append_many`."""

    kind: AuditKind | str
    actor: Actor
    correlation_id: str
    data: dict[str, Any] = field(default_factory=dict)
    tool: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    """A stored entry, as read back from its hashed bytes."""

    id: int
    ts: str
    kind: AuditKind
    actor: str
    correlation_id: str
    tool: str | None
    status: str | None
    data: dict[str, Any]
    prev_hash: str
    hash: str

    @property
    def timestamp(self) -> datetime:
        return datetime.strptime(self.ts, _TS_FORMAT).replace(tzinfo=UTC)

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready (the export format)."""
        return {
            "id": self.id,
            "ts": self.ts,
            "kind": str(self.kind),
            "actor": self.actor,
            "correlation_id": self.correlation_id,
            "tool": self.tool,
            "status": self.status,
            "data": self.data,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class Head:
    """The chain's tip: ``count`` entries ending in ``hash`` (record it to detect truncation)."""

    count: int
    hash: str


class AuditReadError(Exception):
    """A stored entry cannot be read back; ``audit verify`` names what was damaged."""


def _entry_from_row(body: str | bytes, prev_hash: str, hash_: str) -> AuditEntry:
    try:
        raw = json.loads(body)
        return _entry_from_fields(raw, prev_hash, hash_)
    except (ValueError, KeyError, TypeError) as exc:
        raise AuditReadError(
            f"an audit entry is damaged ({exc}): run `near-agent audit verify`"
        ) from exc


def _entry_from_fields(raw: dict[str, Any], prev_hash: str, hash_: str) -> AuditEntry:
    return AuditEntry(
        id=raw["id"],
        ts=raw["ts"],
        kind=AuditKind(raw["kind"]),
        actor=raw["actor"],
        correlation_id=raw["correlation_id"],
        tool=raw.get("tool"),
        status=raw.get("status"),
        data=raw.get("data") or {},
        prev_hash=prev_hash,
        hash=hash_,
    )


def _clean_label(value: str | None, name: str, *, required: bool) -> str | None:
    if value is None or value == "":
        if required:
            raise AuditPayloadError(f"{name} must be a non-empty string")
        return None
    if not isinstance(value, str):
        raise AuditPayloadError(f"{name} must be a string, got {type(value).__name__}")
    if len(value) > 200:
        raise AuditPayloadError(f"{name} is longer than 200 characters")
    return redact_text(value)


@dataclass(frozen=True)
class PreparedDraft:
    """A draft already validated, redacted and normalised (:func:`prepare_draft`): a writer that
    holds entries back to commit them together learns of a bad one when it is made."""

    fields: dict[str, Any]


def prepare_draft(draft: AuditDraft) -> PreparedDraft:
    """AuditPayloadError now for what :meth:`AuditLog.append_many` would refuse later (but size,
    which needs the entry's id and time)."""
    return PreparedDraft(_prepare(draft))


def _prepare(draft: AuditDraft) -> dict[str, Any]:
    """Validate, redact and normalise one draft into the fields that will be hashed."""
    try:
        kind = AuditKind(draft.kind)
    except ValueError:
        known = ", ".join(k.value for k in AuditKind)
        raise AuditPayloadError(
            f"unknown audit entry kind {draft.kind!r} (known: {known})"
        ) from None
    if draft.actor not in _ACTORS:
        raise AuditPayloadError(f"actor must be one of {sorted(_ACTORS)}, got {draft.actor!r}")
    if not isinstance(draft.data, dict):
        raise AuditPayloadError(f"data must be a dict, got {type(draft.data).__name__}")
    return {
        "kind": kind.value,
        "actor": draft.actor,
        "correlation_id": _clean_label(draft.correlation_id, "correlation_id", required=True),
        "tool": _clean_label(draft.tool, "tool", required=False),
        "status": _clean_label(draft.status, "status", required=False),
        "data": redact(normalize(draft.data)),
    }


class AuditLog:
    """The audit log in one SQLite file; safe to open from several processes at once."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._db = connect(self.path, durable=True, redacting=False)  # redacted before hashing
        self._conn = self._db.conn
        self._lock = threading.Lock()
        with self._lock, write_transaction(self._conn):
            # Created once: a tampered file must still open so that verify can name the damage.
            if self._conn.execute("PRAGMA user_version").fetchone()[0] < _SCHEMA_VERSION:
                for statement in _schema().split(";\n"):
                    if statement.strip():
                        self._conn.execute(statement)
                self._conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------------------

    def append(
        self,
        kind: AuditKind | str,
        *,
        actor: Actor,
        correlation_id: str,
        data: dict[str, Any] | None = None,
        tool: str | None = None,
        status: str | None = None,
    ) -> AuditEntry:
        """Append one entry durably and return it (with its id and hash)."""
        draft = AuditDraft(kind, actor, correlation_id, data or {}, tool, status)
        return self.append_many([draft])[0]

    def append_many(self, drafts: Iterable[AuditDraft | PreparedDraft]) -> list[AuditEntry]:
        """Append several entries in one transaction: all of them are written, or none."""
        prepared = [dict(d.fields) if isinstance(d, PreparedDraft) else _prepare(d) for d in drafts]
        if not prepared:
            return []
        written: list[tuple[int, bytes, str, str]] = []
        with self._lock:
            conn = self._conn
            with write_transaction(conn):
                row = conn.execute(
                    "SELECT id, hash FROM entries ORDER BY id DESC LIMIT 1"
                ).fetchone()
                last_id, prev = (row[0], row[1]) if row else (0, GENESIS_HASH)
                ts = utc_now()
                for offset, fields in enumerate(prepared, start=1):
                    fields["ts"] = ts
                    body = body_for(last_id + offset, fields)
                    if len(body) > MAX_ENTRY_BYTES:
                        raise AuditPayloadError(
                            f"an entry of {len(body):,} bytes is over the {MAX_ENTRY_BYTES:,}-byte "
                            "limit: record a hash or a summary of large outputs instead"
                        )
                    digest = chain_hash(prev, body)
                    written.append((last_id + offset, body, prev, digest))
                    prev = digest
                conn.executemany(
                    "INSERT INTO entries (id, body, prev_hash, hash) VALUES (?, ?, ?, ?)",
                    [(i, b.decode(), p, h) for i, b, p, h in written],
                )
        return [_entry_from_row(b, p, h) for _, b, p, h in written]

    # -- reading -----------------------------------------------------------------------------

    def head(self) -> Head:
        """The current tip of the chain (0 entries and the genesis hash when empty)."""
        row = self._conn.execute("SELECT id, hash FROM entries ORDER BY id DESC LIMIT 1").fetchone()
        return Head(row[0], row[1]) if row else Head(0, GENESIS_HASH)

    def get(self, entry_id: int) -> AuditEntry | None:
        row = self._conn.execute(
            "SELECT body, prev_hash, hash FROM entries WHERE id = ?", (entry_id,)
        ).fetchone()
        return _entry_from_row(*row) if row else None

    def entries(
        self,
        *,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        before_id: int | None = None,
        kind: AuditKind | str | None = None,
        tool: str | None = None,
        status: str | None = None,
        actor: str | None = None,
        correlation_id: str | None = None,
        data_match: dict[str, str | int] | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[AuditEntry]:
        """Entries matching every given filter, oldest first (``limit`` keeps the newest N).

        ``until`` excludes entries at or after that time; ``before_id`` keeps ids below it (the
        cursor of a page of newest entries).
        ``data_match`` compares top-level fields of ``data`` (``{"task_id": "t1"}``).
        """
        where: list[str] = []
        params: list[Any] = []
        for key, value in (data_match or {}).items():
            if not _DATA_KEY.fullmatch(key):
                raise ValueError(f"data_match key {key!r} must be a plain identifier")
            where.append(_FIELD.format(name=f"data.{key}") + " = ?")
            params.append(value)
        if since is not None:
            where.append("ts >= ?")
            params.append(_as_ts(since))
        if until is not None:
            where.append("ts < ?")
            params.append(_as_ts(until))
        if before_id is not None:
            where.append("id < ?")
            params.append(int(before_id))
        if kind is not None:
            where.append("kind = ?")
            params.append(AuditKind(kind).value)
        for column, wanted in (
            ("tool", tool),
            ("status", status),
            ("actor", actor),
            ("correlation_id", correlation_id),
        ):
            if wanted is not None:
                where.append(f"{column} = ?")
                params.append(wanted)
        sql = "SELECT body, prev_hash, hash FROM entries"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC" if (newest_first or limit is not None) else " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        rows = [_entry_from_row(*r) for r in self._conn.execute(sql, params)]
        if limit is not None and not newest_first:
            rows.reverse()
        return rows

    def story(self, correlation_id: str) -> list[AuditEntry]:
        """One intent's steps in order: message -> plan -> decision -> approval -> tx -> outcome."""
        return self.entries(correlation_id=correlation_id)

    def correlation_ids(self, prefix: str, limit: int = 10) -> list[str]:
        """Correlation ids starting with ``prefix`` (so users can type a short one)."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self._conn.execute(
            "SELECT DISTINCT correlation_id FROM entries WHERE correlation_id LIKE ? ESCAPE '\\'"
            " ORDER BY correlation_id LIMIT ?",
            (escaped + "%", limit),
        ).fetchall()
        return [r[0] for r in rows]

    def iter_all(self, batch: int = 10_000) -> Iterator[AuditEntry]:
        """Every entry in order, without loading the whole log at once (for export)."""
        last = 0
        while True:
            rows = self._conn.execute(
                "SELECT id, body, prev_hash, hash FROM entries WHERE id > ? ORDER BY id LIMIT ?",
                (last, batch),
            ).fetchall()
            if not rows:
                return
            for _, body, prev_hash, hash_ in rows:
                yield _entry_from_row(body, prev_hash, hash_)
            last = rows[-1][0]

    # -- anchors -----------------------------------------------------------------------------

    def anchors(self) -> list[Anchor]:
        rows = self._conn.execute(
            "SELECT head_hash, entries, tx_hash, network, contract, ts FROM anchors ORDER BY id"
        ).fetchall()
        return [Anchor(*row) for row in rows]

    def anchor(
        self,
        notary: AnchorNotary,
        *,
        actor: Actor = "system",
        network: str | None = None,
        contract: str | None = None,
    ) -> Anchor:
        """Publish the current head through ``notary``; record it locally and in the chain."""
        head = self.head()
        if head.count == 0:
            raise ValueError("the audit log is empty: there is nothing to anchor")
        tx_hash = notary.anchor(head.hash, head.count)
        anchor = Anchor(
            head_hash=head.hash,
            entries=head.count,
            tx_hash=tx_hash,
            network=network or str(getattr(notary, "network", "") or ""),
            contract=contract or str(getattr(notary, "contract_id", "") or ""),
            ts=utc_now(),
        )
        with self._lock, write_transaction(self._conn):
            self._conn.execute(
                "INSERT INTO anchors (head_hash, entries, tx_hash, network, contract, ts)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    anchor.head_hash,
                    anchor.entries,
                    anchor.tx_hash,
                    anchor.network,
                    anchor.contract,
                    anchor.ts,
                ),
            )
        self.append(
            AuditKind.ANCHOR,
            actor=actor,
            correlation_id=new_correlation_id(),
            tool="anchor",
            status="final",
            data={
                "head_hash": anchor.head_hash,
                "entries": anchor.entries,
                "tx_hash": anchor.tx_hash,
                "network": anchor.network,
                "contract": anchor.contract,
            },
        )
        return anchor

    def _known_anchors(self) -> list[Anchor]:
        """Anchors from the anchors table and from ``anchor`` entries (either may be tampered)."""
        found = {(a.head_hash, a.entries): a for a in self.anchors()}
        try:
            in_chain = self.entries(kind=AuditKind.ANCHOR)
        except (sqlite3.Error, AuditReadError):
            in_chain = []  # unreadable entries: the walk names the damaged one
        for entry in in_chain:
            d = entry.data
            try:
                key = (str(d["head_hash"]), int(d["entries"]))
            except (KeyError, TypeError, ValueError):
                continue
            found.setdefault(
                key,
                Anchor(
                    key[0],
                    key[1],
                    str(d.get("tx_hash", "")),
                    str(d.get("network", "")),
                    str(d.get("contract", "")),
                    entry.ts,
                ),
            )
        return sorted(found.values(), key=lambda a: a.entries)

    # -- verification ------------------------------------------------------------------------

    def verify(
        self,
        *,
        anchored: AnchorNotary | None = None,
        expected_head: Head | None = None,
    ) -> VerifyReport:
        """Re-hash the whole chain and check it against recorded heads and anchors.

        Detects an edit of any byte of any stored column, a deleted, inserted or reordered
        entry; a cut-off tail is detected against ``expected_head`` or any anchor. With
        ``anchored`` the account's anchors are read from the chain, the truth: each head must be
        in the local chain at its position (an emptied or re-chained log, or deleted local anchor
        rows, cannot hide one), and each local anchor must be on chain too.
        """
        checkpoints: dict[int, tuple[str, str]] = {}
        problems: list[tuple[int, str]] = []
        try:
            anchors = self._known_anchors()
        except sqlite3.DatabaseError:
            anchors = []  # an unreadable anchors table vouches for nothing; the walk still runs
        on_chain = chain_anchors(anchored) if anchored is not None else []
        for a in anchors:
            checkpoints.setdefault(a.entries, (a.head_hash, f"anchor tx {a.tx_hash or '?'}"))
            if anchored is not None:
                problem = check_on_chain(a, anchored)
                if problem is not None:
                    problems.append((problem.entry_id, problem.reason))
        if expected_head is not None and expected_head.count > 0:
            checkpoints[expected_head.count] = (expected_head.hash, "the recorded head")

        # A connection of its own: a long walk neither blocks nor interleaves with appends.
        reader = sqlite3.connect(str(self.path), timeout=30.0)
        try:
            count, head_hash, broken = walk_chain(reader, checkpoints)
            hash_at = _hashes_at(reader, {a.entries for a in on_chain if a.entries <= count})
        finally:
            reader.close()
        for chain_anchor in on_chain:
            problem = check_in_log(chain_anchor, len(on_chain), count, hash_at)
            if problem is not None:
                problems.append((problem.entry_id, problem.reason))
        broken = broken or truncation(count, checkpoints)
        if broken is None and problems:
            # the earliest entry wins; at the same entry, the first found (stable)
            broken = Broken(*min(problems, key=lambda p: p[0]))
        checked = len(on_chain) if anchored is not None else len(anchors)
        if broken is not None:
            return VerifyReport(False, count, head_hash, broken.entry_id, broken.reason, checked)
        return VerifyReport(True, count, head_hash, anchors_checked=checked)


def _hashes_at(conn: sqlite3.Connection, ids: set[int]) -> dict[int, str]:
    """The stored hash of each entry in ``ids`` (ids the walk has already verified)."""
    found: dict[int, str] = {}
    for entry_id in sorted(ids):
        row = conn.execute("SELECT hash FROM entries WHERE id = ?", (entry_id,)).fetchone()
        if row is not None:
            found[entry_id] = str(row[0])
    return found
