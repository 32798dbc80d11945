"""USD values and independent swap quotes, from the exchange's own pool reserves.

Prices are exact rationals (micro-USD per base unit); values are rounded up so a cap is never
passed by rounding. The engine never prices from the quote inside an action: it asks these
sources, which read pool reserves through a callable the chain layer provides, and refuses prices
older than its staleness bound.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import Protocol

from tools.action import NEAR


class PriceUnavailable(Exception):
    """No trustworthy price or quote for a token; the evaluator denies."""


@dataclass(frozen=True, slots=True)
class PricePoint:
    token: str
    micro_usd_per_unit: Fraction
    fetched_at: datetime
    source: str


@dataclass(frozen=True, slots=True)
class QuotePoint:
    token_in: str
    token_out: str
    amount_in: int
    amount_out: int
    fetched_at: datetime
    source: str


@dataclass(frozen=True, slots=True)
class Pool:
    """One constant-product pool as read from the chain (Ref ``get_pool``)."""

    pool_id: int
    tokens: tuple[str, str]
    reserves: tuple[int, int]
    fee_bps: int
    fetched_at: datetime


class PriceSource(Protocol):
    def usd_price(self, token: str) -> PricePoint:
        """Micro-USD per base unit of ``token``; PriceUnavailable when it cannot be priced."""
        ...


class QuoteSource(Protocol):
    def quote(self, token_in: str, token_out: str, amount_in: int) -> QuotePoint:
        """What ``amount_in`` buys now, from the source's own data."""
        ...


def usd_value(amount: int, price: PricePoint) -> int:
    """Micro-USD, rounded up."""
    value = amount * price.micro_usd_per_unit
    return -((-value.numerator) // value.denominator)


class PoolPrices:
    """PriceSource and QuoteSource over pool reserves read by ``pools()``.

    ``stablecoin`` is worth one USD per whole token; other tokens are priced from a pool against
    it, directly or through ``bridge`` (wNEAR). Native NEAR is priced as ``bridge``.

    Exchanges let anyone create a pool, so a price must not come from a pool anyone can make for
    a few cents: pools holding less than ``min_liquidity_usd`` on their priced side are ignored,
    and when both a direct and a bridged price exist the higher one is used, so a manipulated
    pool can only make spending look larger (more denials), never smaller.
    """

    def __init__(
        self,
        pools: Callable[[], Sequence[Pool]],
        *,
        stablecoin: str,
        stable_decimals: int,
        bridge: str | None = None,
        source: str = "pools",
        min_liquidity_usd: int = 1_000,
    ) -> None:
        self._pools = pools
        self.stablecoin = stablecoin
        self.stable_decimals = stable_decimals
        self.bridge = bridge
        self.source = source
        self.min_stable_units = min_liquidity_usd * 10**stable_decimals

    def usd_price(self, token: str) -> PricePoint:
        if token == NEAR:
            if self.bridge is None:
                raise PriceUnavailable("native NEAR has no wrapped token to price it by")
            token = self.bridge
        unit = Fraction(10**6, 10**self.stable_decimals)  # micro-USD per stable base unit
        pools = list(self._pools())
        if token == self.stablecoin:
            return PricePoint(
                token, unit, min((p.fetched_at for p in pools), default=_far()), self.source
            )
        candidates: list[tuple[Fraction, datetime]] = []
        direct = _spot(pools, token, self.stablecoin, self.min_stable_units)
        if direct is not None:
            candidates.append((direct[0] * unit, direct[1]))
        if self.bridge is not None and token != self.bridge:
            second = _spot(pools, self.bridge, self.stablecoin, self.min_stable_units)
            if second is not None:
                bridge_floor = -(
                    -self.min_stable_units * second[0].denominator // second[0].numerator
                )  # bridge units worth the floor
                first = _spot(pools, token, self.bridge, bridge_floor)
                if first is not None:
                    candidates.append((first[0] * second[0] * unit, min(first[1], second[1])))
        if not candidates:
            raise PriceUnavailable(
                f"no pool with enough liquidity prices {token} against {self.stablecoin}"
            )
        price, at = max(candidates, key=lambda c: c[0])
        return PricePoint(token, price, at, self.source)

    def quote(self, token_in: str, token_out: str, amount_in: int) -> QuotePoint:
        pools = list(self._pools())
        best: tuple[int, datetime] | None = None
        for pool in pools:
            if set(pool.tokens) == {token_in, token_out}:
                out = _swap_out(pool, token_in, amount_in)
                if best is None or out > best[0]:
                    best = (out, pool.fetched_at)
        if self.bridge is not None and self.bridge not in (token_in, token_out):
            for p1 in pools:
                if set(p1.tokens) != {token_in, self.bridge}:
                    continue
                mid = _swap_out(p1, token_in, amount_in)
                for p2 in pools:
                    if set(p2.tokens) == {self.bridge, token_out}:
                        out = _swap_out(p2, self.bridge, mid)
                        if best is None or out > best[0]:
                            best = (out, min(p1.fetched_at, p2.fetched_at))
        if best is None:
            raise PriceUnavailable(f"no pool route from {token_in} to {token_out}")
        return QuotePoint(token_in, token_out, amount_in, best[0], best[1], self.source)


def _spot(
    pools: Sequence[Pool], token: str, quote: str, min_quote: int = 1
) -> tuple[Fraction, datetime] | None:
    """Price of one base unit of ``token`` in base units of ``quote``: the deepest pool's
    among those holding at least ``min_quote`` of ``quote``."""
    best: tuple[int, Fraction, datetime] | None = None
    for pool in pools:
        if set(pool.tokens) != {token, quote}:
            continue
        r_token = pool.reserves[pool.tokens.index(token)]
        r_quote = pool.reserves[pool.tokens.index(quote)]
        if r_token <= 0 or r_quote < max(1, min_quote):
            continue
        if best is None or r_quote > best[0]:
            best = (r_quote, Fraction(r_quote, r_token), pool.fetched_at)
    return None if best is None else (best[1], best[2])


def _swap_out(pool: Pool, token_in: str, amount_in: int) -> int:
    """Constant product with fee: out = in*(1-fee)*R_out / (R_in + in*(1-fee)), rounded down."""
    i = pool.tokens.index(token_in)
    r_in, r_out = pool.reserves[i], pool.reserves[1 - i]
    net = amount_in * (10_000 - pool.fee_bps)
    denominator = r_in * 10_000 + net
    return 0 if denominator == 0 else net * r_out // denominator


def _far() -> datetime:
    """The stablecoin's price is fixed by definition, so it never goes stale."""
    return datetime.max.replace(tzinfo=UTC)
