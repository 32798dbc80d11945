"""A liquid-staking token (stNEAR, LiNEAR, NearX) as Ref's rated pools see it: a NEP-141 token
whose contract also answers its price in NEAR, so ``update_token_rate`` works on the devnet.

On mainnet each protocol's contract answers its own view (Meta Pool ``get_st_near_price``,
LiNEAR ``ft_price``, Stader ``get_nearx_price``), a U128 of 24 decimals; this token answers all
three with one price its owner sets (``set_price``; 1.0 until set).
"""

from __future__ import annotations

from devnet.contract import Context, call, ensure, view
from devnet.contracts.common import assert_initialized, u128
from devnet.contracts.fungible_token import FungibleToken
from devnet.contracts.stable_math import RATE_PRECISION


class RatedToken(FungibleToken):
    """A fungible token with a price in NEAR (24 decimals)."""

    code_name = "rated_token"

    @call
    def set_price(self, ctx: Context, price: str) -> None:
        """Owner only: the NEAR one token is worth, 24 decimals."""
        assert_initialized(ctx.storage)
        ensure(ctx.predecessor_account_id == ctx.storage["owner_id"], "Owner's method")
        value = u128(price)
        ensure(value > 0, "The price must be positive")
        ctx.storage["price"] = value

    def _price(self, ctx: Context) -> str:
        return str(ctx.storage.get("price", RATE_PRECISION))

    @view
    def get_st_near_price(self, ctx: Context) -> str:
        return self._price(ctx)

    @view
    def ft_price(self, ctx: Context) -> str:
        return self._price(ctx)

    @view
    def get_nearx_price(self, ctx: Context) -> str:
        return self._price(ctx)
