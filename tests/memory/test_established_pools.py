"""Established price sources stay read: newer pools with more last-known depth (which can be
lent for a moment) add candidates but never displace them (tools/pool_index.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from memory.pool_index import SqlitePoolIndexStore
from tools.pool_index import IndexedPool, MemoryIndexStore, PoolIndex

SCOPE = "mainnet/v2.ref-finance.near"
WRAP, USDC = "wrap.near", "usdc.near"
CAP = 16


def pool(pool_id: int, depth: int) -> IndexedPool:
    return IndexedPool(pool_id, "SIMPLE_POOL", (WRAP, USDC), 30, amounts=(depth, depth))


def check(store: object, honest: list[int], newcomers: list[int]) -> None:
    """``honest`` pools (ids 0..) were sources of an accepted price; then ``newcomers`` (later
    ids, any last-known depth, often far deeper) appear and are established later."""
    index = PoolIndex(store, SCOPE, clock=iter(range(1, 10**6)).__next__)  # type: ignore[arg-type]
    pools = [pool(i, d) for i, d in enumerate(honest)]
    fresh = [pool(len(honest) + i, d) for i, d in enumerate(newcomers)]
    index.store.save(
        SCOPE, [*pools, *fresh], known=len(pools) + len(fresh), full_scan_at=0.0, replace=True
    )
    index.establish(p.pool_id for p in pools)
    index.establish(p.pool_id for p in fresh)  # even once they are sources too
    read = {p.pool_id for p in index.on_pair(WRAP, USDC, CAP)}
    assert {p.pool_id for p in pools[: CAP // 2]} <= read
    assert len(read) == min(CAP, len(pools) + len(fresh))


@settings(max_examples=60, deadline=None)
@given(
    honest=st.lists(st.integers(1, 10**6), min_size=1, max_size=10),
    newcomers=st.lists(st.integers(10**6, 10**30), max_size=40),
)
def test_newer_deeper_pools_never_displace_established_ones(
    honest: list[int], newcomers: list[int]
) -> None:
    check(MemoryIndexStore(), honest, newcomers)
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlitePoolIndexStore(Path(tmp) / "pools.db")
        try:
            check(store, honest, newcomers)
        finally:
            store.close()


def test_establishment_survives_a_full_scan_and_another_process(tmp_path: Path) -> None:
    first = SqlitePoolIndexStore(tmp_path / "pools.db")
    first.save(SCOPE, [pool(0, 1), pool(1, 10**9)], known=2, full_scan_at=0.0, replace=True)
    first.establish(SCOPE, [0], 5.0)
    first.establish(SCOPE, [0], 9.0)  # the first establishment is kept
    first.save(SCOPE, [pool(0, 1), pool(1, 10**9)], known=2, full_scan_at=1.0, replace=True)
    first.close()
    second = SqlitePoolIndexStore(tmp_path / "pools.db")
    try:
        assert second.established(SCOPE) == {0: 5.0}
        assert [p.pool_id for p in PoolIndex(second, SCOPE).on_pair(WRAP, USDC, 2)] == [0, 1]
    finally:
        second.close()
