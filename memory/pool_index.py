"""The pool index's SQLite store in the home (``tools.pool_index.IndexStore``).

A cache of what the exchange's pools are (rebuilt from the chain if lost), so it is opened
without ``synchronous=FULL``. Each method is one transaction; writes take the write lock first,
so several agent processes refreshing together each see a whole index and never a half-written
one. Amounts are stored as decimal text (u128 does not fit SQLite's integers).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from memory.db import connect, read_transaction, write_transaction
from tools.pool_index import IndexedPool, IndexMeta

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pool_index_meta (
    scope TEXT PRIMARY KEY,
    known INTEGER NOT NULL,
    full_scan_at REAL
);
CREATE TABLE IF NOT EXISTS pools (
    scope TEXT NOT NULL,
    pool_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    tokens TEXT NOT NULL,
    fee_bps INTEGER NOT NULL,
    amp INTEGER NOT NULL,
    decimals TEXT NOT NULL,
    amounts TEXT NOT NULL,
    PRIMARY KEY (scope, pool_id)
);
CREATE TABLE IF NOT EXISTS token_metadata (
    scope TEXT NOT NULL,
    contract_id TEXT NOT NULL,
    metadata TEXT NOT NULL,
    read_at REAL NOT NULL,
    PRIMARY KEY (scope, contract_id)
);
CREATE TABLE IF NOT EXISTS established_pools (
    scope TEXT NOT NULL,
    pool_id INTEGER NOT NULL,
    since REAL NOT NULL,
    PRIMARY KEY (scope, pool_id)
);
CREATE TABLE IF NOT EXISTS pool_tokens (
    scope TEXT NOT NULL,
    token TEXT NOT NULL,
    pool_id INTEGER NOT NULL,
    PRIMARY KEY (scope, token, pool_id)
);
"""


class SqlitePoolIndexStore:
    """The index of every exchange this home has used, one ``scope`` per exchange."""

    def __init__(self, path: Path | str) -> None:
        self._db = connect(path, durable=False)
        self.conn = self._db.conn
        with write_transaction(self.conn):  # processes may open a new file together
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.conn.execute(statement)

    def close(self) -> None:
        self.conn.close()

    def meta(self, scope: str) -> IndexMeta | None:
        row = self.conn.execute(
            "SELECT known, full_scan_at FROM pool_index_meta WHERE scope = ?", (scope,)
        ).fetchone()
        return None if row is None else IndexMeta(int(row[0]), row[1])

    def on_pair(self, scope: str, token_a: str, token_b: str) -> list[IndexedPool]:
        with read_transaction(self.conn):
            rows = self.conn.execute(
                "SELECT p.* FROM pool_tokens a JOIN pool_tokens b"
                " ON a.scope = b.scope AND a.pool_id = b.pool_id"
                " JOIN pools p ON p.scope = a.scope AND p.pool_id = a.pool_id"
                " WHERE a.scope = ? AND a.token = ? AND b.token = ?",
                (scope, token_a, token_b),
            ).fetchall()
        return [_pool(row) for row in rows]

    def by_ids(self, scope: str, pool_ids: Iterable[int]) -> dict[int, IndexedPool]:
        ids = list(pool_ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(
            f"SELECT * FROM pools WHERE scope = ? AND pool_id IN ({marks})", (scope, *ids)
        ).fetchall()
        return {int(row[1]): _pool(row) for row in rows}

    def save(
        self,
        scope: str,
        pools: Sequence[IndexedPool],
        *,
        known: int,
        full_scan_at: float | None,
        replace: bool,
    ) -> None:
        with write_transaction(self.conn) as conn:
            if replace:
                conn.execute("DELETE FROM pools WHERE scope = ?", (scope,))
                conn.execute("DELETE FROM pool_tokens WHERE scope = ?", (scope,))
            else:
                row = conn.execute(
                    "SELECT known FROM pool_index_meta WHERE scope = ?", (scope,)
                ).fetchone()
                known = max(known, int(row[0])) if row is not None else known
            _write(conn, scope, pools)
            conn.execute(
                "INSERT OR REPLACE INTO pool_index_meta (scope, known, full_scan_at)"
                " VALUES (?, ?, ?)",
                (scope, known, full_scan_at),
            )

    def update(self, scope: str, pools: Sequence[IndexedPool]) -> None:
        with write_transaction(self.conn) as conn:
            conn.executemany(
                "UPDATE pools SET fee_bps = ?, amp = ?, decimals = ?, amounts = ?"
                " WHERE scope = ? AND pool_id = ?",
                [
                    (p.fee_bps, p.amp, _ints(p.decimals), _ints(p.amounts), scope, p.pool_id)
                    for p in pools
                ],
            )

    def forget_other_chains(self, endpoint_scope: str, chain_scope: str) -> list[str]:
        """Drop what was cached about any other chain served at ``endpoint_scope`` (a devnet
        reset at the same URL: its pools and tokens describe a chain that is gone), keeping
        ``chain_scope``'s; the scopes dropped. Scopes of other endpoints are not touched."""
        with write_transaction(self.conn) as conn:
            held = {
                row[0]
                for table in _SCOPED_TABLES
                for row in conn.execute(f"SELECT DISTINCT scope FROM {table}")  # noqa: S608
            }
            gone = sorted(s for s in held if _of_another_chain(s, endpoint_scope, chain_scope))
            for scope in gone:
                for table in _SCOPED_TABLES:
                    conn.execute(f"DELETE FROM {table} WHERE scope = ?", (scope,))  # noqa: S608
        return gone

    def token_metadata(self, scope: str) -> TokenMetadataCache:
        """The ``ft_metadata`` cache of the network ``scope`` names (tools.tokens.MetadataCache)."""
        return TokenMetadataCache(self, scope)

    def mark_stale(self, scope: str) -> None:
        with write_transaction(self.conn) as conn:
            conn.execute("UPDATE pool_index_meta SET full_scan_at = NULL WHERE scope = ?", (scope,))

    def established(self, scope: str) -> dict[int, float]:
        rows = self.conn.execute(
            "SELECT pool_id, since FROM established_pools WHERE scope = ?", (scope,)
        ).fetchall()
        return {int(row[0]): float(row[1]) for row in rows}

    def establish(self, scope: str, pool_ids: Iterable[int], at: float) -> None:
        """Kept across full scans (pool ids never change): first establishment wins."""
        with write_transaction(self.conn) as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO established_pools (scope, pool_id, since) VALUES (?, ?, ?)",
                [(scope, pool_id, at) for pool_id in pool_ids],
            )


_SCOPED_TABLES = ("pool_index_meta", "pools", "pool_tokens", "established_pools", "token_metadata")


def _of_another_chain(scope: str, endpoint_scope: str, chain_scope: str) -> bool:
    """Whether ``scope`` (a chain scope, or an exchange's: chain scope "/" account) describes a
    chain at ``endpoint_scope`` other than ``chain_scope``: one keyed by another chain
    ("ENDPOINT#CHAIN...") or by the endpoint alone, as earlier versions keyed it ("ENDPOINT",
    "ENDPOINT/ACCOUNT"; an account id holds neither "/" nor "#")."""
    if scope == chain_scope or scope.startswith(chain_scope + "/"):
        return False
    if scope == endpoint_scope or scope.startswith(endpoint_scope + "#"):
        return True
    rest = scope.removeprefix(endpoint_scope + "/")
    return rest != scope and "/" not in rest and "#" not in rest


def _write(conn: Any, scope: str, pools: Sequence[IndexedPool]) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO pools"
        " (scope, pool_id, kind, tokens, fee_bps, amp, decimals, amounts)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                scope,
                p.pool_id,
                p.kind,
                json.dumps(list(p.tokens)),
                p.fee_bps,
                p.amp,
                _ints(p.decimals),
                _ints(p.amounts),
            )
            for p in pools
        ],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO pool_tokens (scope, token, pool_id) VALUES (?, ?, ?)",
        [(scope, token, p.pool_id) for p in pools for token in set(p.tokens)],
    )


def _ints(values: Sequence[int]) -> str:
    return json.dumps([str(v) for v in values])


def _pool(row: Any) -> IndexedPool:
    return IndexedPool(
        pool_id=int(row[1]),
        kind=str(row[2]),
        tokens=tuple(json.loads(row[3])),
        fee_bps=int(row[4]),
        amp=int(row[5]),
        decimals=tuple(int(v) for v in json.loads(row[6])),
        amounts=tuple(int(v) for v in json.loads(row[7])),
    )


class TokenMetadataCache:
    """``ft_metadata`` answers kept in the home for one network, with when they were read."""

    def __init__(self, store: SqlitePoolIndexStore, scope: str) -> None:
        self.store, self.scope = store, scope

    def get(self, contract_id: str, max_age_s: float) -> dict[str, Any] | None:
        row = self.store.conn.execute(
            "SELECT metadata, read_at FROM token_metadata WHERE scope = ? AND contract_id = ?",
            (self.scope, contract_id),
        ).fetchone()
        if row is None or not 0 <= time.time() - float(row[1]) < max_age_s:
            return None
        try:
            value = json.loads(row[0])
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def put(self, contract_id: str, metadata: Mapping[str, Any]) -> None:
        with write_transaction(self.store.conn) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO token_metadata (scope, contract_id, metadata, read_at)"
                " VALUES (?, ?, ?, ?)",
                (self.scope, contract_id, json.dumps(dict(metadata)), time.time()),
            )
