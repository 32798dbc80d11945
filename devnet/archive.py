"""Old chain records on disk, recent ones in memory, so a long-running devnet stays bounded.

Transactions, receipts, outcomes and block changes are final once their block is a few blocks
old; the runtime moves them from memory into one SQLite file in the state dir and reads them back
on demand, answering exactly as before. The file is a cache of the journal: it is rebuilt (from
empty) whenever the node starts and replays its journal.
"""

from __future__ import annotations

import pickle
import sqlite3
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

V = TypeVar("V")
_MISSING: Any = object()


class Archive:
    """One SQLite file of evicted records, one table per kind; started empty."""

    def __init__(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        self.path = path
        # the node is single writer; replay and RPC reads may run on other threads than creation
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=OFF")  # rebuilt from the journal on every start
        self._db.execute("PRAGMA synchronous=OFF")

    def table(self, name: str) -> None:
        self._db.execute(f"CREATE TABLE IF NOT EXISTS {name} (k BLOB PRIMARY KEY, v BLOB)")

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction for many :meth:`put` calls (a commit each would cost more)."""
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def put(self, name: str, rows: list[tuple[bytes, bytes]]) -> None:
        if rows:
            self._db.executemany(f"INSERT OR REPLACE INTO {name} VALUES (?, ?)", rows)

    def get(self, name: str, key: bytes) -> bytes | None:
        row = self._db.execute(f"SELECT v FROM {name} WHERE k = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def close(self) -> None:
        self._db.close()


class Tiered(Generic[V]):
    """A dict keyed by hash whose old entries live in an :class:`Archive`: reads look in memory,
    then on disk; :meth:`evict` moves entries to disk. Without an archive, a plain dict."""

    def __init__(
        self,
        archive: Archive | None,
        name: str,
        encode: Callable[[V], bytes] = pickle.dumps,
        decode: Callable[[bytes], V] = pickle.loads,
    ) -> None:
        self.recent: dict[bytes, V] = {}
        self._archive = archive
        self._name = name
        self._encode = encode
        self._decode = decode
        self._archived = 0  # entries moved to disk
        if archive is not None:
            archive.table(name)

    def __setitem__(self, key: bytes, value: V) -> None:
        self.recent[key] = value

    def get(self, key: Hashable, default: Any = None) -> Any:
        value = self.recent.get(key, _MISSING)  # type: ignore[call-overload]
        if value is not _MISSING:
            return value
        if self._archive is None or not isinstance(key, bytes):
            return default
        raw = self._archive.get(self._name, key)
        return default if raw is None else self._decode(raw)

    def __getitem__(self, key: bytes) -> V:
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        if key in self.recent:
            return True
        if self._archive is None or not isinstance(key, bytes):
            return False
        return self._archive.get(self._name, key) is not None

    def __len__(self) -> int:
        return len(self.recent) + self._archived

    def evict(self, keys: Iterable[bytes]) -> None:
        """Move ``keys`` (those still in memory) to disk."""
        if self._archive is None:
            return
        rows = []
        for key in keys:
            value = self.recent.pop(key, _MISSING)
            if value is not _MISSING:
                rows.append((key, self._encode(value)))
        self._archive.put(self._name, rows)
        self._archived += len(rows)
