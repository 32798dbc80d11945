"""The kill switch: one flag that stops every autonomous action at once.

Kept in SQLite so a chat session, the CLI and the scheduler daemon (separate processes) see the
same state; every change is written to the audit log.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from memory.audit import Actor, AuditKind, AuditLog, new_correlation_id
from memory.db import connect


@dataclass(frozen=True)
class SwitchState:
    """Whether the switch is pulled, why, and since when (None: never changed)."""

    paused: bool
    reason: str = ""
    changed_at: datetime | None = None


_STATE_SQL = "SELECT paused, reason, changed_at FROM kill_switch WHERE id = 1"


def _state(row: tuple | None) -> SwitchState:
    if not row:
        return SwitchState(False)
    return SwitchState(bool(row[0]), row[1], datetime.fromisoformat(row[2]))


def switch_state(path: Path) -> SwitchState:
    """The switch as a read-only command sees it, creating nothing (no file: not paused)."""
    if not path.exists():
        return SwitchState(False)
    db = connect(path)
    try:
        return _state(db.execute(_STATE_SQL).fetchone())
    except sqlite3.OperationalError:  # the table was never made: never paused
        return SwitchState(False)
    finally:
        db.conn.close()


class KillSwitch:
    def __init__(self, path: Path | str, audit: AuditLog) -> None:
        self._db = connect(path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS kill_switch "
            "(id INTEGER PRIMARY KEY CHECK (id = 1), paused INTEGER NOT NULL, "
            "reason TEXT NOT NULL, changed_at TEXT NOT NULL)"
        )
        self._audit = audit

    def close(self) -> None:
        self._db.conn.close()

    def is_paused(self) -> bool:
        row = self._db.execute("SELECT paused FROM kill_switch WHERE id = 1").fetchone()
        return bool(row and row[0])

    def state(self) -> SwitchState:
        return _state(self._db.execute(_STATE_SQL).fetchone())

    def pause(self, *, actor: Actor, reason: str = "") -> None:
        self._set(True, actor, reason)

    def resume(self, *, actor: Actor, reason: str = "") -> None:
        self._set(False, actor, reason)

    def _set(self, paused: bool, actor: Actor, reason: str) -> None:
        now = datetime.now(UTC).isoformat()
        with self._db.conn:
            self._db.execute(
                "INSERT INTO kill_switch (id, paused, reason, changed_at) VALUES (1, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET paused = excluded.paused, reason = excluded.reason, "
                "changed_at = excluded.changed_at",
                (int(paused), reason, now),
            )
        kind = AuditKind.PAUSED if paused else AuditKind.RESUMED
        self._audit.append(
            kind, actor=actor, correlation_id=new_correlation_id(), data={"reason": reason}
        )
