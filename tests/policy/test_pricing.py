from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

import pytest

from policies.pricing import Pool, PoolPrices, PriceUnavailable, usd_value
from tools.action import NEAR

T0 = datetime(2026, 11, 22, tzinfo=UTC)
WRAP, USDC, REF = "wrap.test.near", "usdc.test.near", "ref.test.near"


def pools() -> list[Pool]:
    return [
        Pool(0, (WRAP, USDC), (1000 * 10**24, 3000 * 10**6), 30, T0),  # 1 wNEAR = 3 USDC
        Pool(1, (REF, WRAP), (600 * 10**18, 100 * 10**24), 30, T0),  # 1 REF = 1/6 wNEAR
    ]


def test_prices_are_exact_and_go_through_the_bridge() -> None:
    source = PoolPrices(
        pools, stablecoin=USDC, stable_decimals=6, bridge=WRAP, min_liquidity_usd=100
    )
    near = source.usd_price(NEAR)
    assert near.micro_usd_per_unit == Fraction(3 * 10**6, 10**24)
    assert usd_value(2 * 10**24, near) == 6_000_000
    ref = source.usd_price(REF)
    assert usd_value(10**18, ref) == 500_000  # $0.50
    assert source.usd_price(USDC).micro_usd_per_unit == 1
    with pytest.raises(PriceUnavailable):
        source.usd_price("doge.test.near")


def test_quote_is_constant_product_with_fee_rounded_down() -> None:
    source = PoolPrices(
        pools, stablecoin=USDC, stable_decimals=6, bridge=WRAP, min_liquidity_usd=100
    )
    q = source.quote(WRAP, USDC, 10**24)
    net = 10**24 * 9970
    assert q.amount_out == net * 3000 * 10**6 // (1000 * 10**24 * 10_000 + net)
    two_hop = source.quote(REF, USDC, 6 * 10**18)
    assert 0 < two_hop.amount_out < 3 * 10**6
    with pytest.raises(PriceUnavailable):
        source.quote(USDC, "doge.test.near", 1)


def test_usd_value_rounds_up() -> None:
    source = PoolPrices(
        pools, stablecoin=USDC, stable_decimals=6, bridge=WRAP, min_liquidity_usd=100
    )
    assert usd_value(1, source.usd_price(NEAR)) == 1


def test_a_pool_anyone_can_create_for_cents_cannot_lower_a_price() -> None:
    """A 1 REF / 0.000001 USDC pool would price 100,000 REF at $0.10; it is ignored."""
    honest = PoolPrices(
        pools, stablecoin=USDC, stable_decimals=6, bridge=WRAP, min_liquidity_usd=100
    )

    def with_dust_pool() -> list[Pool]:
        return [*pools(), Pool(9, (REF, USDC), (10**18, 1), 30, T0)]

    rigged = PoolPrices(
        with_dust_pool, stablecoin=USDC, stable_decimals=6, bridge=WRAP, min_liquidity_usd=100
    )
    amount = 100_000 * 10**18
    assert usd_value(amount, rigged.usd_price(REF)) == usd_value(amount, honest.usd_price(REF))


def test_a_deep_but_skewed_direct_pool_can_only_raise_a_price() -> None:
    def skewed() -> list[Pool]:  # a direct pool pricing REF at $0.05 instead of $0.50
        return [*pools(), Pool(9, (REF, USDC), (40_000 * 10**18, 2_000 * 10**6), 30, T0)]

    source = PoolPrices(
        skewed, stablecoin=USDC, stable_decimals=6, bridge=WRAP, min_liquidity_usd=100
    )
    assert usd_value(10**18, source.usd_price(REF)) == 500_000  # the higher, bridged price


def test_without_enough_liquidity_there_is_no_price() -> None:
    source = PoolPrices(
        pools, stablecoin=USDC, stable_decimals=6, bridge=WRAP, min_liquidity_usd=10_000
    )
    with pytest.raises(PriceUnavailable, match="enough liquidity"):
        source.usd_price(REF)
