"""Ref's stable-swap curve as tools/stable_swap.py computes it: Ref's own test vectors, and
the invariants a quote must keep (never drains a pool, more in never gives less out, the fee
never helps, a curve pool is no worse than constant product near balance)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools.pools import RATED_SWAP, STABLE_SWAP, Pool, swap_out
from tools.stable_swap import (
    RATED_DECIMALS,
    STABLE_DECIMALS,
    compute_d,
    rated_swap_out,
    stable_swap_out,
    to_comparable,
)

P24 = 10**24


def stable(amounts: list[int], decimals: list[int]) -> list[int]:
    return [to_comparable(a, d, STABLE_DECIMALS) for a, d in zip(amounts, decimals, strict=True)]


# ref-exchange/src/stable_swap/mod.rs tests (julia_01..05, romeo_01..05): amp 1000, no fee.
JULIA = ([100_000_000_000, 100_000_000_000], [6, 6])
ROMEO = ([10**23, 10**29], [18, 24])


@pytest.mark.parametrize(
    ("pool", "amount_in", "expected"),
    [
        (JULIA, 10_000_000_000, 9_999_495_232),
        (JULIA, 0, 0),
        (JULIA, 1, 0),
        (JULIA, 100_000_000_000, 98_443_663_539),
        (JULIA, 99_999_000_000, 98_443_167_413),
        (ROMEO, 10**22, 9_999_495_232_752_197_989_995_000_000),
        (ROMEO, 10**23, 98_443_663_539_913_153_080_656_000_000),
        (ROMEO, 99_999 * 10**18, 98_443_167_413_204_135_506_296_000_000),
    ],
)
def test_matches_refs_stable_pool_vectors(
    pool: tuple[list[int], list[int]], amount_in: int, expected: int
) -> None:
    amounts, decimals = pool
    assert stable_swap_out(stable(amounts, decimals), decimals, 1000, 0, 0, 1, amount_in) == (
        expected
    )


def test_matches_refs_rated_pool_vector() -> None:
    """rated_swap/mod.rs test_rated_julia_07: rate 2 on the first token, amp 1000, no fee."""
    out = rated_swap_out(
        [100_000 * P24, 200_000 * P24], [24, 24], [2 * P24, P24], 1000, 0, 0, 1, P24
    )
    assert out == 1_999_999_990_004_997_550_200_911


def test_pool_prices_stable_and_rated_kinds_and_refuses_degen() -> None:
    tokens = ("usdt.near", "usdc.near")
    amounts = (100_000 * 10**6, 100_000 * 10**6)
    base = Pool(1, tokens, amounts, 5, STABLE_SWAP, amp=240, decimals=(6, 6))
    assert base.quotable
    assert swap_out(base, "usdt.near", "usdc.near", 1_000 * 10**6) > 999 * 10**6
    rated = Pool(2, tokens, amounts, 5, RATED_SWAP, amp=240, decimals=(6, 6), rates=(P24, P24))
    assert swap_out(rated, "usdt.near", "usdc.near", 10**6) == swap_out(
        base, "usdt.near", "usdc.near", 10**6
    )
    degen = Pool(3, tokens, amounts, 5, "DEGEN_SWAP", amp=240, decimals=(6, 6))
    assert not degen.quotable and swap_out(degen, "usdt.near", "usdc.near", 10**6) == 0
    no_decimals = Pool(4, tokens, amounts, 5, STABLE_SWAP, amp=240)
    assert not no_decimals.quotable


balances = st.lists(st.integers(10**3, 10**12), min_size=2, max_size=4)
decimal_sets = st.sampled_from([6, 8, 18, 24])


@st.composite
def pools(draw: st.DrawFn) -> tuple[list[int], list[int], int, int]:
    whole = draw(balances)
    decimals = [draw(decimal_sets) for _ in whole]
    amounts = [w * 10**d for w, d in zip(whole, decimals, strict=True)]
    amp = draw(st.integers(1, 10_000))
    fee = draw(st.integers(0, 100))
    return amounts, decimals, amp, fee


@given(pools(), st.integers(0, 10**40), st.data())
def test_never_pays_out_the_whole_balance(
    pool: tuple[list[int], list[int], int, int], amount_in: int, data: st.DataObject
) -> None:
    amounts, decimals, amp, fee = pool
    i, j = data.draw(st.permutations(range(len(amounts))))[:2]
    out = stable_swap_out(stable(amounts, decimals), decimals, amp, fee, i, j, amount_in)
    assert 0 <= out < amounts[j]
    if out:  # what stays is at least Ref's minimum reserve (0.001 token)
        assert to_comparable(amounts[j] - out, decimals[j], STABLE_DECIMALS) >= 10**15


@given(pools(), st.integers(1, 10**30), st.integers(1, 10**30), st.data())
def test_more_in_never_gives_less_out(
    pool: tuple[list[int], list[int], int, int], a: int, b: int, data: st.DataObject
) -> None:
    amounts, decimals, amp, fee = pool
    i, j = data.draw(st.permutations(range(len(amounts))))[:2]
    c = stable(amounts, decimals)
    small, large = sorted((a, b))
    out_small = stable_swap_out(c, decimals, amp, fee, i, j, small)
    out_large = stable_swap_out(c, decimals, amp, fee, i, j, large)
    assert out_small <= out_large or out_large == 0  # 0: refused (reserve), never "less"


@given(pools(), st.integers(1, 10**30), st.data())
def test_a_fee_never_gives_more(
    pool: tuple[list[int], list[int], int, int], amount_in: int, data: st.DataObject
) -> None:
    amounts, decimals, amp, fee = pool
    i, j = data.draw(st.permutations(range(len(amounts))))[:2]
    c = stable(amounts, decimals)
    free = stable_swap_out(c, decimals, amp, 0, i, j, amount_in)
    assert stable_swap_out(c, decimals, amp, fee, i, j, amount_in) <= free


@given(st.integers(10**3, 10**9), st.integers(1, 10**6), st.integers(1, 5_000))
def test_a_balanced_pool_pays_at_most_one_for_one(whole: int, part: int, amp: int) -> None:
    """On balanced reserves of equal value a stable pool never pays more than it takes."""
    amount_in = min(part, whole // 2) * 10**6
    c = stable([whole * 10**6, whole * 10**6], [6, 6])
    assert stable_swap_out(c, [6, 6], amp, 0, 0, 1, amount_in) <= amount_in


@given(
    st.integers(10**15, 10**27),
    st.lists(st.integers(1, 1_000), min_size=2, max_size=4),
    st.integers(1, 10_000),
)
def test_the_invariant_lies_between_the_sum_and_product_bounds(
    base: int, weights: list[int], amp: int
) -> None:
    """D of balanced reserves is their sum; of any reserves at most their sum."""
    c = [base * w for w in weights]
    d = compute_d(c, amp, 2**256 - 1)
    assert d <= sum(c) + 1
    balanced = [c[0]] * len(c)
    assert abs(compute_d(balanced, amp, 2**256 - 1) - sum(balanced)) <= 1


@given(st.integers(10**3, 10**9), st.integers(1, 10**9), st.integers(P24 // 10, 10 * P24))
def test_a_rated_pool_prices_by_its_rate(whole: int, amount: int, rate: int) -> None:
    """On reserves of equal value at the rates, a rated pool never pays more value than it
    takes: out * rate_out <= in * rate_in."""
    c = [whole * P24 * P24 // rate, whole * P24]
    amount_in = min(amount, whole // 2) * 10**RATED_DECIMALS // 10**6
    out = rated_swap_out(c, [24, 24], [rate, P24], 100, 0, 0, 1, amount_in)
    assert out * P24 <= amount_in * rate + P24  # at most the value that went in, plus rounding
