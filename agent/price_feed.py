"""Exchange pool reserves for the policy engine's prices and independent quotes.

The policy engine is synchronous and must not trust the quote inside the action it judges, so
the executor refreshes this snapshot from the chain (async) right before each evaluation, and the
engine prices from it. Each pool carries the time it was read; the engine's staleness bound
turns an old snapshot into a DENY.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from agent.stablecoins import listed_stablecoins
from policies.pricing import PoolPrices, PriceRules
from tools.base import ToolContext
from tools.errors import NotConfiguredError
from tools.pools import Pool
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
        self._pools = [replace(p, fetched_at=now) for p in fetched]


async def pool_prices(
    ctx: ToolContext, feed: PoolFeed, stablecoin: str, rules: PriceRules = PriceRules()
) -> PoolPrices:
    """Prices and quotes in micro-USD against ``stablecoin`` (a symbol or contract id) and the
    other USD stablecoins the network lists."""
    stable = await ctx.tokens.resolve(stablecoin)
    if stable.contract_id is None:
        raise NotConfiguredError(f"the stablecoin {stablecoin!r} is native NEAR; no pool holds it")
    stablecoins = {stable.contract_id: stable.decimals}
    stablecoins.update(await listed_stablecoins(ctx.tokens, ctx.network.stablecoins))
    return PoolPrices(
        feed.pools,
        stablecoins=stablecoins,
        bridge=ctx.network.wrap_id,
        source=ctx.network.exchange_id or "none",
        rules=rules,
    )
