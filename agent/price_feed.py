"""Exchange pool reserves for the policy engine's prices and independent quotes.

The policy engine is synchronous and must not trust the quote inside the action it judges, so
the executor refreshes this snapshot from the chain (async) right before each evaluation, and the
engine prices from it. Each pool carries the time it was read; the engine's staleness bound
turns an old snapshot into a DENY.
"""

from __future__ import annotations

from datetime import UTC, datetime

from policies.pricing import Pool, PoolPrices
from tools.base import ToolContext
from tools.errors import NotConfiguredError
from tools.routing import fetch_pools


class PoolFeed:
    """The latest pools read from the network's exchange, with their read time."""

    def __init__(self) -> None:
        self._pools: list[Pool] = []

    def pools(self) -> list[Pool]:
        return list(self._pools)

    async def refresh(self, ctx: ToolContext) -> None:
        exchange = ctx.network.exchange_id
        if exchange is None:
            self._pools = []
            return
        fetched = await fetch_pools(ctx.chain, exchange)
        now = datetime.now(UTC)
        self._pools = [
            Pool(
                p.pool_id, (p.tokens[0], p.tokens[1]), (p.amounts[0], p.amounts[1]), p.fee_bps, now
            )
            for p in fetched
            if len(p.tokens) == 2 and (p.kind or "SIMPLE_POOL") == "SIMPLE_POOL"
        ]


async def pool_prices(ctx: ToolContext, feed: PoolFeed, stablecoin: str) -> PoolPrices:
    """Prices and quotes in micro-USD against ``stablecoin`` (a symbol or contract id)."""
    stable = await ctx.tokens.resolve(stablecoin)
    if stable.contract_id is None:
        raise NotConfiguredError(f"the stablecoin {stablecoin!r} is native NEAR; no pool holds it")
    return PoolPrices(
        feed.pools,
        stablecoin=stable.contract_id,
        stable_decimals=stable.decimals,
        bridge=ctx.network.wrap_id,
        source=ctx.network.exchange_id or "none",
    )
