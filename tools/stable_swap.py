"""Ref's stable-swap invariant with amplification, for stable and rated pools, in integers.

Why here: a stable pool (USDt/USDC/...) prices nothing like a constant-product pool, so a quote
must follow the curve the exchange itself computes, step for step and with the same rounding, or
it is either too optimistic (refused by ``min_amount_out``) or too timid (routes missed).

What Ref does (ref-exchange/src/stable_swap, rated_swap), reproduced here:

* Amounts are scaled to comparable precision first: 18 decimals for stable pools (a token with
  more decimals is divided, with fewer multiplied), 24 for rated pools (always multiplied).
  ``c_amount_to_amount`` rounds down.
* Rated pools multiply each comparable amount by its rate (24-decimal fixed point, rounded down)
  before the curve and divide the result back by the output's rate (rounded down).
* D is found by Newton's iteration from ``sum(x)`` (at most 256 steps, stop when it moves by at
  most 1); y likewise from D. Every division rounds down.
* ``dy = x_out - y - 1`` (0 when that would be negative after the -1); the trade fee is
  ``dy * total_fee / 10_000`` rounded down; the user gets ``dy - fee``.
* The swap fails (so it is worth 0 here) when an intermediate overflows Ref's integer width
  (U256 for stable, U384 for rated; u128 where Ref keeps u128), when a balance is 0, or when the
  output balance would fall below Ref's minimum reserve (0.001 of a comparable token).

The admin fee only splits the trade fee, so it does not change what the user receives; the
minimum-reserve check counts it at its largest possible value, so a swap at the edge is refused
here rather than by the exchange.
"""

from __future__ import annotations

from collections.abc import Sequence

FEE_DIVISOR = 10_000
STABLE_DECIMALS = 18
RATED_DECIMALS = 24
RATE_PRECISION = 10**RATED_DECIMALS
ITERATIONS = 256
U128 = 2**128 - 1
U256 = 2**256 - 1
U384 = 2**384 - 1


class _Refused(Exception):
    """The exchange would panic on this swap (overflow, division by zero, reserve too low)."""


def _fits(value: int, bound: int) -> int:
    if value < 0 or value > bound:
        raise _Refused
    return value


def _div(numerator: int, denominator: int) -> int:
    if denominator <= 0:
        raise _Refused
    return numerator // denominator


def to_comparable(amount: int, decimals: int, target: int) -> int:
    """Ref's ``amount_to_c_amount``: to ``target`` decimals (down-scaling rounds down)."""
    if decimals <= target:
        return amount * 10 ** (target - decimals)
    return amount // 10 ** (decimals - target)


def from_comparable(c_amount: int, decimals: int, target: int) -> int:
    """Ref's ``c_amount_to_amount``: back to the token's decimals, rounded down."""
    if decimals <= target:
        return c_amount // 10 ** (target - decimals)
    return _fits(c_amount * 10 ** (decimals - target), U128)


def compute_d(c_amounts: Sequence[int], amp: int, wide: int) -> int:
    """The invariant D for balances in comparable precision (Ref's ``compute_d``)."""
    n = len(c_amounts)
    sum_x = _fits(sum(c_amounts), U128)
    if sum_x == 0:
        return 0
    ann = _fits(amp * n**n, U128)
    d = sum_x
    for _ in range(ITERATIONS):
        d_prod = d
        for c_amount in c_amounts:
            d_prod = _div(_fits(d_prod * d, wide), _fits(c_amount * n, U128))
        d_prev = d
        leverage = _fits(sum_x * ann, wide)
        numerator = _fits(d_prev * _fits(_fits(d_prod * n, wide) + leverage, wide), wide)
        denominator = _fits(
            _fits(d_prev * _fits(ann - 1, U128), wide) + _fits(d_prod * (n + 1), wide), wide
        )
        d = _div(numerator, denominator)
        if abs(d - d_prev) <= 1:
            break
    return d


def compute_y(
    x_c_amount: int, c_amounts: Sequence[int], index_x: int, index_y: int, amp: int, wide: int
) -> int:
    """The new balance of token ``index_y`` once token ``index_x`` holds ``x_c_amount``."""
    n = len(c_amounts)
    ann = _fits(amp * n**n, U128)
    d = compute_d(c_amounts, amp, wide)
    s = x_c_amount
    c = _div(_fits(d * d, wide), x_c_amount)
    for index, c_amount in enumerate(c_amounts):
        if index not in (index_x, index_y):
            s = _fits(s + c_amount, U128)
            c = _div(_fits(c * d, wide), c_amount)
    c = _div(_fits(c * d, wide), _fits(ann * n**n, wide))
    b = _fits(_div(d, ann) + s, wide)
    y = d
    for _ in range(ITERATIONS):
        y_prev = y
        numerator = _fits(_fits(y * y, wide) + c, wide)
        denominator = _fits(_fits(y * 2, wide) + b, wide) - d
        y = _div(numerator, _fits(denominator, wide))
        if abs(y - y_prev) <= 1:
            break
    return y


def _curve_out(
    c_in: int, c_amounts: Sequence[int], i: int, j: int, amp: int, fee_bps: int, wide: int
) -> tuple[int, int]:
    """(what the user gets, the output balance left at worst) in comparable precision."""
    y = _fits(compute_y(_fits(c_in + c_amounts[i], U128), c_amounts, i, j, amp, wide), U128)
    if c_amounts[j] < y:
        raise _Refused
    dy = max(0, c_amounts[j] - y - 1)
    fee = dy * fee_bps // FEE_DIVISOR
    out = dy - fee
    return out, c_amounts[j] - out - fee


def stable_swap_out(
    c_amounts: Sequence[int],
    decimals: Sequence[int],
    amp: int,
    fee_bps: int,
    i: int,
    j: int,
    amount_in: int,
) -> int:
    """What ``amount_in`` (base units of token ``i``) buys of token ``j`` in a stable pool whose
    balances are ``c_amounts`` (18-decimal comparable precision); 0 where Ref would refuse."""
    try:
        c_in = _fits(to_comparable(amount_in, decimals[i], STABLE_DECIMALS), U128)
        out, left = _curve_out(c_in, c_amounts, i, j, amp, fee_bps, U256)
        if left < 10**STABLE_DECIMALS // 1_000:
            return 0
        return from_comparable(out, decimals[j], STABLE_DECIMALS)
    except _Refused:
        return 0


def _mul_rate(amount: int, rate: int) -> int:
    return _fits(_fits(amount * rate, U384) // RATE_PRECISION, U128)


def _div_rate(amount: int, rate: int) -> int:
    return _fits(_div(_fits(amount * RATE_PRECISION, U384), rate), U128)


def rated_swap_out(
    c_amounts: Sequence[int],
    decimals: Sequence[int],
    rates: Sequence[int],
    amp: int,
    fee_bps: int,
    i: int,
    j: int,
    amount_in: int,
) -> int:
    """As :func:`stable_swap_out` for a rated pool: balances in 24-decimal precision, each
    weighted by its rate (24-decimal fixed point) on the curve."""
    try:
        if decimals[i] > RATED_DECIMALS or decimals[j] > RATED_DECIMALS:
            return 0
        c_in = _fits(to_comparable(amount_in, decimals[i], RATED_DECIMALS), U128)
        rated_in = _mul_rate(c_in, rates[i])
        rated = [_mul_rate(a, r) for a, r in zip(c_amounts, rates, strict=True)]
        out, left = _curve_out(rated_in, rated, i, j, amp, fee_bps, U384)
        if _div_rate(left, rates[j]) < RATE_PRECISION // 1_000:
            return 0
        return from_comparable(_div_rate(out, rates[j]), decimals[j], RATED_DECIMALS)
    except _Refused:
        return 0
