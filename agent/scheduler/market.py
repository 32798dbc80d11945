"""Prices for triggers: the policy's price mechanism at the order's size, refused when stale.

A trigger reads the same agreed price the policy's USD caps read (policies/pricing.py): pools
under the liquidity floor ignored, the median of independent sources (pools, stablecoins, routes
through wNEAR), quoted at the order's size, and no price at all when the sources disagree or are
too few, so a pool anyone can create for cents never fires a trigger. Pool reserves are read at
most ``refresh`` ago; a read that fails leaves the last snapshot, which is refused once it is
older than ``max_age``. Money stays in integers; the price is a Fraction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

from agent.scheduler.strategies import OrderSize, PriceUnavailable
from agent.stablecoins import listed_stablecoins
from policies.pricing import PriceInputs, PriceRules
from tools.amounts import parse_amount
from tools.ft import ft_balance_of


def _now() -> datetime:
    return datetime.now(UTC)


class ExchangeMarket:
    """The ``Market`` strategies read, over a ToolContext (chain, token registry, account).

    ``stablecoins`` are the symbols worth one dollar each (those the network lists are used);
    ``rules`` are the price mechanism's floor, bound and source count.
    """

    def __init__(
        self,
        ctx: Any,
        *,
        max_age: timedelta = timedelta(seconds=30),
        refresh: timedelta = timedelta(seconds=2),
        clock: Callable[[], datetime] = _now,
        rules: PriceRules = PriceRules(),
        stablecoins: Sequence[str] | None = None,
    ) -> None:
        self.ctx = ctx
        self.max_age = max_age
        self.refresh = refresh
        self.clock = clock
        self.rules = rules
        # the network's own list (tools/network_catalog.py, agent.yaml) unless told otherwise
        self.stablecoin_symbols = tuple(
            ctx.network.stablecoins if stablecoins is None else stablecoins
        )
        self._stablecoins: dict[str, int] | None = None
        self._pools: list[Any] = []
        self._read_at: datetime | None = None

    async def _fresh_pools(self, tokens: set[str]) -> list[Any]:
        """The candidate pools for ``tokens`` from the market snapshot (tools/market.py: the
        pool index, then only the pools on their pairs), read again after ``refresh``."""
        from tools.errors import ToolError
        from tools.market import market_of

        now = self.clock()
        try:
            market = market_of(self.ctx)
        except ToolError as exc:
            raise PriceUnavailable(exc.message) from exc
        covered = market.snapshot is not None and market.snapshot.covers(tokens)
        try:
            if self._read_at is None or now - self._read_at >= self.refresh or not covered:
                snapshot = await market.ensure(tokens, 0.0)
                self._pools, self._read_at = list(snapshot.pools), now
        except ToolError:
            pass  # keep the last snapshot; its age decides below
        if self._read_at is None or now - self._read_at > self.max_age:
            raise PriceUnavailable(f"no exchange quote younger than {self.max_age}")
        return self._pools

    async def _inputs(self, *tokens: str) -> PriceInputs:
        if self._stablecoins is None:
            self._stablecoins = await listed_stablecoins(self.ctx.tokens, self.stablecoin_symbols)
        pools = await self._fresh_pools({*tokens, *self._stablecoins})
        return PriceInputs(pools, self._stablecoins, self.ctx.wrap_id, self.rules)

    async def _flow(self, token: str) -> tuple[str, int]:
        info = await self.ctx.tokens.resolve(token)
        if info.contract_id is None:  # native NEAR trades as wNEAR
            return self.ctx.require_wrap("a price in NEAR"), info.decimals
        return info.contract_id, info.decimals

    async def price(self, base: str, quote: str, size: OrderSize | None = None) -> Fraction:
        """Whole ``quote`` per whole ``base``, at the order's size, in the order's direction:
        selling ``base`` reads what it fetches, buying it what it costs."""
        base_id, base_dec = await self._flow(base)
        quote_id, quote_dec = await self._flow(quote)
        if base_id == quote_id:
            return Fraction(1)
        whole = Fraction(10**base_dec, 10**quote_dec)  # base units per quote unit, as wholes
        if size is None:
            inputs = await self._inputs(base_id, quote_id, base_id)
            return self._rate(inputs, base_id, quote_id, 10**base_dec) * whole
        sold_id, sold_dec = await self._flow(size.token)
        inputs = await self._inputs(base_id, quote_id, sold_id)
        amount = parse_amount(size.amount, sold_dec)
        if sold_id == quote_id:  # buying base: quote paid per base received
            return whole / self._rate(inputs, quote_id, base_id, amount)
        if sold_id != base_id:  # sized in a third token: the base it is worth sets the size
            amount = int(self._rate(inputs, sold_id, base_id, amount) * amount)
        return self._rate(inputs, base_id, quote_id, amount) * whole

    def _rate(self, inputs: PriceInputs, token_in: str, token_out: str, amount: int) -> Fraction:
        """Base units of ``token_out`` per base unit of ``token_in`` at ``amount``; USD
        stablecoins all count when ``token_out`` is one of them (each a dollar)."""
        stables = inputs.usd_targets()
        if token_out in stables:
            targets = {s: f / stables[token_out] for s, f in stables.items()}
        else:
            targets = {token_out: Fraction(1)}
        measured = inputs.measure(token_in, targets, amount)
        market = getattr(self.ctx, "market", None)
        if market is not None:  # keep reading the pools this accepted price came from
            market.establish(measured.evidence.source_pools)
        return measured.rate

    async def balance(self, token: str) -> int:
        info = await self.ctx.tokens.resolve(token)
        if info.contract_id is None:
            return int((await self.ctx.chain.near_balance(self.ctx.account_id))["available"])
        return await ft_balance_of(self.ctx.chain, info.contract_id, self.ctx.account_id)

    async def decimals(self, token: str) -> int:
        return int((await self.ctx.tokens.resolve(token)).decimals)
