"""``near-agent devnet --market``: random market-maker swaps move the pools, and stop."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import Callable
from fractions import Fraction

from agent.scheduler.market import ExchangeMarket
from agent.scheduler.market_maker import start_market
from devnet.server import RunningDevnet
from tools.base import context_from_manifest


def until(condition: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    """Barrier: True as soon as ``condition()`` holds, False after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    tick = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            return False
        tick.wait(0.005)
    return True


def waiting_in(thread: threading.Thread, function: str) -> bool:
    """``thread`` is blocked on an Event inside ``function`` (it looked, and chose to wait)."""
    frame = sys._current_frames().get(thread.ident or -1)
    names = []
    while frame is not None:
        names.append(frame.f_code.co_name)
        frame = frame.f_back
    return function in names and "wait" in names[: names.index(function)]


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
    market.thread.join(60)  # max_trades ends the loop by itself
    market.stop()
    assert not market.running
    assert market.trades == 6, market.errors
    assert asyncio.run(near_price(fresh_devnet)) != before


def test_stop_ends_an_endless_market(fresh_devnet: RunningDevnet) -> None:
    market = start_market(fresh_devnet.rpc_url, fresh_devnet.manifest, seed=1, interval_s=0.05)
    assert until(lambda: market.trades >= 1), market.errors
    market.stop()
    assert not market.running and market.trades >= 1


def test_started_before_the_node_writes_its_manifest_it_waits(
    fresh_devnet: RunningDevnet,
) -> None:
    path = fresh_devnet.state_dir / "manifest.json"
    old = time.time() - 3600
    os.utime(path, (old, old))  # as if left over from an earlier run
    market = start_market(fresh_devnet.rpc_url, path, seed=2, interval_s=0.01, max_trades=1)
    # it looked at the manifest, found it stale, and waits for this run's
    assert until(lambda: waiting_in(market.thread, "_wait_for_manifest"))
    assert market.trades == 0
    os.utime(path)  # the node writes it
    market.thread.join(30)
    assert market.trades == 1, market.errors
