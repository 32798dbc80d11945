"""The stable-swap invariant with amplification, in integers, as Ref's stable and rated pools do.

Ref (ref-exchange ``stable_swap/math.rs`` and ``rated_swap/math.rs``, after Curve and Saber) keeps
every pool amount in a "comparable" unit (18 decimals for stable pools, 24 for rated ones), solves
``A*n^n*sum(x) + D = A*D*n^n + D^(n+1)/(n^n*prod(x))`` by Newton iteration to a precision of 1, and
rounds every division down. A rated pool multiplies each comparable amount by its token's rate
(24 decimals) before the curve and divides the results back. Every step here rounds as Ref does,
so outputs agree to the unit; a step where Ref's checked arithmetic gives up raises
:class:`CurveError` and the caller panics with Ref's message for that operation.
"""

from __future__ import annotations

from dataclasses import dataclass

FEE_DIVISOR = 10_000
MIN_AMP = 1
MAX_AMP = 1_000_000
RATE_PRECISION = 10**24  # a rate of 1.0 (rated pools)
_ITERATIONS = 256
_U128_MAX = 2**128 - 1


class CurveError(Exception):
    """The curve cannot be solved for these balances (Ref's checked arithmetic returns None)."""


def _div(numerator: int, denominator: int) -> int:
    if denominator <= 0 or numerator < 0:
        raise CurveError
    return numerator // denominator


def _sub(a: int, b: int) -> int:
    if b > a:
        raise CurveError
    return a - b


def as_u128(value: int) -> int:
    """Ref's ``as_u128`` on a wide integer: a value past u128 is a failure, never a wrap."""
    if value > _U128_MAX:
        raise CurveError
    return value


@dataclass(frozen=True)
class Fees:
    """``trade_fee`` (the pool's total fee), ``admin_fee`` (the exchange's part of it), in bps."""

    trade_fee: int
    admin_fee: int = 0

    def trade(self, amount: int) -> int:
        return amount * self.trade_fee // FEE_DIVISOR

    def admin(self, amount: int) -> int:
        return amount * self.admin_fee // FEE_DIVISOR

    def normalized(self, n_coins: int, amount: int) -> int:
        """The fee on an imbalanced deposit or withdrawal: ``fee*n/(4*(n-1))`` of the difference."""
        adjusted = self.trade_fee * n_coins // (4 * (n_coins - 1))
        return amount * adjusted // FEE_DIVISOR


NO_FEES = Fees(0, 0)


@dataclass(frozen=True)
class SwapResult:
    """A swap in comparable units: the pool's new in/out balances, the output and the fees."""

    new_source_amount: int
    new_destination_amount: int
    amount_swapped: int
    admin_fee: int
    fee: int


@dataclass(frozen=True)
class Amp:
    """The amplification coefficient, ramping linearly from ``initial`` to ``target``."""

    initial: int
    target: int
    start_ts: int = 0
    stop_ts: int = 0

    def at(self, now_ns: int) -> int:
        if now_ns >= self.stop_ts:
            return self.target
        time_range = _sub(self.stop_ts, self.start_ts)
        time_delta = _sub(now_ns, self.start_ts)
        if self.target >= self.initial:
            return self.initial + _div((self.target - self.initial) * time_delta, time_range)
        return _sub(self.initial, _div((self.initial - self.target) * time_delta, time_range))


class Curve:
    """Ref's StableSwap (``rates`` None) or RatedSwap (``rates``: one 24-decimal rate per token)."""

    def __init__(self, amp: int, rates: list[int] | None = None) -> None:
        self.amp = amp
        self.rates = rates

    # ---- rates ----------------------------------------------------------------------------
    def _rated(self, amounts: list[int]) -> list[int]:
        if self.rates is None:
            return amounts
        return [a * r // RATE_PRECISION for a, r in zip(amounts, self.rates, strict=True)]

    def _mul_rate(self, amount: int, index: int) -> int:
        if self.rates is None:
            return amount
        return amount * self.rates[index] // RATE_PRECISION

    def _div_rate(self, amount: int, index: int) -> int:
        if self.rates is None:
            return amount
        return as_u128(_div(amount * RATE_PRECISION, self.rates[index]))

    # ---- the invariant --------------------------------------------------------------------
    def _ann(self, n: int) -> int:
        return self.amp * n**n

    def compute_d(self, c_amounts: list[int]) -> int:
        """D for these (already rated) comparable amounts; 0 for an empty pool."""
        n = len(c_amounts)
        total = sum(c_amounts)
        if total == 0:
            return 0
        ann = self._ann(n)
        leverage = total * ann
        d = total
        for _ in range(_ITERATIONS):
            d_prod = d
            for amount in c_amounts:
                d_prod = _div(d_prod * d, amount * n)
            d_prev = d
            d = _div((d_prod * n + leverage) * d_prev, d_prev * (ann - 1) + (n + 1) * d_prod)
            if abs(d - d_prev) <= 1:
                break
        return d

    def d_of(self, c_amounts: list[int]) -> int:
        """D of a pool's stored comparable amounts (rates applied for a rated pool)."""
        return self.compute_d(self._rated(c_amounts))

    def compute_y(self, x_new: int, c_amounts: list[int], index_x: int, index_y: int) -> int:
        """The balance of token ``index_y`` that keeps D when token ``index_x`` holds ``x_new``."""
        n = len(c_amounts)
        ann = self._ann(n)
        d = self.compute_d(c_amounts)
        s = x_new
        c = _div(d * d, x_new)
        for index, amount in enumerate(c_amounts):
            if index not in (index_x, index_y):
                s += amount
                c = _div(c * d, amount)
        c = _div(c * d, ann * n**n)
        b = _div(d, ann) + s
        y = d
        for _ in range(_ITERATIONS):
            y_prev = y
            y = _div(y * y + c, _sub(2 * y + b, d))
            if abs(y - y_prev) <= 1:
                break
        return y

    # ---- operations -----------------------------------------------------------------------
    def swap_to(
        self, index_in: int, c_amount_in: int, index_out: int, c_amounts: list[int], fees: Fees
    ) -> SwapResult:
        """Swap ``c_amount_in`` (comparable units): Curve's ``dy - 1``, then the fees on ``dy``."""
        rated = self._rated(c_amounts)
        rated_in = self._mul_rate(c_amount_in, index_in)
        y = as_u128(self.compute_y(rated_in + rated[index_in], rated, index_in, index_out))
        dy = _sub(rated[index_out], y)
        dy = dy - 1 if dy > 0 else 0  # "just in case there were some rounding errors"
        trade_fee = fees.trade(dy)
        admin_fee = fees.admin(trade_fee)
        amount_swapped = dy - trade_fee
        new_destination = _sub(_sub(rated[index_out], amount_swapped), admin_fee)
        new_source = rated[index_in] + rated_in
        return SwapResult(
            self._div_rate(new_source, index_in),
            self._div_rate(new_destination, index_out),
            self._div_rate(amount_swapped, index_out),
            self._div_rate(admin_fee, index_out),
            self._div_rate(trade_fee, index_out),
        )

    def lp_for_deposit(
        self, deposit: list[int], old: list[int], supply: int, fees: Fees
    ) -> tuple[int, int]:
        """(shares to mint, shares kept as fee) for a deposit into a pool holding ``old``."""
        n = len(old)
        d0 = self.d_of(old)
        new = [o + a for o, a in zip(old, deposit, strict=True)]
        d1 = self.d_of(new)
        if d1 <= d0:
            raise CurveError
        for i in range(n):
            ideal = as_u128(_div(d1 * old[i], d0))
            new[i] = _sub(new[i], fees.normalized(n, abs(ideal - new[i])))
        d2 = self.d_of(new)
        mint = as_u128(_div(supply * _sub(d2, d0), d0))
        diff = as_u128(_div(supply * (d1 - d0), d0))
        return mint, diff - mint

    def lp_for_withdraw(
        self, withdraw: list[int], old: list[int], supply: int, fees: Fees
    ) -> tuple[int, int]:
        """(shares to burn, of which fee) for taking ``withdraw`` out of a pool holding ``old``."""
        n = len(old)
        d0 = self.d_of(old)
        new = [_sub(o, a) for o, a in zip(old, withdraw, strict=True)]
        d1 = self.d_of(new)
        if d1 >= d0:
            raise CurveError
        for i in range(n):
            ideal = as_u128(_div(d1 * old[i], d0))
            new[i] = _sub(new[i], fees.normalized(n, abs(ideal - new[i])))
        d2 = self.d_of(new)
        burn = as_u128(_div(supply * _sub(d0, d2), d0))
        diff = as_u128(_div(supply * (d0 - d1), d0))
        return burn, burn - diff
