"""A constant-product exchange with Ref Finance's (v2.ref-finance.near) interface and arithmetic.

The agent's swap tool must run unchanged against Ref on testnet and mainnet, so this contract
keeps Ref's method names, argument shapes, ``ft_transfer_call`` msg, error strings ("E68: slippage
error", ...), swap formula (integer floor, fee in bps of 10,000) and its handling of an output
that cannot be delivered: back to the user's internal deposit when the user is registered here,
otherwise to the owner's account ("lostfound"). Only simple (two-token) pools exist.
"""

from __future__ import annotations

import json
import math
from typing import Any

from devnet.contract import TGAS, Context, Contract, ContractPanic, Promise, call, ensure, view
from devnet.contracts.common import (
    DESERIALIZE_ERROR,
    STORAGE_BYTE_COST,
    assert_initialized,
    assert_one_yocto,
    get,
    mark_initialized,
    page,
    parse_account_id,
    u64,
    u128,
)

FEE_DIVISOR = 10_000
INIT_SHARES_SUPPLY = 10**24
# Ref's account storage model: 102 bytes per account plus 148 bytes per token it holds.
INIT_ACCOUNT_STORAGE = 102
TOKEN_STORAGE = 148
MIN_STORAGE_BALANCE = INIT_ACCOUNT_STORAGE * STORAGE_BYTE_COST  # 0.00102 NEAR
POOL_STORAGE_COST = 400 * STORAGE_BYTE_COST  # 0.004 NEAR, charged by add_simple_pool
LP_STORAGE_COST = 100 * STORAGE_BYTE_COST  # 0.001 NEAR, first liquidity of an account in a pool
GAS_FOR_FT_TRANSFER = 20 * TGAS
GAS_FOR_RESOLVE_TRANSFER = 20 * TGAS
VIRTUAL_ACC = "@"

E10 = "E10: account not registered"
E11 = "E11: insufficient $NEAR storage deposit"
E12 = "E12: token not whitelisted"
E13 = "E13: LP not registered"
E15 = "E15: no storage can withdraw"
E16 = "E16: storage withdraw too much"
E17 = "E17: deposit less than min storage"
E21 = "E21: token not registered"
E22 = "E22: not enough tokens in deposit"
E24 = "E24: non-zero token balance"
E25 = "E25: expected 1 promise result from withdraw"
E27 = "E27: attach 1yN to swap tokens not in whitelist"
E28 = "E28: Illegal msg in ft_transfer_call"
E29 = "E29: Illegal withdraw amount"
E30 = "E30: non-whitelisted token can NOT deposit into lost-found."
E31 = "E31: adding zero amount"
E32 = "E32: minting zero shares"
E35 = "E35: requires attached deposit of at least 1 yoctoNEAR"
E36 = "E36: amount less than min amount"
E41 = "E41: wrong action result type"
E68 = "E68: slippage error"
E72 = "E72: at least one swap"
E73 = "E73: same token swap"
E75 = "E75: invariant can not reduce "
E76 = "E76: invalid params"
E85 = "E85: invalid pool id"
E86 = "E86: amount need above min amount"
E89 = "E89: wrong token count"
E90 = "E90: fee too large"
E91 = "E91: not enough shares"
E92 = "E92: token duplicated"
E100 = "E100: no permission to invoke this"
E102 = "E102: invalid token id"


def swap_return(amount_in: int, reserve_in: int, reserve_out: int, total_fee: int) -> int:
    """Ref's simple-pool output: in*(10000-fee)*R_out / (R_in*10000 + in*(10000-fee)), floored."""
    ensure(reserve_in > 0 and reserve_out > 0 and amount_in > 0, E76)
    with_fee = amount_in * (FEE_DIVISOR - total_fee)
    return with_fee * reserve_out // (FEE_DIVISOR * reserve_in + with_fee)


def _pool_key(pool_id: int) -> str:
    return f"pool:{pool_id}"


def _shares_key(pool_id: int, account: str) -> str:
    return f"shares:{pool_id}:{account}"


def _account_key(account: str) -> str:
    return f"acct:{account}"


def _storage_usage(account: dict[str, Any]) -> int:
    return (INIT_ACCOUNT_STORAGE + TOKEN_STORAGE * len(account["tokens"])) * STORAGE_BYTE_COST


def _deposit(account: dict[str, Any], token: str, amount: int) -> None:
    account["tokens"][token] = account["tokens"].get(token, 0) + amount


def _withdraw(account: dict[str, Any], token: str, amount: int) -> None:
    ensure(token in account["tokens"], E21)
    ensure(account["tokens"][token] >= amount, E22)
    account["tokens"][token] -= amount


class Exchange(Contract):
    """Ref-compatible exchange: deposits, simple pools, instant swaps through ft_transfer_call."""

    code_name = "exchange"

    # ---- owner ----------------------------------------------------------------------------
    @call
    def new(self, ctx: Context, owner_id: str, exchange_fee: int, referral_fee: int) -> None:
        mark_initialized(ctx.storage)
        ctx.storage["owner_id"] = parse_account_id(owner_id)
        ctx.storage["exchange_fee"] = u64(exchange_fee)
        ctx.storage["referral_fee"] = u64(referral_fee)
        ctx.storage["pool_count"] = 0
        ctx.storage["whitelist"] = []

    @call(payable=True)
    def extend_whitelisted_tokens(self, ctx: Context, tokens: list[str]) -> None:
        self._assert_owner(ctx)
        whitelist = get(ctx.storage, "whitelist", [])
        for token in self._token_list(tokens):
            if token not in whitelist:
                whitelist.append(token)
        ctx.storage["whitelist"] = whitelist

    @call(payable=True)
    def remove_whitelisted_tokens(self, ctx: Context, tokens: list[str]) -> None:
        self._assert_owner(ctx)
        drop = set(self._token_list(tokens))
        ctx.storage["whitelist"] = [t for t in ctx.storage["whitelist"] if t not in drop]

    def _assert_owner(self, ctx: Context) -> None:
        assert_initialized(ctx.storage)
        ensure(ctx.predecessor_account_id == ctx.storage["owner_id"], E100)

    # ---- NEP-145 storage for exchange accounts --------------------------------------------
    @call(payable=True)
    def storage_deposit(
        self, ctx: Context, account_id: str | None = None, registration_only: bool | None = None
    ) -> dict[str, str]:
        """Register and fund storage; ``registration_only`` keeps just the minimum."""
        assert_initialized(ctx.storage)
        amount = ctx.attached_deposit
        target = (
            parse_account_id(account_id) if account_id is not None else ctx.predecessor_account_id
        )
        registered = _account_key(target) in ctx.storage
        ensure(registered or amount >= MIN_STORAGE_BALANCE, E17)
        if registration_only:
            if registered:
                ctx.log("ERR_ACC_REGISTERED")
                refund = amount
            else:
                self._register(ctx, target, MIN_STORAGE_BALANCE)
                refund = amount - MIN_STORAGE_BALANCE
            if refund > 0:
                ctx.promise(ctx.predecessor_account_id).transfer(refund)
        else:
            self._register(ctx, target, amount)
        balance = self.storage_balance_of(ctx, target)
        assert balance is not None
        return balance

    @call(payable=True)
    def storage_withdraw(self, ctx: Context, amount: str | None = None) -> dict[str, str]:
        """Withdraw storage NEAR not covering the account's tokens (0 or omitted: all)."""
        assert_one_yocto(ctx)
        sender = ctx.predecessor_account_id
        account = self._unwrap_account(ctx, sender)
        available = account["near_amount"] - _storage_usage(account)
        ensure(available > 0, E15)
        value = u128(amount) if amount is not None else 0
        value = value or available
        ensure(value <= available, E16)
        account["near_amount"] -= value
        self._save_account(ctx, sender, account)
        ctx.promise(sender).transfer(value)
        balance = self.storage_balance_of(ctx, sender)
        assert balance is not None
        return balance

    @view
    def storage_balance_of(self, ctx: Context, account_id: str) -> dict[str, str] | None:
        account = ctx.storage.get(_account_key(account_id))
        if account is None:
            return None
        available = max(0, account["near_amount"] - _storage_usage(account))
        return {"total": str(account["near_amount"]), "available": str(available)}

    @view
    def storage_balance_bounds(self, ctx: Context) -> dict[str, str | None]:
        return {"min": str(MIN_STORAGE_BALANCE), "max": None}

    def _register(self, ctx: Context, owner: str, near_amount: int) -> None:
        account = get(ctx.storage, _account_key(owner)) or {"near_amount": 0, "tokens": {}}
        account["near_amount"] += near_amount
        self._save_account(ctx, owner, account)

    def _get_account(self, ctx: Context, owner: str) -> dict[str, Any] | None:
        return get(ctx.storage, _account_key(owner))

    def _unwrap_account(self, ctx: Context, owner: str) -> dict[str, Any]:
        account = self._get_account(ctx, owner)
        ensure(account is not None, E10)
        assert account is not None
        return account

    def _save_account(self, ctx: Context, owner: str, account: dict[str, Any]) -> None:
        ensure(_storage_usage(account) <= account["near_amount"], E11)
        ctx.storage[_account_key(owner)] = account

    # ---- token registration and deposits --------------------------------------------------
    @call(payable=True)
    def register_tokens(self, ctx: Context, token_ids: list[str]) -> None:
        """Let the caller hold these tokens here (needed for tokens off the whitelist)."""
        assert_one_yocto(ctx)
        sender = ctx.predecessor_account_id
        account = self._unwrap_account(ctx, sender)
        for token in self._token_list(token_ids):
            account["tokens"].setdefault(token, 0)
        self._save_account(ctx, sender, account)

    @call(payable=True)
    def unregister_tokens(self, ctx: Context, token_ids: list[str]) -> None:
        assert_one_yocto(ctx)
        sender = ctx.predecessor_account_id
        account = self._unwrap_account(ctx, sender)
        for token in self._token_list(token_ids):
            ensure(account["tokens"].pop(token, 0) == 0, E24)
        self._save_account(ctx, sender, account)

    @call
    def ft_on_transfer(self, ctx: Context, sender_id: str, amount: str, msg: str) -> str:
        """Empty ``msg``: deposit. ``{"actions": [...]}``: instant swap, output sent back."""
        assert_initialized(ctx.storage)
        token_in = ctx.predecessor_account_id
        sender = parse_account_id(sender_id)
        value = u128(amount)
        ensure(isinstance(msg, str), DESERIALIZE_ERROR)
        if not msg:
            self._internal_deposit(ctx, sender, token_in, value)
            return "0"
        referral_id, actions = self._parse_message(msg)
        ensure(len(actions) > 0, E72)
        virtual: dict[str, Any] = {"near_amount": 0, "tokens": {token_in: value}}
        self._execute_actions(ctx, virtual, actions, value, referral_id)
        for token, out in virtual["tokens"].items():
            if out > 0:
                self._send_tokens(ctx, sender, token, out)
        return "0"

    def _internal_deposit(self, ctx: Context, owner: str, token: str, amount: int) -> None:
        account = self._unwrap_account(ctx, owner)
        ensure(token in ctx.storage["whitelist"] or token in account["tokens"], E12)
        _deposit(account, token, amount)
        self._save_account(ctx, owner, account)

    @call(payable=True)
    def withdraw(
        self, ctx: Context, token_id: str, amount: str, unregister: bool | None = None
    ) -> Promise:
        """Send deposited tokens to the caller (amount "0": everything); refunded if it fails."""
        assert_one_yocto(ctx)
        token = parse_account_id(token_id)
        sender = ctx.predecessor_account_id
        account = self._unwrap_account(ctx, sender)
        value = u128(amount)
        if value == 0:
            ensure(token in account["tokens"], E21)
            value = account["tokens"][token]
        ensure(value > 0, E29)
        _withdraw(account, token, value)
        if unregister:
            ensure(account["tokens"].pop(token, 0) == 0, E24)
        self._save_account(ctx, sender, account)
        return self._send_tokens(ctx, sender, token, value)

    def _send_tokens(self, ctx: Context, receiver: str, token: str, amount: int) -> Promise:
        transfer = ctx.promise(token).function_call(
            "ft_transfer",
            {"receiver_id": receiver, "amount": str(amount)},
            deposit=1,
            gas=GAS_FOR_FT_TRANSFER,
        )
        callback = ctx.promise(ctx.current_account_id).function_call(
            "exchange_callback_post_withdraw",
            {"token_id": token, "sender_id": receiver, "amount": str(amount)},
            gas=GAS_FOR_RESOLVE_TRANSFER,
        )
        return transfer.then(callback)

    @call(private=True)
    def exchange_callback_post_withdraw(
        self, ctx: Context, token_id: str, sender_id: str, amount: str
    ) -> None:
        """Undo a failed withdraw: back to the user's deposit, or to the owner (lostfound)."""
        ensure(len(ctx.promise_results) == 1, E25)
        if ctx.promise_results[0].successful:
            return
        value = u128(amount)
        account = self._get_account(ctx, sender_id)
        if account is not None:
            if token_id in account["tokens"]:
                _deposit(account, token_id, value)
                ctx.storage[_account_key(sender_id)] = account
                return
            _deposit(account, token_id, value)
            if _storage_usage(account) <= account["near_amount"]:
                ctx.storage[_account_key(sender_id)] = account
                return
            ctx.log(f"Account {sender_id} has not enough storage. Depositing to owner.")
        else:
            ctx.log(f"Account {sender_id} is not registered. Depositing to owner.")
        self._lostfound(ctx, token_id, value)

    def _lostfound(self, ctx: Context, token: str, amount: int) -> None:
        ensure(token in ctx.storage["whitelist"], E30)
        owner = ctx.storage["owner_id"]
        account = self._get_account(ctx, owner) or {"near_amount": 0, "tokens": {}}
        _deposit(account, token, amount)
        ctx.storage[_account_key(owner)] = account

    # ---- pools ----------------------------------------------------------------------------
    @call(payable=True)
    def add_simple_pool(self, ctx: Context, tokens: list[str], fee: int) -> int:
        """Create an empty two-token pool; the caller pays its storage (excess refunded)."""
        assert_initialized(ctx.storage)
        token_ids = self._token_list(tokens)
        ensure(len(set(token_ids)) == len(token_ids), E92)
        total_fee = u64(fee)
        ensure(total_fee < FEE_DIVISOR, E90)
        ensure(len(token_ids) == 2, E89)
        ensure(ctx.attached_deposit >= POOL_STORAGE_COST, E11)
        pool_id = ctx.storage["pool_count"]
        ctx.storage[_pool_key(pool_id)] = {
            "token_account_ids": token_ids,
            "amounts": [0, 0],
            "total_fee": total_fee,
            "shares_total_supply": 0,
        }
        ctx.storage["pool_count"] = pool_id + 1
        refund = ctx.attached_deposit - POOL_STORAGE_COST
        if refund > 0:
            ctx.promise(ctx.predecessor_account_id).transfer(refund)
        return pool_id

    @call(payable=True)
    def add_liquidity(
        self, ctx: Context, pool_id: int, amounts: list[str], min_amounts: list[str] | None = None
    ) -> str:
        """Move deposits into the pool at its current ratio; returns the shares minted."""
        ensure(ctx.attached_deposit > 0, E35)
        sender = ctx.predecessor_account_id
        pool = self._pool(ctx, pool_id)
        ensure(isinstance(amounts, list) and len(amounts) == 2, E89)
        wanted = [u128(a) for a in amounts]
        supply = pool["shares_total_supply"]
        if supply > 0:
            for amount in wanted:
                ensure(amount > 0, E31)
            shares = min(wanted[i] * supply // pool["amounts"][i] for i in range(2))
            used = [pool["amounts"][i] * shares // supply for i in range(2)]
            for amount in used:
                ensure(amount > 0, E31)
        else:
            for amount in wanted:
                ensure(amount > 0, E31)
            shares, used = INIT_SHARES_SUPPLY, wanted
        ensure(shares > 0, E32)
        if min_amounts is not None:
            ensure(isinstance(min_amounts, list) and len(min_amounts) == 2, E89)
            for amount, minimum in zip(used, min_amounts, strict=True):
                ensure(amount >= u128(minimum), E86)
        account = self._unwrap_account(ctx, sender)
        for token, amount in zip(pool["token_account_ids"], used, strict=True):
            _withdraw(account, token, amount)
        self._save_account(ctx, sender, account)
        pool["amounts"] = [pool["amounts"][i] + used[i] for i in range(2)]
        storage_cost = 0 if _shares_key(pool_id, sender) in ctx.storage else LP_STORAGE_COST
        ensure(ctx.attached_deposit >= storage_cost, E11)
        self._mint_shares(ctx, pool, pool_id, sender, shares)
        ctx.storage[_pool_key(pool_id)] = pool
        refund = ctx.attached_deposit - storage_cost
        if refund > 0:
            ctx.promise(sender).transfer(refund)
        parts = ", ".join(
            f'"{a} {t}"' for a, t in zip(used, pool["token_account_ids"], strict=True)
        )
        ctx.log(f"Liquidity added [{parts}], minted {shares} shares")
        return str(shares)

    @call(payable=True)
    def remove_liquidity(
        self, ctx: Context, pool_id: int, shares: str, min_amounts: list[str]
    ) -> list[str]:
        """Burn shares for the pool's tokens, credited to the caller's deposits."""
        assert_one_yocto(ctx)
        sender = ctx.predecessor_account_id
        pool = self._pool(ctx, pool_id)
        burn = u128(shares)
        ensure(isinstance(min_amounts, list) and len(min_amounts) == 2, E89)
        key = _shares_key(pool_id, sender)
        ensure(key in ctx.storage, E13)
        held = ctx.storage[key]
        ensure(held >= burn, E91)
        supply = pool["shares_total_supply"]
        out = [pool["amounts"][i] * burn // supply for i in range(2)]
        for amount, minimum in zip(out, min_amounts, strict=True):
            ensure(amount >= u128(minimum), E36)
        pool["amounts"] = [pool["amounts"][i] - out[i] for i in range(2)]
        pool["shares_total_supply"] = supply - burn
        ctx.storage[key] = held - burn
        ctx.storage[_pool_key(pool_id)] = pool
        account = self._unwrap_account(ctx, sender)
        for token, amount in zip(pool["token_account_ids"], out, strict=True):
            _deposit(account, token, amount)
        self._save_account(ctx, sender, account)
        return [str(a) for a in out]

    @call(payable=True)
    def swap(
        self, ctx: Context, actions: list[dict[str, Any]], referral_id: str | None = None
    ) -> str:
        """Swap from the caller's deposits; returns the last action's output."""
        assert_initialized(ctx.storage)
        parsed = self._parse_actions(actions)
        ensure(len(parsed) > 0, E72)
        whitelist = ctx.storage["whitelist"]
        if any(a["token_in"] not in whitelist or a["token_out"] not in whitelist for a in parsed):
            ensure(ctx.attached_deposit > 0, E27)
        sender = ctx.predecessor_account_id
        account = self._unwrap_account(ctx, sender)
        first = parsed[0]
        ensure(first["amount_in"] is not None, E41)
        out = self._execute_actions(ctx, account, parsed, first["amount_in"], referral_id)
        self._save_account(ctx, sender, account)
        return str(out)

    def _execute_actions(
        self,
        ctx: Context,
        account: dict[str, Any],
        actions: list[dict[str, Any]],
        amount: int,
        referral_id: str | None,
    ) -> int:
        """Ref's sequential actions: an action without amount_in spends the previous output."""
        result = amount
        for action in actions:
            amount_in = action["amount_in"] if action["amount_in"] is not None else result
            _withdraw(account, action["token_in"], amount_in)
            result = self._pool_swap(
                ctx,
                action["pool_id"],
                action["token_in"],
                amount_in,
                action["token_out"],
                action["min_amount_out"],
                referral_id,
            )
            _deposit(account, action["token_out"], result)
        return result

    def _pool_swap(
        self,
        ctx: Context,
        pool_id: int,
        token_in: str,
        amount_in: int,
        token_out: str,
        min_amount_out: int,
        referral_id: str | None,
    ) -> int:
        pool = self._pool(ctx, pool_id)
        ensure(token_in != token_out, E73)
        tokens = pool["token_account_ids"]
        ensure(token_in in tokens and token_out in tokens, E102)
        i, o = tokens.index(token_in), tokens.index(token_out)
        amounts = pool["amounts"]
        amount_out = swap_return(amount_in, amounts[i], amounts[o], pool["total_fee"])
        ensure(amount_out >= min_amount_out, E68)
        ctx.log(f"Swapped {amount_in} {token_in} for {amount_out} {token_out}")
        prev_invariant = math.isqrt(amounts[i] * amounts[o])
        amounts[i] += amount_in
        amounts[o] -= amount_out
        new_invariant = math.isqrt(amounts[i] * amounts[o])
        ensure(new_invariant >= prev_invariant, E75)
        numerator = (new_invariant - prev_invariant) * pool["shares_total_supply"]
        exchange_fee = ctx.storage["exchange_fee"]
        if exchange_fee > 0 and numerator > 0:
            denominator = new_invariant * FEE_DIVISOR // exchange_fee
            self._mint_shares(ctx, pool, pool_id, ctx.current_account_id, numerator // denominator)
        referral_fee = ctx.storage["referral_fee"]
        if (
            referral_id
            and referral_fee > 0
            and numerator > 0
            and _shares_key(pool_id, referral_id) in ctx.storage
        ):
            denominator = new_invariant * FEE_DIVISOR // referral_fee
            self._mint_shares(ctx, pool, pool_id, referral_id, numerator // denominator)
        ctx.storage[_pool_key(pool_id)] = pool
        return amount_out

    def _mint_shares(
        self, ctx: Context, pool: dict[str, Any], pool_id: int, owner: str, shares: int
    ) -> None:
        if shares == 0:
            return
        pool["shares_total_supply"] += shares
        key = _shares_key(pool_id, owner)
        ctx.storage[key] = ctx.storage.get(key, 0) + shares

    # ---- parsing --------------------------------------------------------------------------
    def _parse_message(self, msg: str) -> tuple[str | None, list[dict[str, Any]]]:
        try:
            message = json.loads(msg)
        except ValueError:
            message = None
        ensure(isinstance(message, dict) and isinstance(message.get("actions"), list), E28)
        referral = message.get("referral_id")
        ensure(referral is None or isinstance(referral, str), E28)
        try:
            actions = self._parse_actions(message["actions"])
        except ContractPanic as exc:  # a malformed action inside a msg is Ref's E28
            raise ContractPanic(E28) from exc
        return referral, actions

    @staticmethod
    def _parse_actions(actions: Any) -> list[dict[str, Any]]:
        ensure(isinstance(actions, list), DESERIALIZE_ERROR)
        parsed = []
        for action in actions:
            ensure(isinstance(action, dict), DESERIALIZE_ERROR)
            amount_in = action.get("amount_in")
            parsed.append(
                {
                    "pool_id": u64(action.get("pool_id")),
                    "token_in": parse_account_id(action.get("token_in")),
                    "token_out": parse_account_id(action.get("token_out")),
                    "amount_in": None if amount_in is None else u128(amount_in),
                    "min_amount_out": u128(action.get("min_amount_out")),
                }
            )
        return parsed

    @staticmethod
    def _token_list(tokens: Any) -> list[str]:
        ensure(isinstance(tokens, list), DESERIALIZE_ERROR)
        return [parse_account_id(t) for t in tokens]

    def _pool(self, ctx: Context, pool_id: Any) -> dict[str, Any]:
        assert_initialized(ctx.storage)
        key = _pool_key(u64(pool_id))
        ensure(key in ctx.storage, E85)
        return get(ctx.storage, key)

    # ---- views ----------------------------------------------------------------------------
    @view
    def get_number_of_pools(self, ctx: Context) -> int:
        return ctx.storage.get("pool_count", 0)

    @view
    def get_pool(self, ctx: Context, pool_id: int) -> dict[str, Any]:
        return self._pool_info(self._pool(ctx, pool_id))

    @view
    def get_pools(
        self, ctx: Context, from_index: int | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        ids = list(range(ctx.storage.get("pool_count", 0)))
        return [self._pool_info(self._pool(ctx, i)) for i in page(ids, from_index, limit)]

    @staticmethod
    def _pool_info(pool: dict[str, Any]) -> dict[str, Any]:
        return {
            "pool_kind": "SIMPLE_POOL",
            "token_account_ids": list(pool["token_account_ids"]),
            "amounts": [str(a) for a in pool["amounts"]],
            "total_fee": pool["total_fee"],
            "shares_total_supply": str(pool["shares_total_supply"]),
            "amp": 0,
        }

    @view
    def get_return(
        self, ctx: Context, pool_id: int, token_in: str, amount_in: str, token_out: str
    ) -> str:
        pool = self._pool(ctx, pool_id)
        tokens = pool["token_account_ids"]
        ensure(token_in in tokens and token_out in tokens, E102)
        ensure(token_in != token_out, E76)
        i, o = tokens.index(token_in), tokens.index(token_out)
        return str(
            swap_return(u128(amount_in), pool["amounts"][i], pool["amounts"][o], pool["total_fee"])
        )

    @view
    def get_deposits(self, ctx: Context, account_id: str) -> dict[str, str]:
        account = ctx.storage.get(_account_key(account_id))
        if account is None:
            return {}
        return {token: str(amount) for token, amount in account["tokens"].items()}

    @view
    def get_deposit(self, ctx: Context, account_id: str, token_id: str) -> str:
        account = ctx.storage.get(_account_key(account_id)) or {"tokens": {}}
        return str(account["tokens"].get(token_id, 0))

    @view
    def get_pool_shares(self, ctx: Context, pool_id: int, account_id: str) -> str:
        return str(ctx.storage.get(_shares_key(u64(pool_id), account_id), 0))

    @view
    def get_pool_total_shares(self, ctx: Context, pool_id: int) -> str:
        return str(self._pool(ctx, pool_id)["shares_total_supply"])

    @view
    def get_whitelisted_tokens(self, ctx: Context) -> list[str]:
        return list(ctx.storage.get("whitelist", []))

    @view
    def get_user_whitelisted_tokens(self, ctx: Context, account_id: str) -> list[str]:
        account = ctx.storage.get(_account_key(account_id)) or {"tokens": {}}
        return list(account["tokens"])

    @view
    def get_owner(self, ctx: Context) -> str:
        assert_initialized(ctx.storage)
        return ctx.storage["owner_id"]

    @view
    def metadata(self, ctx: Context) -> dict[str, Any]:
        assert_initialized(ctx.storage)
        return {
            "version": "1.0.0-devnet",
            "owner": ctx.storage["owner_id"],
            "pool_count": ctx.storage["pool_count"],
            "state": "Running",
            "exchange_fee": ctx.storage["exchange_fee"],
            "referral_fee": ctx.storage["referral_fee"],
        }
