"""Ref's stable-swap and rated-swap pools: stored state, liquidity, swaps and views.

A pool is a JSON dict in the exchange's storage (``kind`` STABLE_SWAP or RATED_SWAP). Amounts are
kept in Ref's comparable unit (``c_amounts``: 18 decimals for stable pools, 24 for rated ones) and
shown in each token's own decimals (``amounts``, rounded down). :class:`StablePool` wraps one such
dict for one call: it applies Ref's rules and error texts and changes the dict in place, while the
exchange moves deposits, records per-account shares and prints the logs Ref prints, in its order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devnet.contract import ContractPanic, ensure
from devnet.contracts.stable_math import (
    FEE_DIVISOR,
    MAX_AMP,
    MIN_AMP,
    NO_FEES,
    Amp,
    Curve,
    CurveError,
    Fees,
)
from devnet.contracts.token_rates import E120

STABLE_SWAP = "STABLE_SWAP"
RATED_SWAP = "RATED_SWAP"
TARGET_DECIMALS = {STABLE_SWAP: 18, RATED_SWAP: 24}
MIN_DECIMAL, MAX_DECIMAL = 1, 24

E60 = "E60: illegal decimal"
E61 = "E61: illegal amp"
E62 = "E62: illegal fee"
E63 = "E63: missing token"
E64 = "E64: illegal tokens count"
E65 = "E65: init token balance should be non-zero"
E66 = "E66: encounter err when calc invariant D"
E67 = "E67: encounter err when calc lp shares"
E68 = "E68: slippage error"
E69 = "E69: pool reserved token balance less than MIN_RESERVE"
E70 = "E70: encounter err when calc swap out"
E71 = "E71: illegal swap with duplicated tokens"
E81 = "E81: amp is currently in lock"
E82 = "E82: insufficient ramp time"
E83 = "E83: invalid amp factor"
E84 = "E84: amp factor change is too large"
MIN_RAMP_DURATION_NS = 86_400 * 10**9
MAX_AMP_CHANGE = 10
NOT_IMPLEMENTED = "not implemented"  # Rust's unimplemented!(): a stable call on the wrong kind


def new_pool_state(
    kind: str, tokens: list[str], decimals: list[int], fee: int, amp_factor: int
) -> dict[str, Any]:
    """A new empty pool, checked as Ref's StableSwapPool::new / RatedSwapPool::new check it."""
    for decimal in decimals:
        ensure(MIN_DECIMAL <= decimal <= MAX_DECIMAL, E60)
    ensure(MIN_AMP <= amp_factor <= MAX_AMP, E61)
    ensure(fee < FEE_DIVISOR, E62)
    return {
        "kind": kind,
        "token_account_ids": list(tokens),
        "decimals": list(decimals),
        "c_amounts": [0] * len(tokens),
        "total_fee": fee,
        "shares_total_supply": 0,
        "init_amp_factor": amp_factor,
        "target_amp_factor": amp_factor,
        "init_amp_time": 0,
        "stop_amp_time": 0,
    }


def _solve(error: str, compute: Callable[[], Any]) -> Any:
    try:
        return compute()
    except CurveError:
        raise ContractPanic(error) from None


@dataclass(frozen=True)
class SwapOutcome:
    """One swap in token units, and the pool shares the admin fee minted for the exchange
    (``admin_distributed``: whether there was an admin fee to turn into shares)."""

    amount_out: int
    total_fee: int
    admin_fee: int
    admin_shares: int
    admin_distributed: bool = False


@dataclass(frozen=True)
class LiquidityOutcome:
    """Shares minted to (or burnt from) the provider, the fee part, and the exchange's share."""

    shares: int
    fee_part: int
    admin_shares: int


class StablePool:
    """One stable or rated pool's state for one call, at block time ``now_ns``.

    ``rates`` are the rated pool's token rates (None for a stable pool) and ``rates_valid``
    whether none of them has expired.
    """

    def __init__(
        self,
        state: dict[str, Any],
        now_ns: int,
        rates: list[int] | None = None,
        rates_valid: bool = True,
    ) -> None:
        self.state = state
        self.kind: str = state["kind"]
        self.tokens: list[str] = state["token_account_ids"]
        self.c_amounts: list[int] = state["c_amounts"]
        self.now_ns = now_ns
        self.rates = rates
        self.rates_valid = rates_valid
        target = TARGET_DECIMALS[self.kind]
        self._shift = [target - d for d in state["decimals"]]  # negative: token finer than unit
        self.min_reserve = 10**target // 1_000

    # ---- units ----------------------------------------------------------------------------
    def to_c(self, amount: int, index: int) -> int:
        shift = self._shift[index]
        return amount * 10**shift if shift >= 0 else amount // 10**-shift

    def from_c(self, c_amount: int, index: int) -> int:
        shift = self._shift[index]
        return c_amount // 10**shift if shift >= 0 else c_amount * 10**-shift

    def amounts(self) -> list[int]:
        return [self.from_c(c, i) for i, c in enumerate(self.c_amounts)]

    def index(self, token: str) -> int:
        ensure(token in self.tokens, E63)
        return self.tokens.index(token)

    # ---- curve ----------------------------------------------------------------------------
    def amp(self) -> int:
        state = self.state
        return Amp(
            state["init_amp_factor"],
            state["target_amp_factor"],
            state["init_amp_time"],
            state["stop_amp_time"],
        ).at(self.now_ns)

    def ramp_amp(self, future_amp: int, future_time_ns: int) -> None:
        """Start moving the amplification linearly to ``future_amp`` by ``future_time_ns``."""
        now, state = self.now_ns, self.state
        ensure(now >= state["init_amp_time"] + MIN_RAMP_DURATION_NS, E81)
        ensure(future_time_ns >= now + MIN_RAMP_DURATION_NS, E82)
        amp = _solve(E66, self.amp)
        ensure(0 < future_amp < MAX_AMP, E83)
        ensure(
            amp <= future_amp <= amp * MAX_AMP_CHANGE
            or (future_amp < amp and future_amp * MAX_AMP_CHANGE >= amp),
            E84,
        )
        state["init_amp_factor"], state["init_amp_time"] = amp, now
        state["target_amp_factor"], state["stop_amp_time"] = future_amp, future_time_ns

    def stop_ramp_amp(self) -> None:
        amp = _solve(E65, self.amp)
        state = self.state
        state["init_amp_factor"] = state["target_amp_factor"] = amp
        state["init_amp_time"] = state["stop_amp_time"] = self.now_ns

    def _curve(self) -> Curve:
        return Curve(self.amp(), self.rates)

    def _fees(self, admin_fee_bps: int) -> Fees:
        return Fees(self.state["total_fee"], admin_fee_bps)

    def _assert_rates_valid(self) -> None:
        if self.kind == RATED_SWAP:
            ensure(self.rates_valid, E120)

    def _assert_min_reserve(self, c_amount: int) -> None:
        ensure(c_amount >= self.min_reserve, E69)

    def _mint(self, shares: int) -> None:
        self.state["shares_total_supply"] += shares

    # ---- swaps ----------------------------------------------------------------------------
    def swap(
        self, token_in: str, amount_in: int, token_out: str, min_amount_out: int, admin_bps: int
    ) -> SwapOutcome:
        """Ref's stable/rated ``swap``: the output, E68 under ``min_amount_out``, E69 if it would
        leave less than MIN_RESERVE, and the admin fee added back as exchange shares."""
        ensure(token_in != token_out, E71)
        i, o = self.index(token_in), self.index(token_out)
        self._assert_rates_valid()
        curve = self._curve()
        result = _solve(
            E70,
            lambda: curve.swap_to(
                i, self.to_c(amount_in, i), o, self.c_amounts, self._fees(admin_bps)
            ),
        )
        amount_out = self.from_c(result.amount_swapped, o)
        ensure(amount_out >= min_amount_out, E68)
        self.c_amounts[i] = result.new_source_amount
        self.c_amounts[o] = result.new_destination_amount
        self._assert_min_reserve(self.c_amounts[o])
        admin_shares, distributed = 0, admin_bps > 0 and result.admin_fee > 0
        if distributed:
            deposit = [0] * len(self.tokens)
            deposit[o] = result.admin_fee
            supply = self.state["shares_total_supply"]
            admin_shares, _ = _solve(
                E67, lambda: curve.lp_for_deposit(deposit, self.c_amounts, supply, NO_FEES)
            )
            self.c_amounts[o] += result.admin_fee
            self._mint(admin_shares)
        return SwapOutcome(
            amount_out,
            self.from_c(result.fee, o),
            self.from_c(result.admin_fee, o),
            admin_shares,
            distributed,
        )

    def rated_return(
        self, token_in: str, amount_in: int, token_out: str, rates: list[int] | None
    ) -> int:
        """Ref's ``get_rated_return``: the output at the given (or stored) rates, unchecked."""
        ensure(token_in != token_out, E71)
        i, o = self.index(token_in), self.index(token_out)
        curve = Curve(self.amp(), rates if rates is not None else self.rates)
        result = _solve(
            E70,
            lambda: curve.swap_to(i, self.to_c(amount_in, i), o, self.c_amounts, self._fees(0)),
        )
        return self.from_c(result.amount_swapped, o)

    # ---- liquidity ------------------------------------------------------------------------
    def add_liquidity(
        self, amounts: list[int], min_shares: int, admin_bps: int
    ) -> LiquidityOutcome:
        """Ref's ``add_stable_liquidity``: any mix of tokens; an imbalanced one pays a fee."""
        ensure(len(amounts) == len(self.tokens), E64)
        deposit = [self.to_c(a, i) for i, a in enumerate(amounts)]
        supply = self.state["shares_total_supply"]
        curve = self._curve()
        if supply == 0:
            self._assert_rates_valid()
            for c_amount in deposit:
                ensure(c_amount > 0, E65)
            shares, fee_part = _solve(E66, lambda: curve.d_of(deposit)), 0
        else:
            shares, fee_part = _solve(
                E67,
                lambda: curve.lp_for_deposit(
                    deposit, self.c_amounts, supply, self._fees(admin_bps)
                ),
            )
        ensure(shares >= min_shares, E68)
        for i, c_amount in enumerate(deposit):
            self.c_amounts[i] += c_amount
        self._mint(shares)
        admin_shares = fee_part * admin_bps // FEE_DIVISOR if fee_part > 0 else 0
        self._mint(admin_shares)
        return LiquidityOutcome(shares, fee_part, admin_shares)

    def remove_by_shares(self, shares: int, min_amounts: list[int]) -> list[int]:
        """Ref's ``remove_liquidity`` on a stable pool: a balanced, fee-free withdrawal."""
        supply = self.state["shares_total_supply"]
        out = []
        for i in range(len(self.tokens)):
            c_out = self.c_amounts[i] * shares // supply
            self.c_amounts[i] -= c_out
            self._assert_min_reserve(self.c_amounts[i])
            amount = self.from_c(c_out, i)
            ensure(amount >= min_amounts[i], E68)
            out.append(amount)
        self.state["shares_total_supply"] = supply - shares
        return out

    def burn_for_tokens(self, amounts: list[int], admin_bps: int) -> tuple[list[int], int, int]:
        """(comparable amounts, shares to burn, fee part) of Ref's ``remove_liquidity_by_tokens``,
        checked before the provider's holding is."""
        ensure(len(amounts) == len(self.tokens), E64)
        withdraw = [self.to_c(a, i) for i, a in enumerate(amounts)]
        for i, c_amount in enumerate(withdraw):
            self._assert_min_reserve(max(self.c_amounts[i] - c_amount, 0))
        self._assert_rates_valid()
        curve = self._curve()
        supply = self.state["shares_total_supply"]
        burn, fee_part = _solve(
            E67,
            lambda: curve.lp_for_withdraw(withdraw, self.c_amounts, supply, self._fees(admin_bps)),
        )
        return withdraw, burn, fee_part

    def remove_by_tokens(
        self, withdraw: list[int], burn: int, fee_part: int, admin_bps: int
    ) -> int:
        """Apply a withdrawal :meth:`burn_for_tokens` priced; returns the exchange's fee shares."""
        for i, c_amount in enumerate(withdraw):
            self.c_amounts[i] -= c_amount
            self._assert_min_reserve(self.c_amounts[i])
        self.state["shares_total_supply"] -= burn
        admin_shares = fee_part * admin_bps // FEE_DIVISOR if fee_part > 0 else 0
        self._mint(admin_shares)
        return admin_shares

    # ---- views ----------------------------------------------------------------------------
    def pool_info(self) -> dict[str, Any]:
        """Ref's PoolInfo (``get_pool``/``get_pools``): amounts in token units, the current amp."""
        return {
            "pool_kind": self.kind,
            "token_account_ids": list(self.tokens),
            "amounts": [str(a) for a in self.amounts()],
            "total_fee": self.state["total_fee"],
            "shares_total_supply": str(self.state["shares_total_supply"]),
            "amp": self.amp(),
        }

    def detail_info(self) -> dict[str, Any]:
        """Ref's StablePoolInfo, or RatedPoolInfo (with ``rates``) for a rated pool."""
        info = {
            "token_account_ids": list(self.tokens),
            "decimals": list(self.state["decimals"]),
            "amounts": [str(a) for a in self.amounts()],
            "c_amounts": [str(c) for c in self.c_amounts],
            "total_fee": self.state["total_fee"],
            "shares_total_supply": str(self.state["shares_total_supply"]),
            "amp": self.amp(),
        }
        if self.kind == RATED_SWAP:
            assert self.rates is not None
            info["rates"] = [str(r) for r in self.rates]
        return info
