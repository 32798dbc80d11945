"""Trigger prices come from the policy's price mechanism over the exchange's pools, at the
order's size, and are refused once older than the bound or when the sources disagree."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction
from types import SimpleNamespace
from typing import Any

import pytest

from agent.scheduler.market import ExchangeMarket
from agent.scheduler.strategies import OrderSize, PriceUnavailable, parse_strategy
from tests.scheduler.helpers import Clock
from tools.errors import RpcError, UnknownTokenError

WRAP, USDC, REF = "wrap.test.near", "usdc.test.near", "ref.test.near"
NEAR_UNITS, USDC_UNITS = 10**24, 10**6


def view(near: int | Fraction, usdc: int | Fraction) -> dict[str, Any]:
    """Ref's view of a wNEAR/USDC pool holding ``near`` wNEAR and ``usdc`` USDC (whole)."""
    return {
        "token_account_ids": [WRAP, USDC],
        "amounts": [str(int(near * NEAR_UNITS)), str(int(usdc * USDC_UNITS))],
        "total_fee": 30,
        "pool_kind": "SIMPLE_POOL",
    }


POOL = view(100_000, 300_000)  # NEAR at $3, $300,000 deep
DUST_UP = view(1, 20)  # one wNEAR for $20: the best output for one NEAR read $9.97
DUST_DOWN = view(1_000, 10)  # NEAR at a cent
PUSHED = view(1_000, 20_000)  # $20,000 deep, NEAR at $20


@dataclass
class FlakyChain:
    up: bool = True
    reads: int = 0
    pools: list[dict[str, Any]] = field(default_factory=lambda: [POOL])

    async def view(self, contract: str, method: str, args: dict | None = None) -> Any:
        if not self.up:
            raise RpcError("node unreachable")
        self.reads += 1
        if method == "get_number_of_pools":
            return len(self.pools)
        if method == "get_pool_detail_info_by_ids":
            return [{"SimplePoolInfo": self.pools[i]} for i in args["pool_ids"]]
        start = args["from_index"]
        return self.pools[start : start + args["limit"]]


class Tokens:
    wrap_id = WRAP
    listed = ({"symbol": "USDC", "contract_id": USDC},)

    async def resolve(self, name: str) -> Any:
        table = {"NEAR": (None, 24), "USDC": (USDC, 6), "REF": (REF, 18)}
        if name not in table:
            raise UnknownTokenError(f"unknown token {name!r}")
        contract, decimals = table[name]
        return SimpleNamespace(contract_id=contract, decimals=decimals)


def market(chain: FlakyChain, clock: Clock) -> ExchangeMarket:
    network = SimpleNamespace(
        network_id="devnet",
        rpc_url="http://127.0.0.1:1",
        exchange_id="exchange.test.near",
        wrap_id=WRAP,
        stablecoins=("USDC", "USDT"),
        chain_scope="devnet@http://127.0.0.1:1",
    )
    ctx = SimpleNamespace(
        network=network,
        chain=chain,
        tokens=Tokens(),
        account_id="a",
        market=None,
        wrap_id=WRAP,  # ToolContext.wrap_id and require_wrap on this network
        require_wrap=lambda needed_for: WRAP,
    )
    return ExchangeMarket(
        ctx, max_age=timedelta(seconds=30), refresh=timedelta(seconds=2), clock=clock
    )


def test_price_is_the_pool_quote_for_one_token() -> None:
    price = asyncio.run(market(FlakyChain(), Clock()).price("NEAR", "USDC"))
    assert Fraction(299, 100) < price < Fraction(3)  # 3 USDC less the 0.3% fee


def test_price_is_read_at_the_order_size_in_its_direction() -> None:
    prices = market(FlakyChain(), Clock())
    one = asyncio.run(prices.price("NEAR", "USDC"))
    selling = asyncio.run(prices.price("NEAR", "USDC", OrderSize("NEAR", "10000")))
    buying = asyncio.run(prices.price("NEAR", "USDC", OrderSize("USDC", "30000")))
    assert selling < Fraction(28, 10) < one < Fraction(3) < Fraction(31, 10) < buying


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


def test_an_order_sized_in_a_third_token_is_priced_at_what_it_is_worth_in_base() -> None:
    ref_pool = {
        "token_account_ids": [REF, WRAP],
        "amounts": [str(6_000_000 * 10**18), str(1_000_000 * NEAR_UNITS)],  # 6 REF per NEAR
        "total_fee": 30,
        "pool_kind": "SIMPLE_POOL",
    }
    prices = market(FlakyChain(pools=[POOL, ref_pool]), Clock())

    def at(size: OrderSize) -> Fraction:
        return asyncio.run(prices.price("NEAR", "USDC", size))

    in_ref = at(OrderSize("REF", "60000"))  # worth about 10,000 NEAR
    assert at(OrderSize("NEAR", "11000")) < in_ref < at(OrderSize("NEAR", "9000"))


def take_profit(above: str, amount: str = "10") -> Any:
    return parse_strategy(
        {
            "id": "tp",
            "kind": "take_profit",
            "sell": "NEAR",
            "buy": "USDC",
            "amount": amount,
            "price_of": "NEAR",
            "price_in": "USDC",
            "above": above,
        }
    )


def stop_loss(below: str) -> Any:
    return parse_strategy(
        {
            "id": "sl",
            "kind": "stop_loss",
            "sell": "NEAR",
            "buy": "USDC",
            "amount": "10",
            "price_of": "NEAR",
            "price_in": "USDC",
            "below": below,
        }
    )


@pytest.mark.parametrize("dust", [DUST_UP, DUST_DOWN], ids=["up", "down"])
def test_dust_pools_in_either_direction_fire_no_trigger(dust: dict[str, Any]) -> None:
    prices = market(FlakyChain(pools=[POOL, dust]), Clock())
    for strategy in (take_profit(above="3.5"), stop_loss(below="2.5")):
        decision = asyncio.run(strategy.decide(prices))
        assert not decision.acts, decision.note
        assert "NEAR at 2.99" in decision.note  # the honest pool's price, not the dust's


def test_a_pushed_deep_pool_leaves_no_price_so_no_trigger_fires() -> None:
    prices = market(FlakyChain(pools=[POOL, PUSHED]), Clock())
    with pytest.raises(PriceUnavailable, match="disagree by"):
        asyncio.run(take_profit(above="3.5").decide(prices))


def test_a_trigger_reads_what_its_own_order_would_get() -> None:
    prices = market(FlakyChain(), Clock())
    assert asyncio.run(take_profit(above="2.9", amount="1").decide(prices)).acts
    big = asyncio.run(take_profit(above="2.9", amount="10000").decide(prices))
    assert not big.acts and "NEAR at 2.7" in big.note  # 10,000 NEAR would fetch about 2.72
