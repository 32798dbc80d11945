"""A NEP-141/145/148 fungible token that behaves as near-contract-standards' reference one.

The agent's token code must work unchanged on mainnet, so the method names, argument shapes,
refund arithmetic of ``ft_resolve_transfer`` and the panic messages are those of the reference
implementation. Balances are stored as ints under ``bal:<account>``.
"""

from __future__ import annotations

import json
from typing import Any

from devnet.contract import TGAS, Context, Contract, Promise, call, ensure, view
from devnet.contracts.common import (
    DESERIALIZE_ERROR,
    assert_initialized,
    assert_one_yocto,
    get,
    mark_initialized,
    parse_account_id,
    u128,
)
from tools.u128 import u128_text

# 0.00125 NEAR: both min and max of storage_balance_bounds, as the reference token.
STORAGE_BALANCE = 1_250_000_000_000_000_000_000
GAS_FOR_RESOLVE_TRANSFER = 5 * TGAS
GAS_FOR_FT_TRANSFER_CALL = 25 * TGAS + GAS_FOR_RESOLVE_TRANSFER
FT_SPEC = "ft-1.0.0"
STANDARD = "nep141"
VERSION = "1.0.0"


def balance_key(owner: str) -> str:
    return f"bal:{owner}"


class FungibleToken(Contract):
    """The reference NEP-141 token, with NEP-145 storage management and NEP-148 metadata."""

    code_name = "fungible_token"

    # ---- initialisation -------------------------------------------------------------------
    @call
    def new(self, ctx: Context, owner_id: str, total_supply: str, metadata: dict[str, Any]) -> None:
        """Create the token with ``total_supply`` minted to ``owner_id``."""
        storage = ctx.storage
        mark_initialized(storage)
        owner = parse_account_id(owner_id)
        supply = u128(total_supply)
        storage["metadata"] = self._validated_metadata(metadata)
        storage["owner_id"] = owner
        storage["total_supply"] = 0
        self._register(ctx, owner)
        self._deposit(ctx, owner, supply)
        storage["total_supply"] = supply
        self._emit(
            ctx,
            "ft_mint",
            {"owner_id": owner, "amount": str(supply), "memo": "new tokens are minted"},
        )

    @staticmethod
    def _validated_metadata(metadata: Any) -> dict[str, Any]:
        ensure(isinstance(metadata, dict), DESERIALIZE_ERROR)
        for key in ("name", "symbol"):
            ensure(isinstance(metadata.get(key), str), DESERIALIZE_ERROR)
        decimals = metadata.get("decimals")
        ensure(
            isinstance(decimals, int) and not isinstance(decimals, bool) and 0 <= decimals <= 255,
            DESERIALIZE_ERROR,
        )
        spec = metadata.get("spec", FT_SPEC)
        ensure(spec == FT_SPEC, f"unsupported metadata spec {spec!r}")
        return {
            "spec": FT_SPEC,
            "name": metadata["name"],
            "symbol": metadata["symbol"],
            "icon": metadata.get("icon"),
            "reference": metadata.get("reference"),
            "reference_hash": metadata.get("reference_hash"),
            "decimals": decimals,
        }

    # ---- NEP-141 core ---------------------------------------------------------------------
    @call(payable=True)
    def ft_transfer(
        self, ctx: Context, receiver_id: str, amount: str, memo: str | None = None
    ) -> None:
        assert_one_yocto(ctx)
        receiver = parse_account_id(receiver_id)
        self._transfer(ctx, ctx.predecessor_account_id, receiver, u128(amount), memo)

    @call(payable=True)
    def ft_transfer_call(
        self, ctx: Context, receiver_id: str, amount: str, msg: str, memo: str | None = None
    ) -> Promise:
        """Transfer, then let the receiver say how much it used; the rest comes back."""
        assert_one_yocto(ctx)
        ensure(ctx.prepaid_gas > GAS_FOR_FT_TRANSFER_CALL, "More gas is required")
        ensure(isinstance(msg, str), DESERIALIZE_ERROR)
        sender = ctx.predecessor_account_id
        receiver = parse_account_id(receiver_id)
        value = u128(amount)
        self._transfer(ctx, sender, receiver, value, memo)
        receiver_gas = ctx.prepaid_gas - GAS_FOR_FT_TRANSFER_CALL
        on_transfer = ctx.promise(receiver).function_call(
            "ft_on_transfer",
            {"sender_id": sender, "amount": str(value), "msg": msg},
            gas=receiver_gas,
        )
        resolve = ctx.promise(ctx.current_account_id).function_call(
            "ft_resolve_transfer",
            {"sender_id": sender, "receiver_id": receiver, "amount": str(value)},
            gas=GAS_FOR_RESOLVE_TRANSFER,
        )
        return on_transfer.then(resolve)

    @call(private=True)
    def ft_resolve_transfer(
        self, ctx: Context, sender_id: str, receiver_id: str, amount: str
    ) -> str:
        """Refund what ``ft_on_transfer`` did not use; returns the used amount."""
        sender, receiver = parse_account_id(sender_id), parse_account_id(receiver_id)
        return str(self._resolve_transfer(ctx, sender, receiver, u128(amount))[0])

    def _resolve_transfer(
        self, ctx: Context, sender: str, receiver: str, amount: int
    ) -> tuple[int, int]:
        """(used, burned), by the reference implementation's arithmetic."""
        unused = amount
        results = ctx.promise_results
        if results and results[0].successful:
            unused = min(amount, self._parse_unused(results[0].value, amount))
        if unused <= 0:
            return amount, 0
        storage = ctx.storage
        receiver_balance = storage.get(balance_key(receiver), 0)
        if receiver_balance <= 0:
            return amount, 0
        refund = min(receiver_balance, unused)
        storage[balance_key(receiver)] = receiver_balance - refund
        if balance_key(sender) in storage:
            storage[balance_key(sender)] = storage[balance_key(sender)] + refund
            self._emit(
                ctx,
                "ft_transfer",
                {
                    "old_owner_id": receiver,
                    "new_owner_id": sender,
                    "amount": str(refund),
                    "memo": "refund",
                },
            )
            return amount - refund, 0
        storage["total_supply"] = storage["total_supply"] - refund
        ctx.log("The account of the sender was deleted")
        self._emit(ctx, "ft_burn", {"owner_id": receiver, "amount": str(refund), "memo": "refund"})
        return amount, refund

    @staticmethod
    def _parse_unused(raw: bytes, amount: int) -> int:
        """A U128 JSON string; anything else counts as nothing used (full refund)."""
        try:
            value = json.loads(raw)
        except ValueError:
            return amount
        used = u128_text(value)
        return amount if used is None else used

    @view
    def ft_total_supply(self, ctx: Context) -> str:
        assert_initialized(ctx.storage)
        return str(ctx.storage["total_supply"])

    @view
    def ft_balance_of(self, ctx: Context, account_id: str) -> str:
        return str(ctx.storage.get(balance_key(account_id), 0))

    @view
    def ft_metadata(self, ctx: Context) -> dict[str, Any]:
        assert_initialized(ctx.storage)
        return get(ctx.storage, "metadata")

    # ---- NEP-145 storage management -------------------------------------------------------
    @call(payable=True)
    def storage_deposit(
        self, ctx: Context, account_id: str | None = None, registration_only: bool | None = None
    ) -> dict[str, str]:
        """Register ``account_id`` (default: the caller); any excess deposit is refunded."""
        assert_initialized(ctx.storage)
        amount = ctx.attached_deposit
        target = (
            parse_account_id(account_id) if account_id is not None else ctx.predecessor_account_id
        )
        if balance_key(target) in ctx.storage:
            ctx.log("The account is already registered, refunding the deposit")
            refund = amount
        else:
            ensure(
                amount >= STORAGE_BALANCE,
                "The attached deposit is less than the minimum storage balance",
            )
            self._register(ctx, target)
            refund = amount - STORAGE_BALANCE
        if refund > 0:
            ctx.promise(ctx.predecessor_account_id).transfer(refund)
        return self._storage_balance()

    @call(payable=True)
    def storage_withdraw(self, ctx: Context, amount: str | None = None) -> dict[str, str]:
        """Nothing is ever withdrawable: the balance is exactly the registration cost."""
        assert_one_yocto(ctx)
        owner = ctx.predecessor_account_id
        ensure(balance_key(owner) in ctx.storage, f"The account {owner} is not registered")
        ensure(
            amount is None or u128(amount) == 0,
            "The amount is greater than the available storage balance",
        )
        return self._storage_balance()

    @call(payable=True)
    def storage_unregister(self, ctx: Context, force: bool | None = None) -> bool:
        """Close the caller's registration; with ``force`` its tokens are burned."""
        assert_one_yocto(ctx)
        owner = ctx.predecessor_account_id
        key = balance_key(owner)
        if key not in ctx.storage:
            ctx.log(f"The account {owner} is not registered")
            return False
        balance = ctx.storage[key]
        ensure(
            balance == 0 or bool(force),
            "Can't unregister the account with the positive balance without force",
        )
        del ctx.storage[key]
        if balance > 0:
            ctx.storage["total_supply"] = ctx.storage["total_supply"] - balance
            self._emit(ctx, "ft_burn", {"owner_id": owner, "amount": str(balance)})
        ctx.promise(owner).transfer(STORAGE_BALANCE + 1)
        return True

    @view
    def storage_balance_of(self, ctx: Context, account_id: str) -> dict[str, str] | None:
        return self._storage_balance() if balance_key(account_id) in ctx.storage else None

    @view
    def storage_balance_bounds(self, ctx: Context) -> dict[str, str]:
        return {"min": str(STORAGE_BALANCE), "max": str(STORAGE_BALANCE)}

    @staticmethod
    def _storage_balance() -> dict[str, str]:
        return {"total": str(STORAGE_BALANCE), "available": "0"}

    # ---- internals shared with subclasses -------------------------------------------------
    def _register(self, ctx: Context, owner: str) -> None:
        ensure(balance_key(owner) not in ctx.storage, "The account is already registered")
        ctx.storage[balance_key(owner)] = 0

    def _balance_of_registered(self, ctx: Context, owner: str) -> int:
        key = balance_key(owner)
        ensure(key in ctx.storage, f"The account {owner} is not registered")
        return ctx.storage[key]

    def _deposit(self, ctx: Context, owner: str, amount: int) -> None:
        balance = self._balance_of_registered(ctx, owner)
        ctx.storage[balance_key(owner)] = balance + amount

    def _withdraw(self, ctx: Context, owner: str, amount: int) -> None:
        balance = self._balance_of_registered(ctx, owner)
        ensure(balance >= amount, "The account doesn't have enough balance")
        ctx.storage[balance_key(owner)] = balance - amount

    def _transfer(
        self, ctx: Context, sender: str, receiver: str, amount: int, memo: str | None
    ) -> None:
        assert_initialized(ctx.storage)
        ensure(sender != receiver, "Sender and receiver should be different")
        ensure(amount > 0, "The amount should be a positive number")
        self._withdraw(ctx, sender, amount)
        self._deposit(ctx, receiver, amount)
        event: dict[str, Any] = {
            "old_owner_id": sender,
            "new_owner_id": receiver,
            "amount": str(amount),
        }
        if memo is not None:
            event["memo"] = memo
        self._emit(ctx, "ft_transfer", event)

    def _mint(self, ctx: Context, owner: str, amount: int, memo: str | None = None) -> None:
        self._deposit(ctx, owner, amount)
        ctx.storage["total_supply"] = ctx.storage["total_supply"] + amount
        event: dict[str, Any] = {"owner_id": owner, "amount": str(amount)}
        if memo is not None:
            event["memo"] = memo
        self._emit(ctx, "ft_mint", event)

    def _burn(self, ctx: Context, owner: str, amount: int, memo: str | None = None) -> None:
        self._withdraw(ctx, owner, amount)
        ctx.storage["total_supply"] = ctx.storage["total_supply"] - amount
        event: dict[str, Any] = {"owner_id": owner, "amount": str(amount)}
        if memo is not None:
            event["memo"] = memo
        self._emit(ctx, "ft_burn", event)

    @staticmethod
    def _emit(ctx: Context, event: str, data: dict[str, Any]) -> None:
        ctx.emit_event(STANDARD, VERSION, event, [data])
