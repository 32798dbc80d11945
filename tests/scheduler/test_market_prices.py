"""Trigger prices come from exchange pools and are refused once older than the bound."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction
from types import SimpleNamespace
from typing import Any

import pytest

from agent.scheduler.market import ExchangeMarket
from agent.scheduler.strategies import PriceUnavailable
from tests.scheduler.helpers import Clock
from tools.errors import RpcError

WRAP, USDC = "wrap.test.near", "usdc.test.near"
POOL = {
    "token_account_ids": [WRAP, USDC],
    "amounts": [str(100_000 * 10**24), str(300_000 * 10**6)],
    "total_fee": 30,
    "pool_kind": "SIMPLE_POOL",
}


@dataclass
class FlakyChain:
    up: bool = True
    reads: int = 0
    pools: list[dict[str, Any]] = field(default_factory=lambda: [POOL])

    async def view(self, contract: str, method: str, args: dict | None = None) -> Any:
        if not self.up:
            raise RpcError("node unreachable")
        self.reads += 1
        return len(self.pools) if method == "get_number_of_pools" else self.pools


class Tokens:
    async def resolve(self, name: str) -> Any:
        table = {"NEAR": (None, 24), "USDC": (USDC, 6)}
        contract, decimals = table[name]
        return SimpleNamespace(contract_id=contract, decimals=decimals)


def market(chain: FlakyChain, clock: Clock) -> ExchangeMarket:
    network = SimpleNamespace(exchange_id="exchange.test.near", wrap_id=WRAP)
    ctx = SimpleNamespace(network=network, chain=chain, tokens=Tokens(), account_id="a")
    return ExchangeMarket(
        ctx, max_age=timedelta(seconds=30), refresh=timedelta(seconds=2), clock=clock
    )


def test_price_is_the_pool_quote_for_one_token() -> None:
    price = asyncio.run(market(FlakyChain(), Clock()).price("NEAR", "USDC"))
    assert Fraction(299, 100) < price < Fraction(3)  # 3 USDC less the 0.3% fee


def test_a_snapshot_is_reused_briefly_then_refused_when_stale() -> None:
    chain, clock = FlakyChain(), Clock()
    prices = market(chain, clock)
    asyncio.run(prices.price("NEAR", "USDC"))
    reads = chain.reads
    clock.advance(timedelta(seconds=1))
    asyncio.run(prices.price("NEAR", "USDC"))
    assert chain.reads == reads  # within the refresh period: no new read
    chain.up = False
    clock.advance(timedelta(seconds=20))
    asyncio.run(prices.price("NEAR", "USDC"))  # read failed; the 21 s old snapshot still counts
    clock.advance(timedelta(seconds=10))
    with pytest.raises(PriceUnavailable):  # 31 s old: never acted on
        asyncio.run(prices.price("NEAR", "USDC"))
    chain.up = True
    assert asyncio.run(prices.price("NEAR", "USDC")) > 0


def test_no_pool_no_price() -> None:
    chain = FlakyChain(pools=[])
    with pytest.raises(PriceUnavailable):
        asyncio.run(market(chain, Clock()).price("NEAR", "USDC"))
