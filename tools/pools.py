"""An exchange pool as read from the chain, and what a swap through it returns.

One declaration of a pool for every reader: routing (tools/routing.py), the market snapshot, the
policy's prices (policies/pricing.py) and the scheduler's triggers. Amounts are integers in each
token's base units; ``kind`` is Ref's ``pool_kind``. Which kinds can be quoted is decided here,
once: a kind this module cannot price is never routed through nor priced from.

Supported: SIMPLE_POOL (constant product), STABLE_SWAP (Ref's stable-swap curve with
amplification) and RATED_SWAP (the same curve over rate-weighted balances), see
:mod:`tools.stable_swap`. Not supported, never routed through nor priced from: DEGEN_SWAP
(its prices come from oracles the exchange reads during the swap) and Ref's DCL (concentrated
liquidity), which is a separate contract, not a pool of this exchange.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from math import isqrt
from typing import Any

from tools.stable_swap import (
    FEE_DIVISOR,
    RATED_DECIMALS,
    STABLE_DECIMALS,
    rated_swap_out,
    stable_swap_out,
    to_comparable,
)

SIMPLE_POOL = "SIMPLE_POOL"
STABLE_SWAP = "STABLE_SWAP"
RATED_SWAP = "RATED_SWAP"
DEGEN_SWAP = "DEGEN_SWAP"
CONSTANT_PRODUCT_KINDS = frozenset({SIMPLE_POOL, "CONSTANT_PRODUCT"})
CURVE_KINDS = frozenset({STABLE_SWAP, RATED_SWAP})
SUPPORTED_KINDS = CONSTANT_PRODUCT_KINDS | CURVE_KINDS
UNSUPPORTED_KINDS = frozenset({DEGEN_SWAP})  # and DCL, which is not a pool of this exchange


@dataclass(frozen=True)
class Pool:
    """One pool: ``amounts`` in token base units, ``fee_bps`` of 10,000 (Ref's ``total_fee``).

    Stable and rated pools also carry ``amp`` (the amplification coefficient), the tokens'
    ``decimals``, ``c_amounts`` (Ref's balances in comparable precision, exact, as its
    ``get_stable_pool`` / ``get_rated_pool`` report them; derived from ``amounts`` when absent)
    and, for rated pools, ``rates`` (24-decimal prices of each token in the pool's unit).
    ``fetched_at`` is when the reserves were read (None: unknown, e.g. a test pool).
    """

    pool_id: int
    tokens: tuple[str, ...]
    amounts: tuple[int, ...]
    fee_bps: int
    kind: str = SIMPLE_POOL
    amp: int = 0
    decimals: tuple[int, ...] = ()
    rates: tuple[int, ...] = ()
    fetched_at: datetime | None = None
    c_amounts: tuple[int, ...] = ()

    def reserve(self, token: str) -> int:
        return self.amounts[self.tokens.index(token)]

    @property
    def quotable(self) -> bool:
        """Whether :func:`swap_out` can price this pool (its kind and shape are supported)."""
        n = len(self.tokens)
        if n != len(self.amounts) or n < 2:
            return False
        if self.kind in CONSTANT_PRODUCT_KINDS:
            return n == 2
        if self.kind == STABLE_SWAP:
            return self.amp > 0 and len(self.decimals) == n
        if self.kind == RATED_SWAP:
            return self.amp > 0 and len(self.decimals) == n and len(self.rates) == n
        return False

    def comparable_amounts(self) -> tuple[int, ...]:
        """Balances in the curve's precision: Ref's exact ``c_amounts`` when read, else scaled
        from ``amounts`` (which Ref rounds down from them)."""
        if len(self.c_amounts) == len(self.tokens):
            return self.c_amounts
        target = RATED_DECIMALS if self.kind == RATED_SWAP else STABLE_DECIMALS
        return tuple(
            to_comparable(a, d, target) for a, d in zip(self.amounts, self.decimals, strict=True)
        )

    def depth(self, token_a: str, token_b: str) -> int:
        """How much this pool holds on the pair, comparable between pools of the same pair
        (the geometric mean of the two reserves in base units); 0 when it lacks either."""
        if token_a not in self.tokens or token_b not in self.tokens:
            return 0
        return isqrt(self.reserve(token_a) * self.reserve(token_b))

    @classmethod
    def from_view(cls, pool_id: int, view: Mapping[str, Any]) -> Pool:
        """From Ref's PoolInfo (``get_pools`` / ``get_pool``)."""
        return cls(
            pool_id=pool_id,
            tokens=tuple(view["token_account_ids"]),
            amounts=tuple(int(a) for a in view["amounts"]),
            fee_bps=int(view.get("total_fee", 0)),
            kind=str(view.get("pool_kind") or SIMPLE_POOL),
            amp=int(view.get("amp") or 0),
        )

    @classmethod
    def from_detail(cls, pool_id: int, kind: str, view: Mapping[str, Any]) -> Pool:
        """From Ref's StablePoolInfo (``get_stable_pool``) or RatedPoolInfo
        (``get_rated_pool``): decimals, exact comparable balances and, for rated pools, rates."""
        return cls(
            pool_id=pool_id,
            tokens=tuple(view["token_account_ids"]),
            amounts=tuple(int(a) for a in view["amounts"]),
            fee_bps=int(view.get("total_fee", 0)),
            kind=kind,
            amp=int(view.get("amp") or 0),
            decimals=tuple(int(d) for d in view["decimals"]),
            rates=tuple(int(r) for r in view.get("rates") or ()),
            c_amounts=tuple(int(a) for a in view.get("c_amounts") or ()),
        )


def constant_product_out(amount_in: int, reserve_in: int, reserve_out: int, fee_bps: int) -> int:
    """Constant-product output (rounded down), Ref's simple-pool formula."""
    if amount_in <= 0 or reserve_in <= 0 or reserve_out <= 0:
        return 0
    with_fee = amount_in * (FEE_DIVISOR - fee_bps)
    return with_fee * reserve_out // (FEE_DIVISOR * reserve_in + with_fee)


def swap_out(pool: Pool, token_in: str, token_out: str, amount_in: int) -> int:
    """What ``amount_in`` of ``token_in`` buys of ``token_out`` in ``pool`` (0: nothing, or a
    pool this module cannot price)."""
    if not pool.quotable or token_in == token_out:
        return 0
    if token_in not in pool.tokens or token_out not in pool.tokens or amount_in <= 0:
        return 0
    if pool.kind in CONSTANT_PRODUCT_KINDS:
        return constant_product_out(
            amount_in, pool.reserve(token_in), pool.reserve(token_out), pool.fee_bps
        )
    i, j = pool.tokens.index(token_in), pool.tokens.index(token_out)
    balances = pool.comparable_amounts()
    if pool.kind == RATED_SWAP:
        return rated_swap_out(
            balances, pool.decimals, pool.rates, pool.amp, pool.fee_bps, i, j, amount_in
        )
    return stable_swap_out(balances, pool.decimals, pool.amp, pool.fee_bps, i, j, amount_in)
