"""The policy engine's prices and independent quotes, from the intent's market snapshot.

The policy engine is synchronous and must not trust the quote inside the action it judges, so
its prices come from pool reserves the agent read itself: the market snapshot
(``tools.market``) that the swap's prepare just took, shared rather than read again. Before each
evaluation the feed makes sure the snapshot covers the action's tokens and is younger than
``max_age_s``, reading the few pools concerned only when it is not. Each pool carries the time
it was read; the engine's staleness bound turns an old snapshot into a DENY.
"""

from __future__ import annotations

from pathlib import Path

from agent.stablecoins import listed_stablecoins
from memory.pool_index import SqlitePoolIndexStore
from policies.pricing import PoolPrices, PriceRules
from tools.action import NEAR, CanonicalAction
from tools.base import ToolContext
from tools.errors import NotConfiguredError
from tools.market import Market
from tools.pools import Pool

MAX_AGE_S = 15.0  # a snapshot older than this is read again before the policy evaluates


def open_market(ctx: ToolContext, index_file: Path) -> SqlitePoolIndexStore:
    """Give ``ctx`` its market (when the network has an exchange), indexed in ``index_file``
    (the home's), and its token registry the ``ft_metadata`` kept there; the store to close."""
    store = SqlitePoolIndexStore(index_file)
    ctx.tokens.cache = store.token_metadata(ctx.network.chain_scope)
    if ctx.network.exchange_id:
        ctx.market = Market.for_context(ctx, store)
    return store


def action_tokens(action: CanonicalAction, wrap_id: str | None) -> set[str]:
    """The tokens the policy prices for ``action`` (NEAR as wNEAR): what flows out, and both
    sides of its quote."""
    found: set[str] = {flow.token for flow in action.outflows}
    if action.quote is not None:
        found |= {action.quote.token_in, action.quote.token_out}
    if NEAR in found:
        found.discard(NEAR)
        if wrap_id:
            found.add(wrap_id)
    return found


class PoolFeed:
    """Keeps the snapshot the policy prices from fresh enough for the action it judges."""

    def __init__(self, max_age_s: float = MAX_AGE_S) -> None:
        self.max_age_s = max_age_s

    async def refresh(self, ctx: ToolContext, action: CanonicalAction | None = None) -> None:
        market = ctx.market
        if market is None:
            return
        tokens = action_tokens(action, ctx.wrap_id) if action is not None else set()
        await market.ensure(tokens, self.max_age_s)


async def pool_prices(
    ctx: ToolContext, stablecoin: str, rules: PriceRules = PriceRules()
) -> PoolPrices:
    """Prices and quotes in micro-USD against ``stablecoin`` (a symbol or contract id) and the
    other USD stablecoins the network lists, from the market snapshot (which from now on always
    reads the pools of each of them)."""
    stable = await ctx.tokens.resolve(stablecoin)
    if stable.contract_id is None:
        raise NotConfiguredError(f"the stablecoin {stablecoin!r} is native NEAR; no pool holds it")
    stablecoins = {stable.contract_id: stable.decimals}
    stablecoins.update(await listed_stablecoins(ctx.tokens, ctx.network.stablecoins))
    market = ctx.market
    if market is not None:
        market.priced_in += tuple(c for c in stablecoins if c not in market.priced_in)

    def snapshot_pools() -> list[Pool]:
        """The snapshot's pools that were read (every kind swap_out can quote)."""
        pools = market.pools() if market is not None else ()
        return [p for p in pools if p.fetched_at is not None]

    return PoolPrices(
        snapshot_pools,
        stablecoins=stablecoins,
        bridge=ctx.wrap_id,
        source=ctx.network.exchange_id or "none",
        rules=rules,
        on_sources=market.establish if market is not None else None,
    )
