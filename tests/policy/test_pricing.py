"""The price mechanism: floor, independent sources, agreement, size, and what it records."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from policies.pricing import PoolPrices, PriceRules, PriceUnavailable, usd_value
from tests.policy.helpers import REF, USDC, WRAP, YOCTO, pool
from tools.action import NEAR
from tools.pools import Pool

USDT = "usdt.test.near"
STABLES = {USDC: 6, USDT: 6}
U = 10**6  # base units of USDC / USDT per token
R = 10**18  # base units of REF per token


def market() -> list[Pool]:
    """NEAR at $3 against USDC and USDT; REF at $0.50 directly and through wNEAR."""
    return [
        pool(0, (WRAP, 100_000 * YOCTO), (USDC, 300_000 * U)),
        pool(1, (WRAP, 50_000 * YOCTO), (USDT, 150_000 * U)),
        pool(2, (REF, 300_000 * R), (WRAP, 50_000 * YOCTO)),
        pool(3, (REF, 200_000 * R), (USDC, 100_000 * U)),
    ]


def prices(pools: list[Pool], **rules: int) -> PoolPrices:
    return PoolPrices(lambda: pools, stablecoins=STABLES, bridge=WRAP, rules=PriceRules(**rules))


def dollars(point_amount: int, source: PoolPrices, token: str) -> Fraction:
    return Fraction(usd_value(point_amount, source.usd_price(token, point_amount)), 10**6)


def test_near_is_the_median_of_its_pools_at_the_trade_size() -> None:
    source = prices(market())
    point = source.usd_price(NEAR, YOCTO)
    assert Fraction(299, 100) < dollars(YOCTO, source, NEAR) < 3  # $3 less the 0.3% fee
    assert {s.pools for s in point.evidence.sources} == {(0,), (1,)}  # USDC and USDT
    assert {s.target for s in point.evidence.sources} == {USDC, USDT}
    big = 5_000 * YOCTO  # moves the pools: worth less per NEAR than one NEAR
    assert source.usd_price(NEAR, big).micro_usd_per_unit < point.micro_usd_per_unit
    assert source.usd_price(USDC, 7 * U).micro_usd_per_unit == 1  # a dollar by definition
    with pytest.raises(PriceUnavailable, match="no pool with at least"):
        source.usd_price("doge.test.near", 1)


def test_ref_is_priced_directly_and_through_wnear() -> None:
    point = prices(market()).usd_price(REF, 100 * R)
    assert {s.pools for s in point.evidence.sources} == {(3,), (2, 0), (2, 1)}
    assert Fraction(49, 100) < point.micro_usd_per_unit * R / 10**6 < Fraction(1, 2)


def test_the_quote_is_what_the_deepest_route_pays_rounded_down() -> None:
    only = [pool(0, (WRAP, 100_000 * YOCTO), (USDC, 300_000 * U))]
    q = prices(only).quote(WRAP, USDC, YOCTO)
    net = YOCTO * 9970
    assert q.amount_out == net * 300_000 * U // (100_000 * YOCTO * 10_000 + net)
    assert [s.pools for s in q.evidence.sources] == [(0,)]
    with pytest.raises(PriceUnavailable):
        prices(only).quote(USDC, "doge.test.near", 1)


DUST_UP = pool(7, (WRAP, YOCTO), (USDC, 20 * U))  # one wNEAR for $20: reads NEAR at $19.98
DUST_DOWN = pool(8, (WRAP, 1_000 * YOCTO), (USDT, 10 * U))  # NEAR at a cent
DUST_REF = pool(9, (REF, R), (USDC, 1))  # REF at a millionth of a cent


@pytest.mark.parametrize("dust", [DUST_UP, DUST_DOWN, DUST_REF], ids=["up", "down", "ref"])
def test_a_dust_pool_changes_no_price_and_is_recorded_as_discarded(dust: Pool) -> None:
    honest, rigged = prices(market()), prices([*market(), dust])
    for token, amount in ((NEAR, 10 * YOCTO), (REF, 1_000 * R)):
        assert rigged.usd_price(token, amount).micro_usd_per_unit == (
            honest.usd_price(token, amount).micro_usd_per_unit
        )
    assert rigged.quote(WRAP, USDC, YOCTO).amount_out == honest.quote(WRAP, USDC, YOCTO).amount_out
    token = REF if dust is DUST_REF else NEAR
    discarded = rigged.usd_price(token, 10 * YOCTO).evidence.discarded
    floor = "under the $10000 floor"
    assert any(d.pools == (dust.pool_id,) and floor in d.reason for d in discarded)


def test_a_deep_pool_pushed_away_from_the_others_denies_with_both_named() -> None:
    pushed = pool(9, (WRAP, 1_000 * YOCTO), (USDC, 20_000 * U))  # $20,000 deep, NEAR at $20
    with pytest.raises(PriceUnavailable, match="disagree by") as caught:
        prices([*market(), pushed]).usd_price(NEAR, YOCTO)
    assert "pool 9" in str(caught.value) and "200 allowed" in str(caught.value)
    assert any(s.pools == (9,) for s in caught.value.evidence.sources)  # recorded for the audit


def test_one_source_prices_only_when_it_is_deep() -> None:
    deep = [pool(0, (WRAP, 100_000 * YOCTO), (USDC, 300_000 * U))]  # the devnet's genesis pool
    assert prices(deep).usd_price(NEAR, YOCTO).micro_usd_per_unit > 0
    shallow = [pool(0, (WRAP, 10_000 * YOCTO), (USDC, 30_000 * U))]
    with pytest.raises(PriceUnavailable, match="only 1 price source"):
        prices(shallow).usd_price(NEAR, YOCTO)
    assert prices(shallow, min_sources=1).usd_price(NEAR, YOCTO).micro_usd_per_unit > 0


def test_the_bridge_hop_must_pass_the_floor_too() -> None:
    thin = pool(4, (WRAP, 1_000 * YOCTO), (USDC, 3_000 * U))  # $3,000: under the floor
    deep_ref = pool(2, (REF, 300_000 * R), (WRAP, 50_000 * YOCTO))
    near_in_usdt = pool(1, (WRAP, 50_000 * YOCTO), (USDT, 150_000 * U))
    usdt_is_a_dollar = pool(6, (USDC, 200_000 * U), (USDT, 200_000 * U), fee_bps=1)
    point = prices([thin, deep_ref, near_in_usdt, usdt_is_a_dollar]).usd_price(REF, R)
    assert [s.pools for s in point.evidence.sources] == [(2, 1)]
    assert any(
        d.pools == (2, 4) and "pool 4 holds $3000" in d.reason for d in point.evidence.discarded
    )
    with pytest.raises(PriceUnavailable, match="no pool with at least"):
        prices([thin, deep_ref]).usd_price(REF, R)  # no wNEAR price to measure pool 2 by


def test_a_shallow_pool_that_agrees_counts_but_does_not_drag_a_large_trade() -> None:
    shallow = pool(5, (WRAP, 4_000 * YOCTO), (USDC, 12_000 * U))  # same price, $12,000 deep
    big = 5_000 * YOCTO
    with_it = prices([*market(), shallow]).usd_price(NEAR, big)
    assert with_it.micro_usd_per_unit == prices(market()).usd_price(NEAR, big).micro_usd_per_unit
    (entry,) = [s for s in with_it.evidence.sources if s.pools == (5,)]
    assert not entry.in_median


def test_unsupported_kinds_and_unknown_read_times_are_refused() -> None:
    odd = pool(6, (WRAP, 10**30), (USDC, 10**12), kind="NOT_A_REF_KIND")  # deep, on a route
    point = prices([*market(), odd]).usd_price(NEAR, YOCTO)
    assert [d.reason for d in point.evidence.discarded if d.pools == (6,)] == [
        "NOT_A_REF_KIND pools cannot be quoted"
    ]
    unknown = [pool(0, (WRAP, 100_000 * YOCTO), (USDC, 300_000 * U), at=None)]
    with pytest.raises(PriceUnavailable, match="read time is unknown"):
        prices(unknown).usd_price(NEAR, YOCTO)


def test_usd_value_rounds_up() -> None:
    assert usd_value(1, prices(market()).usd_price(NEAR, 1)) == 1


# ---------------------------------------------------------------- hypothesis: the floor holds

PAIRS = [(WRAP, USDC), (WRAP, USDT), (REF, USDC), (REF, USDT), (REF, WRAP), (USDC, USDT)]
FLOOR = PriceRules().min_liquidity_usd


@st.composite
def pools_under_the_floor(draw: st.DrawFn) -> Pool:
    """Any pool whose stable side (or wNEAR side, at NEAR's ~$3) holds less than the floor."""
    left, right = draw(st.sampled_from(PAIRS))
    decimals = {WRAP: 24, USDC: 6, USDT: 6, REF: 18}
    under = {
        USDC: FLOOR * U - 1,
        USDT: FLOOR * U - 1,
        WRAP: FLOOR * YOCTO // 4,  # NEAR is $3: a quarter of the floor in wNEAR is under it
    }

    def reserve(token: str, measured: bool) -> int:
        if measured:
            return draw(st.integers(1, under[token]))
        return draw(st.integers(1, 10 ** (decimals[token] + 9)))

    measured_left = left in (USDC, USDT) or (left == WRAP and right not in (USDC, USDT))
    measured_right = right in (USDC, USDT) or (right == WRAP and left not in (USDC, USDT))
    return pool(
        100 + draw(st.integers(0, 50)),
        (left, reserve(left, measured_left)),
        (right, reserve(right, measured_right)),
        fee_bps=draw(st.integers(0, 100)),
    )


def _outcome(source: PoolPrices, token: str, amount: int) -> Fraction | str:
    try:
        return source.usd_price(token, amount).micro_usd_per_unit
    except PriceUnavailable:
        return "unavailable"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    extra=st.lists(pools_under_the_floor(), max_size=4),
    token=st.sampled_from([NEAR, REF, WRAP]),
    whole=st.integers(1, 20_000),
)
# $10,000 of wNEAR against 1 cent of USDT: deep on the wNEAR side alone, it once made USDT's
# dollar check disagree (USDT then left out of NEAR's price)
@example(
    extra=[pool(100, (WRAP, 3_343_696_787_155_442_913_098_189_863), (USDT, 10_000), fee_bps=0)],
    token=NEAR,
    whole=1,
)
def test_a_pool_under_the_floor_never_changes_a_price(
    extra: list[Pool], token: str, whole: int
) -> None:
    amount = whole * (R if token == REF else YOCTO)
    assert _outcome(prices([*market(), *extra]), token, amount) == _outcome(
        prices(market()), token, amount
    )


def test_a_declared_stablecoin_counts_as_a_dollar_only_when_its_pools_agree() -> None:
    """wNEAR declared a stablecoin beside USDC: its pools against USDC say $3, so it is left
    out (recorded) and NEAR is priced from pools at $3, not $1. USDT counts once a deep
    USDC/USDT pool shows it at $1, and is left out when that pool reads it at $0.90."""
    declared = PoolPrices(market, stablecoins={USDC: 6, WRAP: 24}, bridge=WRAP)
    point = declared.usd_price(NEAR, YOCTO)
    assert 2_900_000 < point.micro_usd_per_unit * YOCTO < 3_000_000
    (why,) = [d for d in point.evidence.discarded if "declared a stablecoin" in d.reason]
    assert WRAP in why.reason and "$2.99" in why.reason and why.pools == (0,)

    def usdt_at(dollars: int) -> PoolPrices:
        peg = pool(6, (USDC, dollars * 2_000 * U), (USDT, 200_000 * U), fee_bps=1)
        return PoolPrices(lambda: [*market(), peg], stablecoins=STABLES, bridge=WRAP)

    assert usdt_at(100).usd_price(USDT).micro_usd_per_unit == Fraction(1)
    assert usdt_at(100).usd_price(USDT).source == "stablecoin"
    with pytest.raises(PriceUnavailable) as off_peg:  # priced like any token: no agreement
        usdt_at(90).usd_price(USDT, U)
    assert any("declared a stablecoin" in d.reason for d in off_peg.value.evidence.discarded)
