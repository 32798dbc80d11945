"""Closing a SQLite connection without checkpointing its write-ahead log.

Why: SQLite's last connection to a WAL database checkpoints the log into the database file and
deletes it when it closes, which costs two fsyncs and a directory sync per database a process
wrote, on every short command. Every commit is already durable in the log (``synchronous=FULL``),
so skipping that checkpoint loses nothing: the log stays beside the file (``NAME-wal``), every
later connection reads it, and SQLite checkpoints it as it grows (``wal_autocheckpoint``). A
copy of the database must therefore take the log too (copy the folder, or use SQLite's backup).
"""

from __future__ import annotations

import ctypes
import sqlite3
import sys
import time

# sqlite3.h: SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE (Python 3.12 names it; 3.11 does not)
NO_CKPT_ON_CLOSE = 1006


def use_wal(conn: sqlite3.Connection, attempts: int = 50) -> None:
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


def keep_wal_on_close(conn: sqlite3.Connection) -> bool:
    """Ask SQLite not to checkpoint when ``conn`` closes; False where this Python cannot."""
    setconfig = getattr(conn, "setconfig", None)
    if setconfig is not None:  # Python 3.12 and later
        setconfig(NO_CKPT_ON_CLOSE, True)
        return True
    if sys.implementation.name != "cpython" or sys.version_info[:2] != (3, 11):
        return False
    return _db_config_311(conn)


def _db_config_311(conn: sqlite3.Connection) -> bool:
    """CPython 3.11's connection object holds its ``sqlite3 *`` right after the object header;
    the pointer is checked (it must name this connection's file) before anything uses it."""
    import _sqlite3

    library = ctypes.CDLL(_sqlite3.__file__)  # resolves to the libsqlite3 the module uses
    handle = ctypes.c_void_p.from_address(id(conn) + object.__basicsize__).value
    if not handle:
        return False
    filename = library.sqlite3_db_filename
    filename.restype = ctypes.c_char_p
    filename.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    (_, _, path) = conn.execute("PRAGMA database_list").fetchone()
    if (filename(handle, b"main") or b"").decode() != (path or ""):
        return False
    db_config = library.sqlite3_db_config
    db_config.restype = ctypes.c_int
    now = ctypes.c_int(-1)
    code = db_config(
        ctypes.c_void_p(handle), ctypes.c_int(NO_CKPT_ON_CLOSE), ctypes.c_int(1), ctypes.byref(now)
    )
    return code == 0 and now.value == 1
