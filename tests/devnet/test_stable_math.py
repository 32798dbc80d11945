"""The devnet's stable and rated pools against Ref's own unit tests, and the curve's invariants.

Expected numbers are copied from ref-exchange's unit tests (ref-finance/ref-contracts,
``ref-exchange/src/stable_swap/mod.rs`` ``mod tests`` and ``ref-exchange/src/rated_swap/mod.rs``
``test_rated_julia_07``); each test names the one it reproduces.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from devnet.contract import ContractPanic
from devnet.contracts.stable_math import Curve, Fees
from devnet.contracts.stable_pool import RATED_SWAP, STABLE_SWAP, StablePool, new_pool_state

E18, E24 = 10**18, 10**24


def stable(decimals: list[int], amp: int, fee: int = 0, tokens: list[str] | None = None):
    names = tokens or ["b.near", "c.near"][: len(decimals)]
    return StablePool(new_pool_state(STABLE_SWAP, names, decimals, fee, amp), now_ns=0)


def funded(decimals: list[int], amounts: list[int], amp: int = 1000, fee: int = 0) -> StablePool:
    pool = stable(decimals, amp, fee)
    pool.add_liquidity(amounts, 1, 0)
    return pool


# ---- Ref's unit tests, stable_swap/mod.rs ---------------------------------------------------
JULIA = ([6, 6], [100_000_000_000, 100_000_000_000])
ROMEO = ([18, 24], [100_000_000_000_000_000_000_000, 100_000_000_000_000_000_000_000_000_000])


@pytest.mark.parametrize(
    ("name", "shape", "amount_in", "out", "c_amounts"),
    [
        (
            "test_stable_julia_01",
            JULIA,
            10_000_000_000,
            9_999_495_232,
            [110000000000000000000000, 90000504767247802010005],
        ),
        (
            "test_stable_romeo_01",
            ROMEO,
            10_000_000_000_000_000_000_000,
            9_999_495_232_752_197_989_995_000_000,
            [110000000000000000000000, 90000504767247802010005],
        ),
        ("test_stable_julia_02", JULIA, 0, 0, [10**23, 10**23]),
        ("test_stable_romeo_02", ROMEO, 0, 0, [10**23, 10**23]),
        (
            "test_stable_julia_03",
            JULIA,
            1,
            0,
            [100000000001000000000000, 99999999999000000000001],
        ),
        ("test_stable_romeo_03", ROMEO, 1, 0, [100000000000000000000001, 10**23]),
        (
            "test_stable_julia_04",
            JULIA,
            100_000_000_000,
            98_443_663_539,
            [200000000000000000000000, 1556336460086846919344],
        ),
        (
            "test_stable_romeo_04",
            ROMEO,
            100_000_000_000_000_000_000_000,
            98_443_663_539_913_153_080_656_000_000,
            [200000000000000000000000, 1556336460086846919344],
        ),
        (
            "test_stable_julia_05",
            JULIA,
            99_999_000_000,
            98_443_167_413,
            [199999000000000000000000, 1556832586795864493704],
        ),
        (
            "test_stable_romeo_05",
            ROMEO,
            99_999_000_000_000_000_000_000,
            98_443_167_413_204_135_506_296_000_000,
            [199999000000000000000000, 1556832586795864493704],
        ),
    ],
)
def test_swaps_match_refs_unit_tests(
    name: str,
    shape: tuple[list[int], list[int]],
    amount_in: int,
    out: int,
    c_amounts: list[int],
) -> None:
    pool = funded(*shape)
    assert pool.swap("b.near", amount_in, "c.near", 0, 0).amount_out == out, name
    assert pool.c_amounts == c_amounts, name


def test_stable_basics() -> None:
    """test_stable_basics: amp 10000, 5 and 10 USDC-like; there and back; one-sided liquidity."""
    pool = funded([6, 6], [5_000_000, 10_000_000], amp=10_000)
    out = pool.swap("b.near", 1_000_000, "c.near", 0, 0).amount_out
    assert out == 1_000_031
    assert pool.c_amounts == [6000000000000000000, 8999968751649207661]
    back = pool.swap("c.near", out, "b.near", 0, 0).amount_out
    assert back == 999_999  # "due to precision difference"
    assert pool.c_amounts == [5000000248340316023, 9999999751649207661]
    shares = pool.add_liquidity([5_000_000, 0], 1, 0).shares
    withdraw, burn, _ = pool.burn_for_tokens([5_000_000, 0], 0)
    assert burn == shares
    pool.remove_by_tokens(withdraw, burn, 0, 0)
    shares = pool.add_liquidity([5_000_000, 0], 1, 0).shares
    assert pool.remove_by_shares(shares, [1, 1]) == [2_500_023, 2_500_023]


def test_stable_max_nine_tokens() -> None:
    """test_stable_max: nine 6-decimal tokens; shares are D; a near-total swap."""
    names = [f"t{i}.near" for i in range(9)]
    pool = stable([6] * 9, 1000, tokens=names)
    assert pool.add_liquidity([10**17] * 9, 1, 0).shares == 900_000_000_000 * 10**18
    assert pool.swap("t0.near", 99_999_000_000, "t1.near", 0, 0).amount_out == 99_998_999_999


def test_stable_with_fees() -> None:
    """test_stable_with_fees: total fee 20%, admin fee 10% of it, half the shares back out."""
    pool = stable([6, 6], 10_000, fee=2_000)
    shares = pool.add_liquidity([5_000_000, 10_000_000], 1, 1_000).shares
    pool.swap("b.near", 1_000_000, "c.near", 1, 1_000)
    assert pool.remove_by_shares(shares // 2, [1, 1]) == [2_996_052, 4_593_934]


def test_min_reserve() -> None:
    """test_min_reserve_by_shares and test_stable_add_transfer_remove_liquidity (E69)."""
    pool = funded([18, 18], [E18, E18])
    reserve = E18 // 1000
    pool.remove_by_shares(2 * E18 - 2 * reserve, [0, 0])
    assert pool.c_amounts == [reserve, reserve]
    empty = funded([6, 6], [5_000_000, 10_000_000], amp=10_000)
    with pytest.raises(ContractPanic, match="E69: pool reserved token balance less than"):
        empty.remove_by_shares(empty.state["shares_total_supply"], [1, 1])


def test_rated_julia_07() -> None:
    """rated_swap/mod.rs test_rated_julia_07: stNEAR at rate 2.0, 24 decimals."""
    state = new_pool_state(RATED_SWAP, ["b.near", "c.near"], [24, 24], 0, 1000)
    pool = StablePool(state, now_ns=0, rates=[2 * E24, E24], rates_valid=True)
    pool.add_liquidity([100_000 * E24, 200_000 * E24], 1, 0)
    assert pool.swap("b.near", E24, "c.near", 0, 0).amount_out == 1_999999990004997550200911
    assert pool.c_amounts == [100_001 * E24, 199998_000000009995002449799089]


def test_expired_rates_refuse_swaps_and_first_liquidity() -> None:
    state = new_pool_state(RATED_SWAP, ["b.near", "c.near"], [24, 24], 0, 1000)
    pool = StablePool(state, now_ns=0, rates=[2 * E24, E24], rates_valid=False)
    with pytest.raises(ContractPanic, match="^E120: Rates expired$"):
        pool.add_liquidity([E24, E24], 1, 0)
    pool.c_amounts[:] = [10 * E24, 10 * E24]
    state["shares_total_supply"] = 30 * E24
    with pytest.raises(ContractPanic, match="^E120: Rates expired$"):
        pool.swap("b.near", E24, "c.near", 0, 0)
    # get_rated_return prices at given rates whatever their age, as Ref's does
    at_par = pool.rated_return("b.near", E24, "c.near", [E24, E24])
    assert 0.99 * E24 < at_par < E24
    assert pool.rated_return("b.near", E24, "c.near", None) > 1.9 * E24  # the stored 2.0


# ---- amplification ----------------------------------------------------------------------------
def test_higher_amp_pays_closer_to_one_to_one() -> None:
    outs = []
    for amp in (1, 10, 100, 1000, 10_000):
        pool = funded([6, 6], [1_000_000 * 10**6, 1_000_000 * 10**6], amp=amp)
        outs.append(pool.swap("b.near", 100_000 * 10**6, "c.near", 0, 0).amount_out)
    assert outs == sorted(outs) and len(set(outs)) == len(outs)
    constant_product = 100_000 * 10**6 * 1_000_000 // 1_100_000  # x*y=k: 90,909 out
    assert constant_product < outs[0] < 97_000 * 10**6  # even A=1 is flatter than x*y=k
    assert outs[-1] > 99_999 * 10**6


# ---- fees ---------------------------------------------------------------------------------------
def test_fee_and_admin_fee_split_as_ref() -> None:
    """Total fee on dy (the output before fee), the admin part of it stays in the pool as shares.

    18-decimal tokens, so comparable units are token units and nothing rounds in between."""
    no_fee = funded([18, 18], [10**24, 10**24])
    dy_less_one = no_fee.swap("b.near", 10**21, "c.near", 0, 0).amount_out
    pool = funded([18, 18], [10**24, 10**24], fee=30)
    supply = pool.state["shares_total_supply"]
    outcome = pool.swap("b.near", 10**21, "c.near", 0, 2_000)
    assert outcome.total_fee == dy_less_one * 30 // 10_000
    assert outcome.amount_out == dy_less_one - outcome.total_fee
    assert outcome.admin_fee == outcome.total_fee * 2_000 // 10_000
    assert outcome.admin_shares > 0
    assert pool.state["shares_total_supply"] == supply + outcome.admin_shares
    # the pool keeps the input and loses exactly what it paid out: the admin fee, taken out of
    # the reserve, comes straight back in as the exchange's liquidity
    assert pool.amounts() == [10**24 + 10**21, 10**24 - outcome.amount_out]


# ---- invariants ---------------------------------------------------------------------------------
amounts = st.integers(min_value=10**6, max_value=10**15)  # 6-decimal token units


@settings(max_examples=60, deadline=None)
@given(
    reserves=st.tuples(amounts, amounts),
    amp=st.sampled_from([1, 5, 100, 2_000, 100_000]),
    fee=st.sampled_from([0, 1, 4, 30, 100]),
    admin=st.sampled_from([0, 2_000, 8_000]),
    swaps=st.lists(
        st.tuples(st.booleans(), st.integers(min_value=1, max_value=10**15)), min_size=1, max_size=6
    ),
)
def test_swaps_create_no_value_and_never_lower_d(
    reserves: tuple[int, int],
    amp: int,
    fee: int,
    admin: int,
    swaps: list[tuple[bool, int]],
) -> None:
    pool = stable([6, 6], amp, fee)
    pool.add_liquidity(list(reserves), 1, 0)
    curve = Curve(amp)
    for forward, amount in swaps:
        i, o = (0, 1) if forward else (1, 0)
        tokens = pool.tokens
        before = list(pool.c_amounts)
        d_before = curve.compute_d(before)
        try:
            outcome = pool.swap(tokens[i], amount, tokens[o], 0, admin)
        except ContractPanic as exc:  # drained below MIN_RESERVE: Ref refuses the swap too
            assert exc.message.startswith(("E69", "E70"))
            pool.c_amounts[:] = before
            continue
        paid_c = before[o] - pool.c_amounts[o]  # what left the pool, in comparable units
        assert pool.c_amounts[i] == before[i] + amount * 10**12
        # the user gets what left the pool, rounded down to the token's units: nothing more
        assert 0 <= paid_c - outcome.amount_out * 10**12 < 10**12
        # the pool's D (its value on the curve) never falls once there is a fee; without one it
        # may wobble by the Newton iteration's precision of 1 (Ref: "precision of 1")
        assert curve.compute_d(pool.c_amounts) >= d_before - (0 if fee else 1)


@settings(max_examples=40, deadline=None)
@given(
    reserves=st.tuples(amounts, amounts),
    amp=st.sampled_from([1, 100, 2_000]),
    fee=st.sampled_from([0, 5, 30]),
    amount=amounts,
)
def test_round_trip_never_profits(
    reserves: tuple[int, int], amp: int, fee: int, amount: int
) -> None:
    pool = stable([6, 6], amp, fee)
    pool.add_liquidity(list(reserves), 1, 0)
    try:
        out = pool.swap("b.near", amount, "c.near", 0, 0).amount_out
        back = pool.swap("c.near", out, "b.near", 0, 0).amount_out
    except ContractPanic as exc:
        assert exc.message.startswith(("E69", "E70"))
        return
    assert back <= amount


def invariant_excess(c_amounts: list[int], amp: int, d: int) -> int:
    """The stable-swap invariant at ``d``, times ``n^n * prod(x)``: negative below the exact D,
    positive above it (it increases with ``d``), so D can be compared exactly in integers."""
    n = len(c_amounts)
    ann, scale = amp * n**n, n**n
    for amount in c_amounts:
        scale *= amount
    return d ** (n + 1) + (ann - 1) * d * scale - ann * sum(c_amounts) * scale


def exact_d_floor(c_amounts: list[int], amp: int) -> int:
    """floor of the exact D (the real root), by bisection on the invariant's sign (D <= sum)."""
    low, high = 0, sum(c_amounts)
    while low < high:
        middle = (low + high + 1) // 2
        if invariant_excess(c_amounts, amp, middle) <= 0:
            low = middle
        else:
            high = middle - 1
    return low


@settings(max_examples=40, deadline=None)
@given(
    reserves=st.tuples(amounts, amounts),
    deposit=st.tuples(st.integers(0, 10**14), st.integers(0, 10**14)),
    fee=st.sampled_from([0, 5, 30]),
)
# Ref's own Newton D of the doubled pool is 2 units above twice the first (2*D0 + 2), so the
# shares minted for an exact copy of the pool are 2 too many, and taking them out leaves 1 unit
# of D less behind: Ref's integer D, not a rounding of ours (see the docstring)
@example(reserves=(34_127_568_301_906, 9_085_102), deposit=(34_127_568_301_906, 9_085_102), fee=0)
def test_liquidity_in_and_out_never_dilutes_a_share(
    reserves: tuple[int, int], deposit: tuple[int, int], fee: int
) -> None:
    """Adding any mix and then removing those shares leaves the other shares' D no lower than
    Ref's integer math can promise.

    Each rounding step favours the pool, exactly as in Ref (``stable_swap/math.rs`` and
    ``mod.rs``): shares are minted as ``supply * (D1 - D0) / D0`` rounded down, and a removal
    pays each balance ``c * shares / supply`` rounded down. What is not exact is D itself: Ref
    solves it by Newton's iteration from ``sum(x)``, rounding each step down and stopping once a
    step moves it by at most 1, so it lands a few units off the real root (above it by several on
    a lopsided pool). Minting trusts that D: with ``supply1 <= supply0 * D1 / D0`` and a removal
    that leaves each balance at least pro rata, the exact D left is at least
    ``exact(D1) * D0 / D1 >= D0 - (D1 - exact(D1))``, so the round trip costs the other shares at
    most the solver's overshoot on the pool after the deposit: the bound asserted, in exact D.
    (With a fee the shares come from a D the fee lowers by far more than that.)
    """
    pool = stable([6, 6], 200, fee)
    pool.add_liquidity(list(reserves), 1, 0)
    if deposit == (0, 0):
        return
    curve = Curve(200)
    supply0, c0 = pool.state["shares_total_supply"], list(pool.c_amounts)
    d0 = curve.compute_d(c0)
    try:
        shares = pool.add_liquidity(list(deposit), 0, 0).shares
    except ContractPanic as exc:  # a deposit so lopsided its fee exceeds a balance: Ref's E67
        assert exc.message.startswith("E67") and fee > 0
        return
    supply1, c1 = pool.state["shares_total_supply"], list(pool.c_amounts)
    d1 = curve.compute_d(c1)
    assert d1 * supply0 >= d0 * supply1  # minting never gives more than the D brought in
    try:
        pool.remove_by_shares(shares, [0, 0])
    except ContractPanic as exc:
        assert exc.message.startswith("E69")
        return
    supply2, c2 = pool.state["shares_total_supply"], pool.c_amounts
    assert supply2 == supply0
    for before, after in zip(c1, c2, strict=True):  # no balance paid out above pro rata
        assert after * supply1 >= before * supply2
    # the other shares keep, in exact D, the D0 they were priced at less D1's overshoot
    overshoot = max(d1 - exact_d_floor(c1, 200), 0)
    assert exact_d_floor(c2, 200) >= d0 - overshoot


def test_curve_d_is_sum_for_balanced_pool() -> None:
    assert Curve(100).compute_d([5 * E18, 5 * E18]) == 10 * E18
    assert Curve(100).compute_d([0, 0]) == 0


def test_fees_normalized_as_ref() -> None:
    # trade_fee * n / (4 * (n - 1)) bps of the difference
    assert Fees(30).normalized(2, 10_000) == 10_000 * (30 * 2 // 4) // 10_000
    assert Fees(30).normalized(3, 10**6) == 10**6 * (30 * 3 // 8) // 10_000
