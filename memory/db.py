"""Opening the project's SQLite databases the one way they are opened.

Every text value written through such a connection (INSERT, UPDATE, REPLACE) is redacted first
(``memory.audit_redact``), so no store can keep a secret whichever code path wrote it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlite_utils

from memory.audit_redact import redact_text

_WRITES = ("INSERT", "UPDATE", "REPLACE", "UPSERT", "WITH")


def _writes(sql: str) -> bool:
    return sql.lstrip()[:7].upper().startswith(_WRITES)


def _redacted(params: Any) -> Any:
    if isinstance(params, dict):
        return {k: redact_text(v) if isinstance(v, str) else v for k, v in params.items()}
    if isinstance(params, list | tuple):
        return type(params)(redact_text(v) if isinstance(v, str) else v for v in params)
    return params


class RedactingCursor(sqlite3.Cursor):
    """A cursor whose writes never store a secret (see the module docstring)."""

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        return super().execute(sql, _redacted(parameters) if _writes(sql) else parameters)

    def executemany(self, sql: str, seq: Iterable[Any], /) -> sqlite3.Cursor:
        rows = (_redacted(p) for p in seq) if _writes(sql) else seq
        return super().executemany(sql, rows)


class RedactingConnection(sqlite3.Connection):
    """A connection whose writes, direct or through a cursor, never store a secret."""

    def cursor(self, factory: Any = RedactingCursor) -> Any:  # type: ignore[override]
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, seq: Iterable[Any], /) -> sqlite3.Cursor:
        return self.cursor().executemany(sql, seq)


def connect(
    path: Path | str, *, durable: bool = True, redacting: bool = True
) -> sqlite_utils.Database:
    """A sqlite-utils database in WAL mode that waits for locks instead of failing.

    ``durable`` selects ``synchronous=FULL`` so a committed row survives a power cut, not just a
    process crash; caches that can be rebuilt may pass False. ``redacting=False`` is for the
    audit log alone, which redacts each entry before hashing it (a later change would break the
    chain).
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        str(path),
        timeout=30.0,
        isolation_level=None,
        check_same_thread=False,
        factory=RedactingConnection if redacting else sqlite3.Connection,
    )
    _use_wal(conn)
    conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA foreign_keys=ON")
    return sqlite_utils.Database(conn)


def _use_wal(conn: sqlite3.Connection, attempts: int = 50) -> None:
    """Switch to WAL once; processes opening a new file together may briefly see it locked."""
    for attempt in range(attempts):
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.02 * (attempt + 1))
