"""Prices for triggers from the exchange's own pools, refused when older than a bound.

A trigger reads the quote the exchange would give for one whole token (fee included), from pool
reserves read at most ``refresh`` ago; a read that fails leaves the last snapshot, which is
refused once it is older than ``max_age``. Money stays in integers; the price is a Fraction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

from agent.scheduler.strategies import PriceUnavailable
from tools.ft import ft_balance_of


def _now() -> datetime:
    return datetime.now(UTC)


class ExchangeMarket:
    """The ``Market`` strategies read, over a ToolContext (chain, token registry, account)."""

    def __init__(
        self,
        ctx: Any,
        *,
        max_age: timedelta = timedelta(seconds=30),
        refresh: timedelta = timedelta(seconds=2),
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.ctx = ctx
        self.max_age = max_age
        self.refresh = refresh
        self.clock = clock
        self._pools: list[Any] = []
        self._read_at: datetime | None = None

    async def _fresh_pools(self) -> list[Any]:
        from tools.errors import ToolError
        from tools.routing import fetch_pools

        now = self.clock()
        if self._read_at is None or now - self._read_at >= self.refresh:
            exchange = self.ctx.network.exchange_id
            if exchange is None:
                raise PriceUnavailable("this network has no exchange")
            try:
                self._pools = await fetch_pools(self.ctx.chain, exchange)
                self._read_at = now
            except ToolError:
                pass  # keep the last snapshot; its age decides below
        if self._read_at is None or now - self._read_at > self.max_age:
            raise PriceUnavailable(f"no exchange quote younger than {self.max_age}")
        return self._pools

    async def _flow(self, token: str) -> tuple[str, int]:
        info = await self.ctx.tokens.resolve(token)
        if info.contract_id is None:  # native NEAR trades as wNEAR
            return self.ctx.network.wrap_id, info.decimals
        return info.contract_id, info.decimals

    async def price(self, base: str, quote: str) -> Fraction:
        from tools.routing import candidate_routes

        pools = await self._fresh_pools()
        base_id, base_dec = await self._flow(base)
        quote_id, quote_dec = await self._flow(quote)
        if base_id == quote_id:
            return Fraction(1)
        routes = candidate_routes(pools, base_id, quote_id, 10**base_dec, self.ctx.network.wrap_id)
        if not routes:
            raise PriceUnavailable(f"no pool prices {base} in {quote}")
        return Fraction(routes[0].amount_out, 10**quote_dec)

    async def balance(self, token: str) -> int:
        info = await self.ctx.tokens.resolve(token)
        if info.contract_id is None:
            return int((await self.ctx.chain.near_balance(self.ctx.account_id))["available"])
        return await ft_balance_of(self.ctx.chain, info.contract_id, self.ctx.account_id)

    async def decimals(self, token: str) -> int:
        return int((await self.ctx.tokens.resolve(token)).decimals)
