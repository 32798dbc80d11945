"""The pool index and the market snapshot against a devnet with hundreds of pools, counting the
requests the node answers: the index reads only new pools, a quote reads only candidates, and a
stable-pool swap pays what the exchange's stable pool returns."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from devnet.genesis_default import REF, USDC, WRAP
from devnet.server import RunningDevnet, start_devnet
from memory.pool_index import SqlitePoolIndexStore
from tests.support.pool_world import (
    ALICE_USDT,
    RATED_POOL,
    REAL_POOLS,
    REF_RATE,
    STABLE_POOL,
    USDT,
    add_pools,
    pool_world_genesis,
)
from tests.support.rpc_log import recording
from tests.tools.conftest import make_context, run
from tools.errors import NoRouteError
from tools.market import Market, market_of
from tools.pool_index import IndexedPool, MemoryIndexStore, PoolIndex, index_scope
from tools.pools import swap_out
from tools.registry import build_registry, parse_args

JUNK = 240  # with the 5 real pools: 245, three pages of 100
TOOLS = build_registry()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDevnet]:
    node = start_devnet(
        tmp_path_factory.mktemp("pool-world"), genesis=pool_world_genesis(JUNK), reset=True
    )
    try:
        yield node
    finally:
        node.stop()


def scope_of(ctx: Any) -> str:
    return index_scope(ctx.network.chain_scope, ctx.network.exchange_id)


async def prepare(ctx: Any, tool: str, **args: Any) -> Any:
    return await TOOLS[tool].prepare(parse_args(tool, args), ctx)


def test_the_index_reads_only_pools_it_has_not_seen(world: RunningDevnet) -> None:
    ctx = make_context(world)
    exchange = ctx.network.exchange_id
    ticks = [0.0]
    index = PoolIndex(
        MemoryIndexStore(), scope_of(ctx), page=100, ttl_s=3600, clock=lambda: ticks[0]
    )

    async def scenario() -> None:
        with recording(world) as log:
            await index.refresh(ctx.chain, exchange)
        total = JUNK + REAL_POOLS
        assert log.counts() == {"view:get_number_of_pools": 1, "view:get_pools": 3}
        assert sorted(a["from_index"] for a in log.calls("view:get_pools")) == [0, 100, 200]

        with recording(world) as log:
            await index.refresh(ctx.chain, exchange)
        assert log.counts() == {"view:get_number_of_pools": 1}, "nothing new: nothing read"

        await add_pools(ctx, 2)
        with recording(world) as log:
            await index.refresh(ctx.chain, exchange)
        assert log.counts() == {"view:get_number_of_pools": 1, "view:get_pools": 1}
        assert log.calls("view:get_pools") == [{"from_index": total, "limit": 2}]
        assert {p.pool_id for p in index.on_pair(WRAP, USDC, cap=1000)} >= {total, total + 1}

        ticks[0] = 3600.0  # the TTL has passed: every pool is read again
        with recording(world) as log:
            await index.refresh(ctx.chain, exchange)
        assert sorted(a["from_index"] for a in log.calls("view:get_pools")) == [0, 100, 200]

    run(ctx, scenario)


def test_a_quote_reads_only_the_deepest_candidates_in_one_request(
    world: RunningDevnet, tmp_path: Path
) -> None:
    """Dozens of junk pools on wNEAR/USDC: the snapshot still reads at most ``per_pair`` pools
    per pair, every kind with its details (the stable pool's too) in one request."""
    store_file = tmp_path / "pools.db"
    first = make_context(world)

    async def warm_up() -> None:
        first.market = Market.for_context(first, SqlitePoolIndexStore(store_file))
        await prepare(first, "swap", token_in="NEAR", token_out="USDC", amount_in="1")

    run(first, warm_up)

    second = make_context(world)  # another process's view: the same index file, a new client

    async def scenario() -> None:
        second.market = Market.for_context(second, SqlitePoolIndexStore(store_file))
        with recording(world) as log:
            action = await prepare(second, "swap", token_in="NEAR", token_out="USDC", amount_in="1")
        assert action.quote.pool_ids == (0,)  # the deep pool, not a junk one
        counts = log.counts()
        assert "view:get_pools" not in counts
        assert counts["view:get_pool_detail_info_by_ids"] == 1
        ids = log.calls("view:get_pool_detail_info_by_ids")[0]["pool_ids"]
        hubs = len(second.market.hubs)
        assert len(ids) <= second.market.per_pair * (hubs + 1) * hubs // 2
        assert STABLE_POOL in ids
        assert not {"view:get_pool_by_ids", "view:get_stable_pool"} & set(counts)
        assert log.total <= 8, counts

    run(second, scenario)


def test_a_stable_pool_swap_pays_what_the_stable_pool_returns(world: RunningDevnet) -> None:
    ctx = make_context(world)
    amount = 250 * 10**6

    async def scenario() -> None:
        action = await prepare(ctx, "swap", token_in="USDT", token_out="USDC", amount_in="250")
        assert action.quote.pool_ids == (STABLE_POOL,)
        returned = int(
            await ctx.chain.view(
                ctx.network.exchange_id,
                "get_return",
                {
                    "pool_id": STABLE_POOL,
                    "token_in": USDT,
                    "amount_in": str(amount),
                    "token_out": USDC,
                },
            )
        )
        pool = next(p for p in market_of(ctx).pools() if p.pool_id == STABLE_POOL)
        assert swap_out(pool, USDT, USDC, amount) == returned == action.quote.amount_out
        assert 249 * 10**6 < returned < amount  # a stable pool: about one for one, less the fee
        before = int(await ctx.chain.view(USDC, "ft_balance_of", {"account_id": ctx.account_id}))
        result = await TOOLS["swap"].execute(action, ctx)
        after = int(await ctx.chain.view(USDC, "ft_balance_of", {"account_id": ctx.account_id}))
        assert int(result.data["amount_out"]) == returned == after - before
        assert ALICE_USDT - amount == int(
            await ctx.chain.view(USDT, "ft_balance_of", {"account_id": ctx.account_id})
        )

    run(ctx, scenario)


def test_a_rated_pool_swap_pays_what_the_rated_pool_returns(world: RunningDevnet) -> None:
    """The rated pool (REF at its rate, a low fee) beats the deep simple pool for NEAR -> REF."""
    ctx = make_context(world)

    async def scenario() -> None:
        action = await prepare(ctx, "swap", token_in="NEAR", token_out="REF", amount_in="1")
        assert action.quote.pool_ids == (RATED_POOL,)
        returned = int(
            await ctx.chain.view(
                ctx.network.exchange_id,
                "get_return",
                {
                    "pool_id": RATED_POOL,
                    "token_in": WRAP,
                    "amount_in": str(10**24),
                    "token_out": REF,
                },
            )
        )
        pool = next(p for p in market_of(ctx).pools() if p.pool_id == RATED_POOL)
        assert pool.rates[1] == REF_RATE
        assert swap_out(pool, WRAP, REF, 10**24) == returned == action.quote.amount_out
        assert 5_99 * 10**16 < returned < 6 * 10**18  # six REF a NEAR at the rate, less the fee
        result = await TOOLS["swap"].execute(action, ctx)
        assert int(result.data["amount_out"]) == returned

    run(ctx, scenario)


def test_only_unsupported_pools_on_a_pair_are_named_in_the_error() -> None:
    """A pair held only by DEGEN_SWAP pools has no route, and the error says why."""
    store = MemoryIndexStore()
    scope = "devnet@x/exchange"
    degen = IndexedPool(7, "DEGEN_SWAP", ("a.near", "b.near"), 5, 100, (6, 6), (10**9, 10**9))
    store.save(scope, [degen], known=8, full_scan_at=0.0, replace=True)
    market = Market(chain=None, exchange_id="exchange", index=PoolIndex(store, scope))  # type: ignore[arg-type]
    market._checked_at = market.clock()  # the index is current: nothing to ask the chain

    import asyncio

    from tools.routing import best_route

    with pytest.raises(NoRouteError, match=r"DEGEN_SWAP: pool 7.*not supported"):
        asyncio.run(best_route(market, "a.near", "b.near", 10**6))


def test_the_policy_reuses_a_fresh_snapshot_and_reads_an_old_one_again(
    world: RunningDevnet,
) -> None:
    """``ensure`` (the executor's before_evaluate) reads nothing while the snapshot covers the
    tokens and is young enough; once it is older than the bound, the candidates are read again."""
    ctx = make_context(world)

    async def scenario() -> None:
        await prepare(ctx, "swap", token_in="NEAR", token_out="USDC", amount_in="1")
        market = market_of(ctx)
        with recording(world) as log:
            await market.ensure({WRAP, USDC}, max_age_s=15)
        assert log.total == 0
        assert market.snapshot is not None
        market.snapshot = replace(
            market.snapshot, read_at=market.snapshot.read_at - timedelta(seconds=16)
        )
        with recording(world) as log:
            await market.ensure({WRAP, USDC}, max_age_s=15)
        assert log.counts()["view:get_pool_detail_info_by_ids"] == 1
        assert market.snapshot.age_s() < 15

    run(ctx, scenario)
