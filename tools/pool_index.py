"""Which pools an exchange has, kept between runs, so a quote reads only the pools it can use.

Why: mainnet's Ref has thousands of pools and a public RPC allows a few requests a minute;
reading them all for every swap costs dozens of requests. The index keeps each pool's id, kind,
tokens, fee, amp, decimals (once learned) and last-known amounts (its depth, for ranking), and
which pools were sources of accepted prices (established: read before any deeper newcomer), in a
store that outlives the process (the home's SQLite file, see ``memory.pool_index``; in memory
without a home).

Refresh: ``get_number_of_pools`` and then only the ids not seen yet, in ``get_pools`` pages as
large as the exchange answers (a page that fails is read again in halves); after ``ttl_s`` (or
when the chain answers fewer pools than the index holds, or a fresh read contradicts it) every
pool is read again. The index only chooses which ids to read: a quote always reads those pools
fresh, and what it reads wins.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from tools.chain import ChainClient
from tools.errors import ContractAnswerError, ViewCallError
from tools.pools import SUPPORTED_KINDS, Pool
from tools.rpc_values import U64_MAX, parse_uint

log = logging.getLogger(__name__)

# Pools per get_pools request. Ref's view takes any limit; what bounds it is the node's view gas
# (``max_gas_burnt_view``, each operator's setting) and the reply's size. near/docs reads mainnet
# Ref 1,000 at a time; 500 leaves room, and a page a node refuses is read again in halves.
PAGE = 500
MIN_PAGE = 25  # below this a failing page is an error, not a gas limit
TTL_S = 24 * 3600.0  # a full re-scan at least daily (fees and kinds can change)


@dataclass(frozen=True)
class IndexedPool:
    """What the index knows of one pool; ``amounts`` are the last read (for ranking only)."""

    pool_id: int
    kind: str
    tokens: tuple[str, ...]
    fee_bps: int
    amp: int = 0
    decimals: tuple[int, ...] = ()
    amounts: tuple[int, ...] = ()

    @classmethod
    def of(cls, pool: Pool) -> IndexedPool:
        return cls(
            pool.pool_id,
            pool.kind,
            pool.tokens,
            pool.fee_bps,
            pool.amp,
            pool.decimals,
            pool.amounts,
        )

    def depth(self, token_a: str, token_b: str) -> int:
        """The pool's last-known depth on the pair (see :meth:`tools.pools.Pool.depth`)."""
        if len(self.amounts) != len(self.tokens):
            return 0
        return Pool(self.pool_id, self.tokens, self.amounts, self.fee_bps).depth(token_a, token_b)


@dataclass(frozen=True)
class IndexMeta:
    """How far the index of one exchange goes: ids below ``known`` are indexed; the last full
    scan was at ``full_scan_at`` (Unix seconds; None: a full scan is due)."""

    known: int
    full_scan_at: float | None


class IndexStore(Protocol):
    """Where the index lives; every method is one transaction (safe across processes)."""

    def meta(self, scope: str) -> IndexMeta | None: ...

    def on_pair(self, scope: str, token_a: str, token_b: str) -> list[IndexedPool]: ...

    def by_ids(self, scope: str, pool_ids: Iterable[int]) -> dict[int, IndexedPool]: ...

    def save(
        self,
        scope: str,
        pools: Sequence[IndexedPool],
        *,
        known: int,
        full_scan_at: float | None,
        replace: bool,
    ) -> None: ...

    def update(self, scope: str, pools: Sequence[IndexedPool]) -> None: ...

    def mark_stale(self, scope: str) -> None: ...

    def established(self, scope: str) -> dict[int, float]: ...

    def establish(self, scope: str, pool_ids: Iterable[int], at: float) -> None: ...


class MemoryIndexStore:
    """An index for this process only (a context without a home)."""

    def __init__(self) -> None:
        self._meta: dict[str, IndexMeta] = {}
        self._pools: dict[str, dict[int, IndexedPool]] = {}
        self._established: dict[str, dict[int, float]] = {}

    def meta(self, scope: str) -> IndexMeta | None:
        return self._meta.get(scope)

    def on_pair(self, scope: str, token_a: str, token_b: str) -> list[IndexedPool]:
        pools = self._pools.get(scope, {}).values()
        return [p for p in pools if token_a in p.tokens and token_b in p.tokens]

    def by_ids(self, scope: str, pool_ids: Iterable[int]) -> dict[int, IndexedPool]:
        held = self._pools.get(scope, {})
        return {i: held[i] for i in pool_ids if i in held}

    def save(
        self,
        scope: str,
        pools: Sequence[IndexedPool],
        *,
        known: int,
        full_scan_at: float | None,
        replace: bool,
    ) -> None:
        held = {} if replace else self._pools.setdefault(scope, {})
        held.update({p.pool_id: p for p in pools})
        self._pools[scope] = held
        previous = self._meta.get(scope)
        if not replace and previous is not None:
            known = max(known, previous.known)
        self._meta[scope] = IndexMeta(known, full_scan_at)

    def update(self, scope: str, pools: Sequence[IndexedPool]) -> None:
        held = self._pools.setdefault(scope, {})
        held.update({p.pool_id: p for p in pools if p.pool_id in held})

    def mark_stale(self, scope: str) -> None:
        if scope in self._meta:
            self._meta[scope] = replace(self._meta[scope], full_scan_at=None)

    def established(self, scope: str) -> dict[int, float]:
        return dict(self._established.get(scope, {}))

    def establish(self, scope: str, pool_ids: Iterable[int], at: float) -> None:
        held = self._established.setdefault(scope, {})
        for pool_id in pool_ids:
            held.setdefault(pool_id, at)


def index_scope(chain_scope: str, exchange_id: str) -> str:
    """Which exchange an index describes: the chain (``Network.chain_scope``) and the exchange
    account."""
    return f"{chain_scope}/{exchange_id}"


class PoolIndex:
    """The pools of one exchange, refreshed incrementally from the chain."""

    def __init__(
        self,
        store: IndexStore,
        scope: str,
        *,
        ttl_s: float = TTL_S,
        page: int = PAGE,
        concurrency: int = 4,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.scope = scope
        self.ttl_s = ttl_s
        self.page = page
        self.concurrency = concurrency
        self.clock = clock

    async def refresh(self, chain: ChainClient, exchange_id: str) -> None:
        """Index the pools created since the last refresh (all of them when a full scan is due)."""
        meta = self.store.meta(self.scope)
        now = self.clock()
        raw = await chain.view(exchange_id, "get_number_of_pools", {})
        total = parse_uint(raw, "the number of pools", limit=U64_MAX, error=ContractAnswerError)
        full = (
            meta is None
            or meta.full_scan_at is None
            or now - meta.full_scan_at >= self.ttl_s
            or total < meta.known  # pools are never removed: this is another chain
        )
        start = 0 if full or meta is None else meta.known
        if start >= total and not full:
            return
        pools = await read_pool_range(chain, exchange_id, start, total, self.page, self.concurrency)
        self.store.save(
            self.scope,
            [IndexedPool.of(p) for p in pools],
            known=total,
            full_scan_at=now if full else (meta.full_scan_at if meta else None),
            replace=full,
        )

    def on_pair(self, token_a: str, token_b: str, cap: int) -> list[IndexedPool]:
        """At most ``cap`` routable pools holding both tokens: first the established ones
        (price sources of earlier accepted prices, longest established first, at most half
        of ``cap``), then the deepest of the rest by last-known amounts.

        Why: last-known depth can be lent for a moment and taken back, so depth alone would let
        new pools displace the honest ones from the read; established pools stay read, and new
        pools can still add sources in the other half."""
        found = [
            p for p in self.store.on_pair(self.scope, token_a, token_b) if p.kind in SUPPORTED_KINDS
        ]
        since = self.store.established(self.scope)
        sticky = sorted(
            (p for p in found if p.pool_id in since), key=lambda p: (since[p.pool_id], p.pool_id)
        )
        chosen = sticky[: cap // 2]
        taken = {p.pool_id for p in chosen}
        rest = sorted(
            (p for p in found if p.pool_id not in taken),
            key=lambda p: (-p.depth(token_a, token_b), p.pool_id),
        )
        return [*chosen, *rest[: cap - len(chosen)]]

    def establish(self, pool_ids: Iterable[int]) -> None:
        """Record that ``pool_ids`` were sources of an accepted price (kept from then on)."""
        known = self.store.established(self.scope)
        ids = sorted(set(pool_ids) - set(known))
        if ids:  # a write only when something is new
            self.store.establish(self.scope, ids, self.clock())

    def unsupported_on_pair(self, token_a: str, token_b: str) -> list[IndexedPool]:
        """Pools holding both tokens that no quote can use (their kind is not supported)."""
        return [
            p
            for p in self.store.on_pair(self.scope, token_a, token_b)
            if p.kind not in SUPPORTED_KINDS
        ]

    def learn(self, fresh: Iterable[Pool]) -> None:
        """Record what a fresh read showed (amounts, decimals); a pool whose tokens or kind
        differ from the index means the index is wrong here: a full scan becomes due."""
        pools = list(fresh)
        indexed = self.store.by_ids(self.scope, [p.pool_id for p in pools])
        for pool in pools:
            known = indexed.get(pool.pool_id)
            if known is None or known.tokens != pool.tokens or known.kind != pool.kind:
                log.info("pool %s differs from the index; a full scan is due", pool.pool_id)
                self.store.mark_stale(self.scope)
                return
        self.store.update(self.scope, [IndexedPool.of(p) for p in pools])


async def read_pool_range(
    chain: ChainClient, exchange_id: str, start: int, end: int, page: int, concurrency: int = 4
) -> list[Pool]:
    """Pools ``start..end-1`` by ``get_pools`` pages read concurrently; a page the node refuses
    (a view over its gas limit) is read again in two halves."""
    gate = asyncio.Semaphore(concurrency)

    async def read(first: int, size: int) -> list[Pool]:
        try:
            async with gate:
                views = await chain.view(
                    exchange_id, "get_pools", {"from_index": first, "limit": size}
                )
        except ViewCallError:
            if size // 2 < MIN_PAGE:
                raise
            half = size // 2
            return [*await read(first, half), *await read(first + half, size - half)]
        return _parse_views(first, views)

    starts = range(start, end, page)
    pages = await asyncio.gather(*(read(s, min(page, end - s)) for s in starts))
    return [pool for chunk in pages for pool in chunk]


def _parse_views(first: int, views: Any) -> list[Pool]:
    if not isinstance(views, list):
        raise ContractAnswerError(f"get_pools answered {type(views).__name__}, not a list")
    pools = []
    for offset, view in enumerate(views):
        try:
            pools.append(Pool.from_view(first + offset, view))
        except (KeyError, TypeError, ValueError):
            log.warning("skipping unreadable pool %s", first + offset)
    return pools
