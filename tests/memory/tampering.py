"""What an attacker with write access to the audit database file can do, as helpers for tests."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path


def open_raw(path: Path) -> sqlite3.Connection:
    """A plain connection with the append-only triggers dropped (as anyone with the file can)."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'entries'"
    ).fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    return conn


def read_row(conn: sqlite3.Connection, entry_id: int) -> tuple[bytes, bytes, bytes]:
    return conn.execute(
        "SELECT CAST(body AS BLOB), CAST(prev_hash AS BLOB), CAST(hash AS BLOB)"
        " FROM entries WHERE id=?",
        (entry_id,),
    ).fetchone()


def write_column(conn: sqlite3.Connection, entry_id: int, column: str, value: bytes) -> None:
    conn.execute(f"UPDATE entries SET {column} = CAST(? AS TEXT) WHERE id=?", (value, entry_id))


def flip_byte(conn: sqlite3.Connection, entry_id: int, column: str, pos: int, xor: int) -> None:
    """Change one byte of a text column of one entry."""
    body, prev_hash, hash_ = read_row(conn, entry_id)
    value = bytearray({"body": body, "prev_hash": prev_hash, "hash": hash_}[column])
    value[pos % len(value)] ^= xor
    write_column(conn, entry_id, column, bytes(value))


def swap_rows(conn: sqlite3.Connection, a: int, b: int) -> None:
    row_a, row_b = read_row(conn, a), read_row(conn, b)
    for entry_id, row in ((a, row_b), (b, row_a)):
        conn.execute(
            "UPDATE entries SET body=CAST(? AS TEXT), prev_hash=CAST(? AS TEXT),"
            " hash=CAST(? AS TEXT) WHERE id=?",
            (*row, entry_id),
        )


def insert_forged(conn: sqlite3.Connection, at: int) -> None:
    """Shift entries >= ``at`` up by one and insert a well-linked forged entry at ``at``."""
    conn.execute("UPDATE entries SET id = -id WHERE id >= ?", (at,))
    conn.execute("UPDATE entries SET id = -id + 1 WHERE id < 0")
    prev = (
        conn.execute("SELECT hash FROM entries WHERE id=?", (at - 1,)).fetchone()[0]
        if at > 1
        else "0" * 64
    )
    body = (
        f'{{"id":{at},"actor":"user","correlation_id":"forged","data":{{"amount":"1"}},'
        f'"kind":"user_message","status":null,"tool":null,"ts":"2026-01-01T00:00:00.000000Z"}}'
    )
    digest = hashlib.sha256(prev.encode() + body.encode()).hexdigest()
    conn.execute(
        "INSERT INTO entries (id, body, prev_hash, hash) VALUES (?, ?, ?, ?)",
        (at, body, prev, digest),
    )


def rehash_all(conn: sqlite3.Connection) -> None:
    """Recompute every link so the chain is self-consistent again (a full rewrite)."""
    prev = "0" * 64
    for entry_id, body in conn.execute(
        "SELECT id, CAST(body AS BLOB) FROM entries ORDER BY id"
    ).fetchall():
        digest = hashlib.sha256(prev.encode() + body).hexdigest()
        conn.execute("UPDATE entries SET prev_hash=?, hash=? WHERE id=?", (prev, digest, entry_id))
        prev = digest
