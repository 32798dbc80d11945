"""An exchange pool as read from the chain, and what a swap through it returns.

One declaration of a pool for every reader: routing (tools/routing.py), the market snapshot, the
policy's prices (policies/pricing.py) and the scheduler's triggers. Amounts are integers in each
token's base units; ``kind`` is Ref's ``pool_kind``. Which kinds can be quoted is decided here,
once: a kind this module cannot price is never routed through nor priced from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

FEE_DIVISOR = 10_000
SIMPLE_POOL = "SIMPLE_POOL"
STABLE_SWAP = "STABLE_SWAP"
RATED_SWAP = "RATED_SWAP"
CONSTANT_PRODUCT_KINDS = frozenset({SIMPLE_POOL, "CONSTANT_PRODUCT"})


@dataclass(frozen=True)
class Pool:
    """One pool: ``amounts`` in token base units, ``fee_bps`` of 10,000 (Ref's ``total_fee``).

    Stable and rated pools also carry ``amp`` (the amplification coefficient), the tokens'
    ``decimals`` and, for rated pools, ``rates`` (24-decimal prices of each token in the pool's
    unit). ``fetched_at`` is when the reserves were read (None: unknown, e.g. a test pool).
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

    def reserve(self, token: str) -> int:
        return self.amounts[self.tokens.index(token)]

    @property
    def quotable(self) -> bool:
        """Whether :func:`swap_out` can price this pool (its kind and shape are supported)."""
        return self.kind in CONSTANT_PRODUCT_KINDS and len(self.tokens) == 2

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
    if token_in not in pool.tokens or token_out not in pool.tokens:
        return 0
    return constant_product_out(
        amount_in, pool.reserve(token_in), pool.reserve(token_out), pool.fee_bps
    )
