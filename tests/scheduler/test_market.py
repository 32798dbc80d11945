"""``near-agent devnet --market``: random market-maker swaps move the pools, and stop."""

from __future__ import annotations

import asyncio
import time
from fractions import Fraction

from agent.scheduler.market import ExchangeMarket
from devnet.market import start_market
from devnet.server import RunningDevnet
from tools.base import context_from_manifest


async def near_price(devnet: RunningDevnet) -> Fraction:
    ctx = context_from_manifest(devnet.manifest, "alice.test.near")
    try:
        return await ExchangeMarket(ctx).price("NEAR", "USDC")
    finally:
        await ctx.aclose()


def test_market_maker_moves_prices_and_stops(fresh_devnet: RunningDevnet) -> None:
    before = asyncio.run(near_price(fresh_devnet))
    assert Fraction(29, 10) < before < Fraction(3)  # 3 USDC per NEAR less the pool fee
    market = start_market(fresh_devnet, seed=3, interval_s=0.01, max_trades=6)
    deadline = time.monotonic() + 60
    while market.running and time.monotonic() < deadline:
        time.sleep(0.05)
    market.stop()
    assert not market.running
    assert market.trades == 6, market.errors
    assert asyncio.run(near_price(fresh_devnet)) != before


def test_stop_ends_an_endless_market(fresh_devnet: RunningDevnet) -> None:
    market = start_market(fresh_devnet.rpc_url, fresh_devnet.manifest, seed=1, interval_s=0.05)
    time.sleep(0.5)
    market.stop()
    assert not market.running and market.trades >= 1


def test_started_before_the_node_writes_its_manifest_it_waits(
    fresh_devnet: RunningDevnet,
) -> None:
    import os

    path = fresh_devnet.state_dir / "manifest.json"
    old = time.time() - 3600
    os.utime(path, (old, old))  # as if left over from an earlier run
    market = start_market(fresh_devnet.rpc_url, path, seed=2, interval_s=0.01, max_trades=1)
    time.sleep(0.3)
    assert market.trades == 0  # still waiting for this run's manifest
    os.utime(path)  # the node writes it
    market.thread.join(30)
    assert market.trades == 1, market.errors
