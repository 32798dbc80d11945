"""The pool index's SQLite store: what is saved is read back whole (u128 amounts included), a
full scan replaces, and several processes writing at once each land whole."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from memory.pool_index import SqlitePoolIndexStore
from tools.pool_index import IndexedPool, IndexMeta

SCOPE = "mainnet/v2.ref-finance.near"
BIG = 2**128 - 1


def pool(pool_id: int, *tokens: str, kind: str = "SIMPLE_POOL") -> IndexedPool:
    amounts = tuple(BIG - i for i in range(len(tokens)))
    decimals = (6,) * len(tokens) if kind != "SIMPLE_POOL" else ()
    return IndexedPool(pool_id, kind, tokens, 30, 0, decimals, amounts)


def test_saved_pools_read_back_by_pair_and_id(tmp_path: Path) -> None:
    store = SqlitePoolIndexStore(tmp_path / "pools.db")
    stable = pool(2, "usdt", "usdc", "dai", kind="STABLE_SWAP")
    store.save(SCOPE, [pool(0, "wrap", "usdc"), stable], known=3, full_scan_at=5.0, replace=True)
    assert store.meta(SCOPE) == IndexMeta(3, 5.0)
    assert store.on_pair(SCOPE, "usdc", "dai") == [stable]
    assert store.on_pair(SCOPE, "usdc", "wrap") == [pool(0, "wrap", "usdc")]
    assert store.by_ids(SCOPE, [2, 9]) == {2: stable}
    assert store.meta("testnet/other") is None
    store.mark_stale(SCOPE)
    assert store.meta(SCOPE) == IndexMeta(3, None)
    store.save(SCOPE, [pool(1, "wrap", "ref")], known=2, full_scan_at=9.0, replace=True)
    assert store.on_pair(SCOPE, "usdc", "wrap") == []  # a full scan replaces the index
    store.close()


def _write_range(path: str, start: int, barrier: multiprocessing.synchronize.Barrier) -> None:
    store = SqlitePoolIndexStore(path)
    barrier.wait()
    pools = [pool(i, "wrap", f"t{i}") for i in range(start, start + 200)]
    store.save(SCOPE, pools, known=start + 200, full_scan_at=1.0, replace=False)
    store.close()


def test_processes_refreshing_together_each_land_whole(tmp_path: Path) -> None:
    path = str(tmp_path / "pools.db")
    SqlitePoolIndexStore(path).close()
    barrier = multiprocessing.get_context("spawn").Barrier(3)
    procs = [
        multiprocessing.get_context("spawn").Process(target=_write_range, args=(path, s, barrier))
        for s in (0, 200, 400)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = SqlitePoolIndexStore(path)
    assert store.meta(SCOPE) == IndexMeta(600, 1.0)
    assert sorted(store.by_ids(SCOPE, range(600))) == list(range(600))
    store.close()


def test_token_metadata_is_kept_per_network_and_for_its_age(tmp_path: Path) -> None:
    store = SqlitePoolIndexStore(tmp_path / "pools.db")
    mainnet, devnet = store.token_metadata("mainnet"), store.token_metadata("devnet@http://x")
    mainnet.put("usdt.tether-token.near", {"decimals": 6, "symbol": "USDt"})
    assert mainnet.get("usdt.tether-token.near", 60) == {"decimals": 6, "symbol": "USDt"}
    assert devnet.get("usdt.tether-token.near", 60) is None  # another chain's answer is not
    assert mainnet.get("usdt.tether-token.near", 0) is None  # too old: asked again
    store.conn.execute("UPDATE token_metadata SET metadata = 'not json'")
    assert mainnet.get("usdt.tether-token.near", 60) is None
    store.close()
    reopened = SqlitePoolIndexStore(tmp_path / "pools.db")
    reopened.token_metadata("mainnet").put("wrap.near", {"decimals": 24})
    assert reopened.token_metadata("mainnet").get("wrap.near", 60) == {"decimals": 24}
    reopened.close()
