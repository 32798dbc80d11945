"""Opening the project's SQLite databases the one way they are opened."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import sqlite_utils


def connect(path: Path | str, *, durable: bool = True) -> sqlite_utils.Database:
    """A sqlite-utils database in WAL mode that waits for locks instead of failing.

    ``durable`` selects ``synchronous=FULL`` so a committed row survives a power cut, not just a
    process crash; caches that can be rebuilt may pass False.
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
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
