"""Opening the project's SQLite databases the one way they are opened.

A damaged file (truncated, overwritten, not SQLite at all) surfaces wherever SQLite first reads
the bad page: at open, or in the middle of a query much later. Every connection made here turns
that into ``DamagedDatabase``, naming the file and what to do, whichever statement met it.

Every text value written through such a connection (INSERT, UPDATE, REPLACE) is redacted first
(``memory.redact``), so no store can keep a secret whichever code path wrote it.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from memory.redact import redact_text
from memory.user_files import UnusableFile
from memory.writer_lock import SUFFIX as LOCK_SUFFIX
from memory.writer_lock import lock_path, writer_turn
from tools.sqlite_wal import keep_wal_on_close, use_wal

_WRITES = ("INSERT", "UPDATE", "REPLACE", "UPSERT", "WITH")


def _writes(sql: str) -> bool:
    return sql.lstrip()[:7].upper().startswith(_WRITES)


def _redacted(params: Any) -> Any:
    if isinstance(params, dict):
        return {k: redact_text(v) if isinstance(v, str) else v for k, v in params.items()}
    if isinstance(params, list | tuple):
        return type(params)(redact_text(v) if isinstance(v, str) else v for v in params)
    return params


# SQLITE_CORRUPT and SQLITE_NOTADB: the file's bytes are not a usable database.
_DAMAGE_CODES = frozenset({11, 26})

# What each database holds, so the remedy can say what moving it aside costs.
_HOLDS = {
    "audit.db": "the audit log; a `near-agent audit export` file is a copy of it",
    "policy.db": "your grants and budgets; after moving it aside add your grants again with "
    "`near-agent grants add FILE`",
    "memory.db": "contacts, preferences and conversation",
    "jobs.db": "scheduled strategies; add them again with `near-agent schedule add`",
    "pools.db": "only a cache of the exchange's pools and of token metadata, read again from "
    "the chain when missing: moving it aside loses nothing",
    "anchorers.db": "which accounts anchored each home's audit log (in your state folder); "
    "`audit verify --anchored --account ID` still checks an account you name",
}


class DamagedDatabase(UnusableFile, sqlite3.DatabaseError):
    """A database file cannot be read as SQLite; nothing further was done with it."""

    def __init__(self, path: Path | str, reason: str) -> None:
        name = Path(path).name
        holds = _HOLDS.get(name, "data the agent keeps")
        super().__init__(
            path,
            f"the database is damaged ({reason}); nothing was done.",
            f"It holds {holds}. Restore it from a backup, or move it aside "
            f"(mv {path} {path}.damaged) to start a new, empty one.",
        )


def _is_damage(exc: sqlite3.DatabaseError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) in _DAMAGE_CODES


class _Cursor(sqlite3.Cursor):
    """A cursor whose reads report a damaged file as DamagedDatabase."""

    def _damaged(self, exc: sqlite3.DatabaseError) -> Exception:
        connection = self.connection
        path = connection.path if isinstance(connection, _Connection) else "(database)"
        return DamagedDatabase(path, str(exc)) if _is_damage(exc) else exc

    def _redacts(self, sql: str) -> bool:
        connection = self.connection
        return isinstance(connection, _Connection) and connection.redacting and _writes(sql)

    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        if self._redacts(sql):
            parameters = _redacted(parameters)
        try:
            return super().execute(sql, parameters)
        except sqlite3.DatabaseError as exc:
            raise self._damaged(exc) from exc

    def executemany(self, sql: str, seq: Iterable[Any], /) -> _Cursor:
        if self._redacts(sql):
            seq = (_redacted(p) for p in seq)
        try:
            return super().executemany(sql, seq)
        except sqlite3.DatabaseError as exc:
            raise self._damaged(exc) from exc

    def executescript(self, *args: Any) -> sqlite3.Cursor:
        try:
            return super().executescript(*args)
        except sqlite3.DatabaseError as exc:
            raise self._damaged(exc) from exc

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._damaged(exc) from exc

    def fetchmany(self, *args: Any) -> list[Any]:
        try:
            return super().fetchmany(*args)
        except sqlite3.DatabaseError as exc:
            raise self._damaged(exc) from exc

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._damaged(exc) from exc

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.DatabaseError as exc:
            raise self._damaged(exc) from exc


class _Connection(sqlite3.Connection):
    """A connection that knows its file, so damage found by any statement can name it, and whose
    writes, direct or through a cursor, never store a secret (unless ``redacting`` is off)."""

    path: str = "(database)"
    redacting: bool = True
    writer_lock: str | None = None  # the lock file writers take turns on (memory.writer_lock)

    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)

    def execute(self, *args: Any) -> Any:
        return self.cursor().execute(*args)

    def executemany(self, *args: Any) -> Any:
        return self.cursor().executemany(*args)

    def executescript(self, *args: Any) -> Any:
        return self.cursor().executescript(*args)


def connect(
    path: Path | str, *, durable: bool = True, redacting: bool = True
) -> sqlite_utils.Database:
    """A sqlite-utils database in WAL mode that waits for locks instead of failing.

    ``durable`` selects ``synchronous=FULL`` so a committed row survives a power cut, not just a
    process crash; caches that can be rebuilt may pass False. DamagedDatabase when the file is
    not a readable database (here or at any later statement). ``redacting=False`` is for the
    audit log alone, which redacts each entry before hashing it (a later change would break the
    chain).
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _owner_only(Path(path))
    conn = sqlite3.connect(
        str(path),
        timeout=30.0,
        isolation_level=None,
        check_same_thread=False,
        factory=_Connection,
    )
    conn.path = str(path)
    conn.redacting = redacting
    conn.writer_lock = None if str(path) == ":memory:" else lock_path(str(path))
    try:
        use_wal(conn)
        keep_wal_on_close(conn)  # every commit is in the log already: closing costs no fsync
        conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # reads the schema page
    except BaseException:
        conn.close()
        raise
    return sqlite_utils.Database(conn)


def connect_read_only(path: Path | str, *, timeout: float = 5.0) -> sqlite3.Connection:
    """A read-only connection to an existing database (nothing is created or changed), whose
    statements report a damaged file as DamagedDatabase like :func:`connect`'s."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout, factory=_Connection)
    conn.path = str(path)
    return conn


_SIDE_FILES = ("-wal", "-shm", "-journal", LOCK_SUFFIX)


def _owner_only(path: Path) -> None:
    """Create the database file readable by its owner alone (0600; SQLite gives its -wal, -shm
    and journal files the database's mode, and the writers' lock file is made 0600) and tighten
    one of ours that others could read."""
    # Never open an existing database file here: closing any descriptor of a file drops every
    # POSIX lock this process holds on it, so another connection of this process would lose its
    # locks (and a second process could then miss or overwrite its writes). Only a new file is
    # created, and modes are changed by path.
    if not path.exists():
        try:
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass  # another process created it just now
        except OSError:
            return  # unwritable or not a file: sqlite3.connect says what is wrong
    for each in (path, *(Path(f"{path}{side}") for side in _SIDE_FILES)):
        try:
            info = each.stat()
        except OSError:
            continue
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077 and info.st_uid == os.getuid():
            os.chmod(each, mode & 0o700)


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, its lock taken before anything is read (BEGIN IMMEDIATE).

    A deferred transaction that reads and then writes cannot wait for another writer (SQLite
    answers "database is locked" at once); taking the write lock first makes it wait its turn.
    Writers of one file wait for that turn asleep on its lock file (``memory.writer_lock``),
    held until after COMMIT or ROLLBACK. All of it commits, or none of it.
    """
    deadline = time.monotonic() + _WAIT_FOR_WRITER_S
    with (
        writer_turn(getattr(conn, "writer_lock", None), deadline),
        _transaction(conn, lambda c: _begin_write(c, deadline)),
    ):
        yield conn


@contextmanager
def read_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One snapshot to read from (a deferred BEGIN): several reads see the same state."""
    with _transaction(conn, lambda c: c.execute("BEGIN")):
        yield conn


_BEGIN_WRITE = "BEGIN IMMEDIATE"
_BUSY = 5  # SQLITE_BUSY, the primary code of every "database is locked"
_WAIT_FOR_WRITER_S = 30.0  # as long as connect()'s busy timeout
_LONGEST_PAUSE_S = 0.001


def _begin_write(conn: sqlite3.Connection, deadline: float) -> None:
    """BEGIN IMMEDIATE, tried again every millisecond or less while another process writes.

    With the writers' turn held this succeeds at once; the retries are for writers that take no
    turn (an older release, the sqlite3 shell) or could not get one. SQLite's own busy handler
    sleeps 1, 2, 5, 10, ... up to 100 ms between tries, so a waiting writer could wake up to
    100 ms after the lock came free; short pauses keep such a wait close to the writer's work.
    """
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        pause = 0.0001
        while True:
            try:
                conn.execute(_BEGIN_WRITE)
                return
            except sqlite3.OperationalError as exc:
                busy = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF == _BUSY
                if not busy or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE_S)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(_WAIT_FOR_WRITER_S * 1000)}")


@contextmanager
def _transaction(
    conn: sqlite3.Connection, begin: Callable[[sqlite3.Connection], object]
) -> Iterator[None]:
    begin(conn)
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
