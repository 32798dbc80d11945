"""wNEAR as wrap.near: NEAR in through ``near_deposit``, out through ``near_withdraw``.

Like wrap.near, ``near_deposit`` registers an unregistered caller itself and keeps the storage
cost out of the attached NEAR (panicking ``ERR_DEPOSIT_TOO_SMALL`` when that is not enough), and
``near_withdraw`` requires exactly 1 yoctoNEAR and sends the NEAR with a Transfer receipt.
"""

from __future__ import annotations

from typing import Any

from devnet.contract import Context, Promise, call, ensure
from devnet.contracts.common import assert_one_yocto, mark_initialized, u128
from devnet.contracts.fungible_token import STORAGE_BALANCE, FungibleToken, balance_key

WNEAR_METADATA: dict[str, Any] = {
    "spec": "ft-1.0.0",
    "name": "Wrapped NEAR fungible token",
    "symbol": "wNEAR",
    "icon": None,
    "reference": None,
    "reference_hash": None,
    "decimals": 24,
}


class WrappedNear(FungibleToken):
    """An FT whose supply is exactly the NEAR locked in it by deposits."""

    code_name = "wrapped_near"

    @call
    def new(self, ctx: Context, metadata: dict[str, Any] | None = None) -> None:
        """wrap.near's ``new()`` takes no arguments: the supply starts at zero."""
        mark_initialized(ctx.storage)
        ctx.storage["metadata"] = self._validated_metadata(metadata or WNEAR_METADATA)
        ctx.storage["total_supply"] = 0

    @call(payable=True)
    def near_deposit(self, ctx: Context) -> None:
        """Mint the attached NEAR as wNEAR to the caller (registering it if needed)."""
        amount = ctx.attached_deposit
        ensure(amount > 0, "Requires positive attached deposit")
        owner = ctx.predecessor_account_id
        if balance_key(owner) not in ctx.storage:
            ensure(amount >= STORAGE_BALANCE, "ERR_DEPOSIT_TOO_SMALL")
            self._register(ctx, owner)
            amount -= STORAGE_BALANCE
        self._mint(ctx, owner, amount)
        ctx.log(f"Deposit {amount} NEAR to {owner}")

    @call(payable=True)
    def near_withdraw(self, ctx: Context, amount: str) -> Promise:
        """Burn ``amount`` wNEAR of the caller and send it the same amount of NEAR."""
        assert_one_yocto(ctx)
        value = u128(amount)
        owner = ctx.predecessor_account_id
        self._burn(ctx, owner, value)
        ctx.log(f"Withdraw {value} NEAR from {owner}")
        return ctx.promise(owner).transfer(value)
