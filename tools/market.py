"""One read of the exchange's pools per intent, shared by routing, prices and the policy.

Why: a swap used to read every pool twice (routing in prepare, then the policy's price feed),
about 140 requests on mainnet. Here the pool index (``tools.pool_index``) names the pools that
matter for the tokens of an intent and one snapshot reads them fresh:

* the pairs among the intent's tokens and the hubs (wNEAR and the stablecoins USDC / USDt when
  the network lists them): direct routes, two-hop routes through a hub, and every pool that
  prices a token in USD (token vs stablecoin, token vs wNEAR, wNEAR vs stablecoin);
* at most ``per_pair`` (16) pools per pair that prices (one side a hub or a stablecoin), and
  ``route_per_pair`` (3) per pair of two other tokens, so a pair with hundreds of junk pools
  costs no more than any other. A pair that prices reads first the pools established as price
  sources of earlier accepted prices (up to half), then the deepest of the rest by last-known
  amounts: last-known depth can be lent and taken back, so it alone must not decide which pools
  a price reads (policies/pricing.py states what an attacker must then out-lend);
* simple pools in one ``get_pool_by_ids`` request, stable and rated pools by their own views
  (``get_stable_pool`` / ``get_rated_pool``: exact comparable balances, decimals and rates),
  all at once.

The swap's prepare takes a snapshot; the policy's prices read :meth:`Market.pools`; before the
policy evaluates, :meth:`Market.ensure` reads again only if the snapshot does not cover the
action's tokens or is older than its bound.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import combinations
from typing import Any

from tools.chain import ChainClient
from tools.errors import ContractAnswerError, NotConfiguredError, ToolError, ViewCallError
from tools.pool_index import (
    IndexedPool,
    IndexStore,
    MemoryIndexStore,
    PoolIndex,
    index_scope,
)
from tools.pools import RATED_SWAP, SIMPLE_POOL, STABLE_SWAP, Pool

log = logging.getLogger(__name__)

PER_PAIR = 16  # candidate pools read per pair that prices (one side a hub or stablecoin)
ROUTE_PER_PAIR = 3  # candidate pools read per pair of two other tokens (routes only)
RECHECK_S = 60.0  # how often one process asks the exchange for new pools
DETAIL_VIEWS = {STABLE_SWAP: "get_stable_pool", RATED_SWAP: "get_rated_pool"}


@dataclass(frozen=True)
class MarketSnapshot:
    """Pools read fresh at ``read_at`` for routes and prices among ``tokens``."""

    pools: tuple[Pool, ...]
    tokens: frozenset[str]
    read_at: datetime

    def covers(self, tokens: Iterable[str]) -> bool:
        return set(tokens) <= self.tokens

    def age_s(self, now: datetime | None = None) -> float:
        return ((now or datetime.now(UTC)) - self.read_at).total_seconds()


@dataclass
class Market:
    """The pools of one exchange as this process sees them."""

    chain: ChainClient
    exchange_id: str
    index: PoolIndex
    hubs: tuple[str, ...] = ()
    priced_in: tuple[str, ...] = ()  # stablecoins USD prices are read in (beyond the hubs)
    per_pair: int = PER_PAIR
    route_per_pair: int = ROUTE_PER_PAIR
    recheck_s: float = RECHECK_S
    clock: Callable[[], float] = time.monotonic
    snapshot: MarketSnapshot | None = None
    _checked_at: float | None = field(default=None, repr=False)

    @classmethod
    def for_context(cls, ctx: Any, store: IndexStore | None = None) -> Market | None:
        """The market of ``ctx``'s network exchange (None without one): hubs are wNEAR and the
        network's stablecoins (USDC, USDt where listed); the index lives in ``store`` (the
        home's) or in this process."""
        exchange = ctx.network.exchange_id
        if not exchange:
            return None
        wrap = ctx.wrap_id
        listed = {e["symbol"].casefold(): e["contract_id"] for e in ctx.tokens.listed}
        stables = (listed.get(s.casefold()) for s in ctx.network.stablecoins)
        hubs = tuple(dict.fromkeys(h for h in (wrap, *stables) if h))
        scope = index_scope(ctx.network.chain_scope, exchange)
        index = PoolIndex(store if store is not None else MemoryIndexStore(), scope)
        return cls(ctx.chain, exchange, index, hubs=hubs)

    def pools(self) -> list[Pool]:
        """The latest snapshot's pools (what the policy's prices read)."""
        return list(self.snapshot.pools) if self.snapshot is not None else []

    async def ensure(self, tokens: Iterable[str], max_age_s: float) -> MarketSnapshot:
        """The current snapshot if it covers ``tokens`` and is at most ``max_age_s`` old, else a
        new one covering them and what the current one covered."""
        wanted = set(tokens)
        current = self.snapshot
        if current is not None and current.covers(wanted) and current.age_s() <= max_age_s:
            return current
        return await self.read(wanted | (current.tokens if current is not None else set()))

    async def read(self, tokens: Iterable[str]) -> MarketSnapshot:
        """A fresh snapshot of the pools that route and price ``tokens``."""
        now = self.clock()
        if self._checked_at is None or now - self._checked_at >= self.recheck_s:
            try:
                await self.index.refresh(self.chain, self.exchange_id)
            except ToolError as exc:
                if self.index.store.meta(self.index.scope) is None:
                    raise  # no index to fall back on
                log.warning("the pool index could not be refreshed (%s); using it as it is", exc)
            self._checked_at = now
        wanted = self.universe(tokens)
        pools = await read_pools(self.chain, self.exchange_id, self.candidates(wanted))
        self.index.learn(pools)
        read_at = datetime.now(UTC)
        self.snapshot = MarketSnapshot(
            pools=tuple(replace(p, fetched_at=read_at) for p in pools),
            tokens=wanted,
            read_at=read_at,
        )
        return self.snapshot

    def universe(self, tokens: Iterable[str]) -> frozenset[str]:
        """``tokens`` with the hubs and the stablecoins prices are read in: what a snapshot for
        ``tokens`` covers."""
        return frozenset(tokens) | frozenset(self.hubs) | frozenset(self.priced_in)

    def candidates(self, tokens: Iterable[str]) -> list[IndexedPool]:
        """The pools worth reading for ``tokens``: per pair among them, the hubs and the
        stablecoins prices are read in, ``per_pair`` for a pair that prices (established price
        sources first, then the deepest), ``route_per_pair`` for any other."""
        pricing = set(self.hubs) | set(self.priced_in)
        chosen: dict[int, IndexedPool] = {}
        for a, b in combinations(sorted(self.universe(tokens)), 2):
            cap = self.per_pair if {a, b} & pricing else self.route_per_pair
            for pool in self.index.on_pair(a, b, cap):
                chosen.setdefault(pool.pool_id, pool)
        return [chosen[i] for i in sorted(chosen)]

    def establish(self, pool_ids: Iterable[int]) -> None:
        """Keep ``pool_ids`` (the sources of an accepted price) read from now on."""
        self.index.establish(pool_ids)

    def unsupported_between(self, token_in: str, token_out: str) -> list[IndexedPool]:
        """Pools directly on the pair that no route may use (their kind is not supported)."""
        return self.index.unsupported_on_pair(token_in, token_out)


def market_of(ctx: Any) -> Market:
    """``ctx.market``, made on first use for a context without one (its index then lives in
    this process only); NotConfiguredError when the network has no exchange."""
    if ctx.market is None:
        ctx.market = Market.for_context(ctx)
    if ctx.market is None:
        raise NotConfiguredError(f"no exchange is configured on {ctx.network.network_id}")
    return ctx.market


DETAIL_TAGS = {
    "SimplePoolInfo": SIMPLE_POOL,
    "StablePoolInfo": STABLE_SWAP,
    "RatedPoolInfo": RATED_SWAP,
}


async def read_pools(
    chain: ChainClient, exchange_id: str, chosen: Sequence[IndexedPool]
) -> list[Pool]:
    """The chosen pools, fresh, in one request: Ref's ``get_pool_detail_info_by_ids`` (every
    kind with its details). An exchange without that view is read the older way."""
    if not chosen:
        return []
    ids = [p.pool_id for p in chosen]
    try:
        views = await chain.view(exchange_id, "get_pool_detail_info_by_ids", {"pool_ids": ids})
    except ViewCallError:
        return await read_pools_by_kind(chain, exchange_id, chosen)
    if not isinstance(views, list) or len(views) != len(ids):
        raise ContractAnswerError(
            f"{exchange_id}.get_pool_detail_info_by_ids did not answer one pool per id ({len(ids)})"
        )
    pools: list[Pool] = []
    for pool_id, view in zip(ids, views, strict=True):
        tagged = next(iter(view.items())) if isinstance(view, Mapping) and len(view) == 1 else None
        kind = DETAIL_TAGS.get(tagged[0]) if tagged is not None else None
        if tagged is None or kind is None or not isinstance(tagged[1], Mapping):
            continue  # a kind this agent does not route through (DEGEN_SWAP), or unreadable
        try:
            pools.append(
                Pool.from_view(pool_id, {**tagged[1], "pool_kind": kind})
                if kind == SIMPLE_POOL
                else Pool.from_detail(pool_id, kind, tagged[1])
            )
        except (KeyError, TypeError, ValueError):
            log.warning("skipping unreadable pool %s", pool_id)
    return pools


async def read_pools_by_kind(
    chain: ChainClient, exchange_id: str, chosen: Sequence[IndexedPool]
) -> list[Pool]:
    """The chosen pools, fresh: simple ones in one ``get_pool_by_ids``, stable and rated ones
    through their detail views, concurrently. A pool whose view fails is left out."""
    simple = [p.pool_id for p in chosen if p.kind not in DETAIL_VIEWS]
    curved = [p for p in chosen if p.kind in DETAIL_VIEWS]

    async def by_ids() -> list[Pool]:
        if not simple:
            return []
        views = await chain.view(exchange_id, "get_pool_by_ids", {"pool_ids": simple})
        if not isinstance(views, list) or len(views) != len(simple):
            raise ContractAnswerError(
                f"{exchange_id}.get_pool_by_ids did not answer one pool per id ({len(simple)})"
            )
        return [Pool.from_view(i, v) for i, v in zip(simple, views, strict=True)]

    async def detail(pool: IndexedPool) -> Pool | None:
        try:
            view = await chain.view(exchange_id, DETAIL_VIEWS[pool.kind], {"pool_id": pool.pool_id})
            return Pool.from_detail(pool.pool_id, pool.kind, view)
        except (ViewCallError, KeyError, TypeError, ValueError):
            return None

    plain, details = await asyncio.gather(by_ids(), asyncio.gather(*(detail(p) for p in curved)))
    return sorted([*plain, *(p for p in details if p is not None)], key=lambda p: p.pool_id)
