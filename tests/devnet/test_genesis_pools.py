"""The pool plan of the mainnet- and testnet-shaped genesis, for any size and seed: exactly the
pools asked for, every role, the deep pools at the shape's prices, no dust worth taking."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from devnet.genesis_pools import (
    DUST_MAX_VALUE,
    ROLES,
    PlannedPool,
    deep_pools,
    minimum_pools,
    plan_pools,
)
from devnet.genesis_shapes import DOLLAR, MAINNET, SHAPES

SHAPE_NAMES = sorted(SHAPES)


def _value(shape_name: str, token: str, amount: int) -> Fraction:
    """Micro-dollars of ``amount`` base units of a listed token at the shape's price."""
    listed = {t.contract_id: t for t in SHAPES[shape_name].tokens}
    token_info = listed[token]
    return Fraction(amount * token_info.price_micro_usd, 10**token_info.decimals)


def _unordered(pool: PlannedPool) -> tuple[object, ...]:
    """A pool regardless of its tokens' order (creators pick either)."""
    return (pool.kind, tuple(sorted(zip(pool.tokens, pool.amounts, strict=True))), pool.fee_bps)


@settings(max_examples=25)
@given(
    shape_name=st.sampled_from(SHAPE_NAMES),
    extra=st.integers(min_value=0, max_value=600),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_any_plan_has_every_role_and_no_dust_worth_taking(
    shape_name: str, extra: int, seed: int
) -> None:
    shape = SHAPES[shape_name]
    count = minimum_pools(shape) + extra
    plan = plan_pools(shape, count, seed)
    assert len(plan.pools) == count
    assert set(plan.roles()) == set(ROLES)
    deep = [_unordered(p) for p in plan.pools if p.role == "deep"]
    assert sorted(deep) == sorted(_unordered(p) for p in deep_pools(shape))
    listed = {t.contract_id for t in shape.tokens}
    for pool in plan.pools:
        assert len(set(pool.tokens)) == len(pool.tokens)
        if pool.role == "empty":
            assert pool.amounts == (0, 0)
        elif pool.role in ("dust", "drained"):
            assert set(pool.tokens) <= listed
            sides = zip(pool.tokens, pool.amounts, strict=True)
            richer = max(_value(shape_name, t, a) for t, a in sides)
            assert richer <= DUST_MAX_VALUE
        else:
            assert all(a > 0 for a in pool.amounts)
    assert plan_pools(shape, count, seed) == plan  # the same seed, the same pools


def test_deep_pools_price_near_at_the_shapes_price() -> None:
    wrap, usdc = MAINNET.wrap.contract_id, MAINNET.usdc.contract_id
    pool = next(p for p in deep_pools(MAINNET) if set(p.tokens) == {wrap, usdc})
    reserves = dict(zip(pool.tokens, pool.amounts, strict=True))
    price = Fraction(reserves[usdc] * 10**24, reserves[wrap] * 10**6)
    assert price == Fraction(MAINNET.wrap.price_micro_usd, DOLLAR)
