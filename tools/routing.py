"""Quotes and routes on a Ref-compatible exchange.

Each pool is priced as Ref computes it (``tools.pools.swap_out``: constant product for simple
pools, the amplified stable-swap curve for stable and rated pools). Routes are a single pool or
two hops through a hub (wNEAR, USDC or USDt), over the pools of one market snapshot
(``tools.market``), never over every pool of the exchange. The chosen route is then
cross-checked with the exchange's own ``get_return`` and the lower figure is used, so a quote is
never more optimistic than the contract. DEGEN_SWAP pools and Ref's DCL are not supported: they
are never routed through (see ``tools.pools``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tools.chain import ChainClient
from tools.errors import ContractAnswerError, NoRouteError, ViewCallError
from tools.pool_index import read_pool_range
from tools.pools import FEE_DIVISOR, Pool, swap_out
from tools.rpc_values import U64_MAX, parse_uint

if TYPE_CHECKING:
    from tools.market import Market

log = logging.getLogger(__name__)

PAGE = 100


@dataclass(frozen=True)
class Hop:
    pool_id: int
    token_in: str
    token_out: str
    amount_in: int
    amount_out: int


@dataclass(frozen=True)
class Route:
    hops: tuple[Hop, ...]

    @property
    def amount_in(self) -> int:
        return self.hops[0].amount_in

    @property
    def amount_out(self) -> int:
        return self.hops[-1].amount_out

    @property
    def pool_ids(self) -> tuple[int, ...]:
        return tuple(h.pool_id for h in self.hops)

    def swap_actions(self, min_amount_out: int) -> list[dict[str, Any]]:
        """Ref's msg actions: the first carries amount_in; only the last enforces the minimum."""
        actions: list[dict[str, Any]] = []
        for i, hop in enumerate(self.hops):
            action: dict[str, Any] = {
                "pool_id": hop.pool_id,
                "token_in": hop.token_in,
                "token_out": hop.token_out,
            }
            if i == 0:
                action["amount_in"] = str(hop.amount_in)
            action["min_amount_out"] = str(min_amount_out) if i == len(self.hops) - 1 else "0"
            actions.append(action)
        return actions


def min_out(quoted: int, slippage_bps: int) -> int:
    """The least output accepted: quoted minus slippage, rounded down, never below 1."""
    return max(1, quoted * (FEE_DIVISOR - slippage_bps) // FEE_DIVISOR)


async def fetch_pools(chain: ChainClient, exchange_id: str, concurrency: int = 8) -> list[Pool]:
    """Every pool with fresh reserves; pages are read concurrently (mainnet Ref has thousands).

    Dozens of requests on mainnet: only for readers not yet on a market snapshot
    (``tools.market.Market``), which reads the few pools that matter."""
    raw = await chain.view(exchange_id, "get_number_of_pools", {})
    total = parse_uint(raw, "the number of pools", limit=U64_MAX, error=ContractAnswerError)
    return await read_pool_range(chain, exchange_id, 0, total, PAGE, concurrency)


def _hop(pool: Pool, token_in: str, token_out: str, amount: int) -> Hop | None:
    out = swap_out(pool, token_in, token_out, amount)
    return Hop(pool.pool_id, token_in, token_out, amount, out) if out > 0 else None


def candidate_routes(
    pools: Sequence[Pool],
    token_in: str,
    token_out: str,
    amount: int,
    via: str | Sequence[str] | None,
) -> list[Route]:
    """Every single-pool route and every two-hop route through a hub in ``via``, best first."""
    hubs = [via] if isinstance(via, str) else list(via or ())
    routes = [Route((h,)) for p in pools if (h := _hop(p, token_in, token_out, amount))]
    for hub in dict.fromkeys(hubs):
        if hub in (token_in, token_out):
            continue
        for first_pool in pools:
            first = _hop(first_pool, token_in, hub, amount)
            if first is None:
                continue
            for second_pool in pools:
                if second_pool.pool_id == first_pool.pool_id:
                    continue
                second = _hop(second_pool, hub, token_out, first.amount_out)
                if second is not None:
                    routes.append(Route((first, second)))
    routes.sort(key=lambda r: (-r.amount_out, len(r.hops), r.pool_ids))
    return routes


async def contract_return(chain: ChainClient, exchange_id: str, route: Route) -> Route:
    """The same route priced by the exchange's get_return, hop by hop."""
    hops: list[Hop] = []
    amount = route.amount_in
    for hop in route.hops:
        out = int(
            await chain.view(
                exchange_id,
                "get_return",
                {
                    "pool_id": hop.pool_id,
                    "token_in": hop.token_in,
                    "amount_in": str(amount),
                    "token_out": hop.token_out,
                },
            )
            or 0
        )
        hops.append(Hop(hop.pool_id, hop.token_in, hop.token_out, amount, out))
        amount = out
    return Route(tuple(hops))


CROSS_CHECKED = 3  # routes tried when the exchange refuses to quote the best ones


async def best_route(market: Market, token_in: str, token_out: str, amount_in: int) -> Route:
    """The best route over a fresh snapshot of the pools that can form one, priced no better
    than the exchange itself says (its ``get_return``, hop by hop)."""
    snapshot = await market.read((token_in, token_out))
    routes = candidate_routes(snapshot.pools, token_in, token_out, amount_in, market.hubs)
    if not routes:
        raise _no_route(market, token_in, token_out)
    refused: ViewCallError | None = None
    for local in routes[:CROSS_CHECKED]:
        try:
            checked = await contract_return(market.chain, market.exchange_id, local)
        except ViewCallError as exc:  # e.g. a rated pool whose rates have expired
            log.warning("route %s: the exchange refused to quote it: %s", local.pool_ids, exc)
            refused = exc
            continue
        if checked.amount_out != local.amount_out:
            log.warning(
                "route %s: local quote %s, exchange get_return %s",
                local.pool_ids,
                local.amount_out,
                checked.amount_out,
            )
        chosen = checked if checked.amount_out < local.amount_out else local
        if chosen.amount_out <= 0:
            raise NoRouteError(f"{amount_in} of {token_in} buys nothing of {token_out}")
        return chosen
    raise NoRouteError(
        f"{market.exchange_id} refused to quote every route from {token_in} to {token_out}"
        f" ({refused.message if refused else 'no answer'})",
        token_in=token_in,
        token_out=token_out,
    )


def _no_route(market: Market, token_in: str, token_out: str) -> NoRouteError:
    hubs = ", ".join(h for h in market.hubs if h not in (token_in, token_out)) or "no hub"
    unsupported = market.unsupported_between(token_in, token_out)
    if unsupported:
        kinds = ", ".join(sorted({p.kind for p in unsupported}))
        return NoRouteError(
            f"only pools of a kind this agent does not support ({kinds}: pool "
            f"{', '.join(str(p.pool_id) for p in unsupported)}) swap {token_in} to {token_out} "
            f"on {market.exchange_id}; DEGEN_SWAP pools and DCL are not supported",
            token_in=token_in,
            token_out=token_out,
        )
    return NoRouteError(
        f"no pool on {market.exchange_id} swaps {token_in} to {token_out} "
        f"(directly or through {hubs})",
        token_in=token_in,
        token_out=token_out,
    )
