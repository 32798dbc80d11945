"""An exchange with Ref Finance's (v2.ref-finance.near) interface and arithmetic.

The agent's swap tool must run unchanged against Ref on testnet and mainnet, so this contract
keeps Ref's method names, argument shapes, ``ft_transfer_call`` msg, error strings ("E68: slippage
error", ...), log lines and arithmetic for the pool kinds the agent meets: simple (two-token,
constant product) pools, stable-swap pools and rated pools (devnet/contracts/stable_pool.py), with
rated tokens' rates (devnet/contracts/token_rates.py). One admin fee (Ref's ``admin_fee_bps``:
exchange_fee + referral_fee at ``new``, or ``modify_admin_fee``) becomes exchange shares in every
kind; referrals earn nothing (the devnet keeps no referral list). An output that cannot be
delivered goes back to the user's deposit when the user is registered here, otherwise to the
user's own lost-and-found (``claim_lostfound``) while the exchange has 100 NEAR free, else to the
owner's account, with Ref's log lines. Degen pools and swap-by-output are not implemented.
"""

from __future__ import annotations

import json
import math
from typing import Any, cast

import devnet.contracts.token_rates as token_rates
from devnet.contract import TGAS, Context, Contract, ContractPanic, Promise, call, ensure, view
from devnet.contracts.common import (
    DESERIALIZE_ERROR,
    STORAGE_BYTE_COST,
    assert_initialized,
    assert_one_yocto,
    get,
    mark_initialized,
    parse_account_id,
    u64,
    u128,
)
from devnet.contracts.stable_pool import (
    E64,
    NOT_IMPLEMENTED,
    RATED_SWAP,
    STABLE_SWAP,
    StablePool,
    new_pool_state,
)
from devnet.state import Account as ChainAccount

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
GAS_FOR_BASIC_OP = 10 * TGAS
VIRTUAL_ACC = "@"
SIMPLE_POOL = "SIMPLE_POOL"
MAX_ADMIN_FEE_BPS = 8_000
ONE_NEAR = 10**24
# Ref keeps an output in the user's own lost-and-found only while it holds this much free NEAR
MIN_CONTRACT_FREE_BALANCE = 100 * ONE_NEAR


def stable_pool_storage_cost(n_tokens: int) -> int:
    """What add_stable_swap_pool / add_rated_swap_pool charge (the excess is refunded)."""
    return (400 + 150 * n_tokens) * STORAGE_BYTE_COST


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
E31 = "E31: adding zero amount"
E32 = "E32: minting zero shares"
E34 = "E34: insufficient lp shares"
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
E88 = "E88: not stable pool"
E89 = "E89: wrong token count"
E90 = "E90: fee too large"
E91 = "E91: not enough shares"
E92 = "E92: token duplicated"
E100 = "E100: no permission to invoke this"
E101 = "E101: illegal fee"
E102 = "E102: invalid token id"
E104 = "E104: guardian not in list"


def swap_return(amount_in: int, reserve_in: int, reserve_out: int, total_fee: int) -> int:
    """Ref's simple-pool output: in*(10000-fee)*R_out / (R_in*10000 + in*(10000-fee)), floored."""
    ensure(reserve_in > 0 and reserve_out > 0 and amount_in > 0, E76)
    with_fee = amount_in * (FEE_DIVISOR - total_fee)
    return with_fee * reserve_out // (FEE_DIVISOR * reserve_in + with_fee)


def _u32(value: Any) -> int:
    number = u64(value)
    ensure(number < 2**32, DESERIALIZE_ERROR)
    return number


def _u64_text(value: Any) -> int:
    """A U64 JSON value (a decimal string), as near-sdk's WrappedTimestamp."""
    number = u128(value)
    ensure(number <= 2**64 - 1, DESERIALIZE_ERROR)
    return number


def _kind(pool: dict[str, Any]) -> str:
    return str(pool.get("kind", SIMPLE_POOL))


def _pool_key(pool_id: int) -> str:
    return f"pool:{pool_id}"


def _shares_key(pool_id: int, account: str) -> str:
    return f"shares:{pool_id}:{account}"


def _account_key(account: str) -> str:
    return f"acct:{account}"


def _lostfound_key(account: str) -> str:
    return f"lostfound:{account}"


def _contract_storage_bytes(ctx: Context) -> int:
    """The exchange's storage as the node counts it (the ``storage_usage`` view_account shows)."""
    return ChainAccount(amount=0, storage=cast(dict[str, Any], ctx.storage)).storage_usage()


def _storage_usage(account: dict[str, Any]) -> int:
    return (INIT_ACCOUNT_STORAGE + TOKEN_STORAGE * len(account["tokens"])) * STORAGE_BYTE_COST


def _deposit(account: dict[str, Any], token: str, amount: int) -> None:
    """Ref's Account::deposit: nothing at all for a zero amount (no token entry either)."""
    if amount > 0:
        account["tokens"][token] = account["tokens"].get(token, 0) + amount


def _withdraw(account: dict[str, Any], token: str, amount: int) -> None:
    """Ref's Account::withdraw: a zero amount is no withdrawal, even of an unlisted token."""
    if amount > 0:
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

    def _assert_owner_or_guardian(self, ctx: Context) -> None:
        assert_initialized(ctx.storage)
        caller = ctx.predecessor_account_id
        ensure(caller == ctx.storage["owner_id"] or caller in self._guardians(ctx), E100)

    @staticmethod
    def _guardians(ctx: Context) -> list[str]:
        return list(ctx.storage.get("guardians", []))

    @call(payable=True)
    def extend_guardians(self, ctx: Context, guardians: list[str]) -> None:
        assert_one_yocto(ctx)
        self._assert_owner(ctx)
        current = self._guardians(ctx)
        current += [g for g in dict.fromkeys(self._token_list(guardians)) if g not in current]
        ctx.storage["guardians"] = current

    @call(payable=True)
    def remove_guardians(self, ctx: Context, guardians: list[str]) -> None:
        assert_one_yocto(ctx)
        self._assert_owner(ctx)
        current = self._guardians(ctx)
        for guardian in self._token_list(guardians):
            ensure(guardian in current, E104)
            current.remove(guardian)
        ctx.storage["guardians"] = current

    @call(payable=True)
    def modify_admin_fee(self, ctx: Context, admin_fee_bps: int) -> None:
        """The exchange's part of a stable or rated pool's fee (Ref's admin_fee_bps)."""
        assert_one_yocto(ctx)
        self._assert_owner(ctx)
        fee = u64(admin_fee_bps)
        ensure(fee <= MAX_ADMIN_FEE_BPS, E101)
        ctx.storage["admin_fee_bps"] = fee

    @staticmethod
    def _admin_fee_bps(ctx: Context) -> int:
        """Ref's admin fee: exchange_fee + referral_fee at ``new`` unless modified since."""
        fee = ctx.storage.get("admin_fee_bps")
        if fee is None:
            return int(ctx.storage["exchange_fee"]) + int(ctx.storage["referral_fee"])
        return int(fee)

    # ---- rated tokens ---------------------------------------------------------------------
    @call(payable=True)
    def register_rated_token(
        self, ctx: Context, rate_type: str, token_id: str, extra_info: str | None = None
    ) -> None:
        """Make ``token_id`` a rated token; its rate is 1.0 and expired until updated."""
        assert_one_yocto(ctx)
        self._assert_owner_or_guardian(ctx)
        token = parse_account_id(token_id)
        ensure(isinstance(rate_type, str), DESERIALIZE_ERROR)
        ensure(extra_info is None or isinstance(extra_info, str), DESERIALIZE_ERROR)
        if not token_rates.register(ctx.storage, rate_type, token, extra_info):
            raise ContractPanic(f"Rated token {token} already exist")
        ctx.log(
            f"New {rate_type} typed rated token {token} registered by {ctx.predecessor_account_id}"
        )

    @call(payable=True)
    def unregister_rated_token(self, ctx: Context, token_id: str) -> None:
        assert_one_yocto(ctx)
        self._assert_owner(ctx)
        token = parse_account_id(token_id)
        if token_rates.unregister(ctx.storage, token):
            ctx.log(f"Rated token {token} removed.")
        else:
            ctx.log(f"Rated token {token} not exist in rate list.")

    @call(payable=True)
    def set_token_rate(self, ctx: Context, token_id: str, rate: str) -> None:
        """Devnet only: set a rated token's rate (24 decimals) as of this block, as
        ``update_token_rate`` would after asking the token's contract."""
        assert_one_yocto(ctx)
        self._assert_owner_or_guardian(ctx)
        token = parse_account_id(token_id)
        value = u128(rate)
        ensure(value > 0, E76)
        ensure(token in token_rates.rated_tokens(ctx.storage), token_rates.E127)
        token_rates.set_rate(ctx.storage, token, value, ctx.block_timestamp)
        ctx.log(f"Token {token} got new rate {value} from {ctx.predecessor_account_id}.")

    @call
    def update_token_rate(self, ctx: Context, token_id: str) -> Promise | bool:
        """Anyone: refresh a rated token's rate from its contract's price view."""
        assert_initialized(ctx.storage)
        token = parse_account_id(token_id)
        caller = ctx.predecessor_account_id
        record = token_rates.rated_tokens(ctx.storage).get(token)
        if record is None:
            ctx.log(
                f"Caller {caller} invokes token {token} rait async-update "
                "but it is not a valid token."
            )
            return True
        ctx.log(f"Caller {caller} invokes token {token} rait async-update.")
        method = token_rates.PRICE_METHODS.get(record["rate_type"])
        ensure(method is not None, "SFRAX rates are set with set_token_rate on the devnet")
        assert method is not None
        price = ctx.promise(token).function_call(method, {}, gas=GAS_FOR_BASIC_OP)
        callback = ctx.promise(ctx.current_account_id).function_call(
            "update_token_rate_callback", {"token_id": token}, gas=GAS_FOR_BASIC_OP
        )
        return price.then(callback)

    @call(private=True)
    def update_token_rate_callback(self, ctx: Context, token_id: str) -> None:
        ensure(len(ctx.promise_results) == 1, token_rates.E124)
        result = ctx.promise_results[0]
        ensure(result.successful, token_rates.E124)
        try:
            rate = u128(result.json())
        except (ValueError, ContractPanic):
            raise ContractPanic(token_rates.E126) from None
        if token_id in token_rates.rated_tokens(ctx.storage):
            token_rates.set_rate(ctx.storage, token_id, rate, ctx.block_timestamp)
            ctx.log(f"Token {token_id} got new rate {rate} from cross-contract call.")

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
        _, actions = self._parse_message(msg)  # no referral list here: a referral earns nothing
        ensure(len(actions) > 0, E72)
        virtual: dict[str, Any] = {"near_amount": 0, "tokens": {token_in: value}}
        self._execute_actions(ctx, virtual, actions, value)
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
    ) -> str:
        """After a transfer out: the amount sent, or "0" after parking a failed one (below)."""
        ensure(len(ctx.promise_results) == 1, E25)
        if ctx.promise_results[0].successful:
            return amount
        self._handle_failed_send(ctx, sender_id, token_id, u128(amount))
        return "0"

    def _handle_failed_send(self, ctx: Context, owner: str, token: str, amount: int) -> None:
        """Ref's answer to an undeliverable output: back to the user's deposit if registered
        here (and the token fits in its storage), else the user's lost-and-found while the
        exchange has 100 NEAR free, else the owner's deposit."""
        account = self._get_account(ctx, owner)
        if account is not None:
            registered = token in account["tokens"]
            _deposit(account, token, amount)
            if registered or _storage_usage(account) <= account["near_amount"]:
                ctx.storage[_account_key(owner)] = account
                return
            ctx.log(
                f"Account {owner} has not enough storage. "
                "Depositing to owner or user lostfound account."
            )
        else:
            ctx.log(
                f"Account {owner} is not registered. Depositing to owner or user lostfound account."
            )
        total = ctx.account_balance
        locked = STORAGE_BYTE_COST * _contract_storage_bytes(ctx)
        if total > locked + MIN_CONTRACT_FREE_BALANCE:
            ctx.log("Depositing to user lostfound account.")
            self._add_lostfound(ctx, owner, token, amount)
        else:
            ctx.log(
                "Not enough free NEAR for user lostfound. "
                f"Total: {total // ONE_NEAR}, Storage locked: {locked // ONE_NEAR}. "
                "Depositing to owner."
            )
            self._owner_lostfound(ctx, token, amount)

    def _owner_lostfound(self, ctx: Context, token: str, amount: int) -> None:
        owner = ctx.storage["owner_id"]
        account = self._get_account(ctx, owner) or {"near_amount": 0, "tokens": {}}
        _deposit(account, token, amount)
        ctx.storage[_account_key(owner)] = account

    # ---- per-user lost-and-found ----------------------------------------------------------
    @staticmethod
    def _lostfound_of(ctx: Context, account_id: str) -> dict[str, int]:
        return dict(ctx.storage.get(_lostfound_key(account_id)) or {})

    def _add_lostfound(self, ctx: Context, owner: str, token: str, amount: int) -> None:
        tokens = self._lostfound_of(ctx, owner)
        tokens[token] = tokens.get(token, 0) + amount
        ctx.storage[_lostfound_key(owner)] = tokens

    @view
    def get_lostfound_token(self, ctx: Context, account_id: str, token_id: str) -> str:
        account = parse_account_id(account_id)
        return str(self._lostfound_of(ctx, account).get(parse_account_id(token_id), 0))

    @view
    def list_lostfound_tokens(
        self, ctx: Context, account_id: str, from_index: int | None = None, limit: int | None = None
    ) -> dict[str, str]:
        tokens = self._lostfound_of(ctx, parse_account_id(account_id))
        start = 0 if from_index is None else u64(from_index)
        count = len(tokens) if limit is None else u64(limit)
        return {t: str(a) for t, a in list(tokens.items())[start : start + count]}

    @call(payable=True)
    def claim_lostfound(self, ctx: Context, token_id: str) -> Promise:
        """Send the caller everything of ``token_id`` in its lost-and-found (1 yoctoNEAR)."""
        assert_one_yocto(ctx)
        assert_initialized(ctx.storage)
        token = parse_account_id(token_id)
        sender = ctx.predecessor_account_id
        tokens = self._lostfound_of(ctx, sender)
        amount = tokens.pop(token, 0)
        ensure(amount > 0, E29)
        if tokens:
            ctx.storage[_lostfound_key(sender)] = tokens
        else:
            del ctx.storage[_lostfound_key(sender)]
        return self._send_tokens(ctx, sender, token, amount)

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
    def add_stable_swap_pool(
        self, ctx: Context, tokens: list[str], decimals: list[int], fee: int, amp_factor: int
    ) -> int:
        """Owner or guardian: a stable-swap pool of ``tokens`` with their ``decimals``."""
        return self._add_stable_kind(ctx, STABLE_SWAP, tokens, decimals, fee, amp_factor)

    @call(payable=True)
    def add_rated_swap_pool(
        self, ctx: Context, tokens: list[str], decimals: list[int], fee: int, amp_factor: int
    ) -> int:
        """Owner or guardian: a rated pool (its rated tokens priced by their rates)."""
        return self._add_stable_kind(ctx, RATED_SWAP, tokens, decimals, fee, amp_factor)

    def _add_stable_kind(
        self,
        ctx: Context,
        kind: str,
        tokens: list[str],
        decimals: list[int],
        fee: int,
        amp_factor: int,
    ) -> int:
        self._assert_owner_or_guardian(ctx)
        token_ids = self._token_list(tokens)
        ensure(isinstance(decimals, list), DESERIALIZE_ERROR)
        digits = [u64(d) for d in decimals]
        for d in digits:
            ensure(d <= 255, DESERIALIZE_ERROR)  # a u8
        ensure(
            len(token_ids) == len(digits),
            "The number of tokens is inconsistent with the number of decimals.",
        )
        ensure(len(set(token_ids)) == len(token_ids), E92)
        state = new_pool_state(kind, token_ids, digits, _u32(fee), u64(amp_factor))
        cost = stable_pool_storage_cost(len(token_ids))
        ensure(
            ctx.attached_deposit >= cost,
            f"ERR_STORAGE_DEPOSIT need {cost}, attatched {ctx.attached_deposit}",
        )
        pool_id = ctx.storage["pool_count"]
        ctx.storage[_pool_key(pool_id)] = state
        ctx.storage["pool_count"] = pool_id + 1
        refund = ctx.attached_deposit - cost
        if refund > 0:
            ctx.promise(ctx.predecessor_account_id).transfer(refund)
        return pool_id

    @call(payable=True)
    def stable_swap_ramp_amp(
        self, ctx: Context, pool_id: int, future_amp_factor: int, future_amp_time: str
    ) -> None:
        """Owner or guardian: move a stable or rated pool's amp to ``future_amp_factor`` by
        ``future_amp_time`` (nanoseconds), at least a day away."""
        assert_one_yocto(ctx)
        self._assert_owner_or_guardian(ctx)
        pool = self._pool(ctx, pool_id)
        ensure(_kind(pool) != SIMPLE_POOL, E88)
        target, until = u64(future_amp_factor), _u64_text(future_amp_time)
        self._stable(ctx, pool).ramp_amp(target, until)
        ctx.storage[_pool_key(pool_id)] = pool

    @call(payable=True)
    def stable_swap_stop_ramp_amp(self, ctx: Context, pool_id: int) -> None:
        assert_one_yocto(ctx)
        self._assert_owner_or_guardian(ctx)
        pool = self._pool(ctx, pool_id)
        ensure(_kind(pool) != SIMPLE_POOL, E88)
        self._stable(ctx, pool).stop_ramp_amp()
        ctx.storage[_pool_key(pool_id)] = pool

    def _stable(self, ctx: Context, pool: dict[str, Any]) -> StablePool:
        """The stable or rated pool ``pool`` at this block, with its tokens' current rates."""
        if pool["kind"] == RATED_SWAP:
            rates, valid = token_rates.pool_rates(
                ctx.storage, pool["token_account_ids"], ctx.block_timestamp
            )
            return StablePool(pool, ctx.block_timestamp, rates, valid)
        return StablePool(pool, ctx.block_timestamp)

    def _stable_only(self, ctx: Context, pool: dict[str, Any]) -> StablePool:
        ensure(_kind(pool) != SIMPLE_POOL, NOT_IMPLEMENTED)
        return self._stable(ctx, pool)

    @call(payable=True)
    def add_stable_liquidity(
        self, ctx: Context, pool_id: int, amounts: list[str], min_shares: str
    ) -> str:
        """Add any mix of deposited tokens to a stable or rated pool; returns the shares minted."""
        ensure(ctx.attached_deposit > 0, E35)
        sender = ctx.predecessor_account_id
        pool = self._pool(ctx, pool_id)
        wanted = self._amount_list(amounts)
        minimum = u128(min_shares)
        stable = self._stable_only(ctx, pool)
        admin_bps = self._admin_fee_bps(ctx)
        outcome = stable.add_liquidity(wanted, minimum, admin_bps)
        storage_cost = 0 if _shares_key(pool_id, sender) in ctx.storage else LP_STORAGE_COST
        self._credit_shares(ctx, pool_id, sender, outcome.shares)
        ctx.log(f"Mint {outcome.shares} shares for {sender}, fee is {outcome.fee_part} shares")
        if outcome.fee_part > 0:
            self._credit_shares(ctx, pool_id, ctx.current_account_id, outcome.admin_shares)
            ctx.log(
                f"Exchange {ctx.current_account_id} got {outcome.admin_shares} shares, "
                "No referral fee, from add_liquidity"
            )
        account = self._unwrap_account(ctx, sender)
        for token, amount in zip(pool["token_account_ids"], wanted, strict=True):
            _withdraw(account, token, amount)
        self._save_account(ctx, sender, account)
        ctx.storage[_pool_key(pool_id)] = pool
        ensure(
            ctx.attached_deposit >= storage_cost,
            f"ERR_STORAGE_DEPOSIT need {storage_cost}, attatched {ctx.attached_deposit}",
        )
        refund = ctx.attached_deposit - storage_cost
        if refund > 0:
            ctx.promise(sender).transfer(refund)
        return str(outcome.shares)

    @call(payable=True)
    def remove_liquidity_by_tokens(
        self, ctx: Context, pool_id: int, amounts: list[str], max_burn_shares: str
    ) -> str:
        """Take exactly ``amounts`` out of a stable or rated pool; returns the shares burnt."""
        assert_one_yocto(ctx)
        sender = ctx.predecessor_account_id
        pool = self._pool(ctx, pool_id)
        wanted = self._amount_list(amounts)
        max_burn = u128(max_burn_shares)
        account = self._unwrap_account(ctx, sender)
        stable = self._stable_only(ctx, pool)
        admin_bps = self._admin_fee_bps(ctx)
        withdraw, burn, fee_part = stable.burn_for_tokens(wanted, admin_bps)
        key = _shares_key(pool_id, sender)
        ensure(key in ctx.storage, E13)
        held = ctx.storage[key]
        ensure(burn <= held, E34)
        ensure(burn <= max_burn, E68)
        ctx.storage[key] = held - burn
        admin_shares = stable.remove_by_tokens(withdraw, burn, fee_part, admin_bps)
        ctx.log(f"LP {sender} removed {burn} shares by given tokens, and fee is {fee_part} shares")
        if fee_part > 0:
            self._credit_shares(ctx, pool_id, ctx.current_account_id, admin_shares)
            ctx.log(
                f"Exchange {ctx.current_account_id} got {admin_shares} shares, "
                "No referral fee, from remove_liquidity_by_tokens"
            )
        ctx.storage[_pool_key(pool_id)] = pool
        for token, amount in zip(pool["token_account_ids"], wanted, strict=True):
            _deposit(account, token, amount)
        self._save_account(ctx, sender, account)
        return str(burn)

    def _amount_list(self, amounts: Any) -> list[int]:
        ensure(isinstance(amounts, list), DESERIALIZE_ERROR)
        return [u128(a) for a in amounts]

    @call(payable=True)
    def add_liquidity(
        self, ctx: Context, pool_id: int, amounts: list[str], min_amounts: list[str] | None = None
    ) -> str:
        """Move deposits into the pool at its current ratio; returns the shares minted."""
        ensure(ctx.attached_deposit > 0, E35)
        sender = ctx.predecessor_account_id
        pool = self._pool(ctx, pool_id)
        ensure(_kind(pool) == SIMPLE_POOL, NOT_IMPLEMENTED)  # stable kinds: add_stable_liquidity
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
        if _kind(pool) != SIMPLE_POOL:
            return self._remove_stable_liquidity(ctx, pool_id, pool, burn, min_amounts)
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

    def _remove_stable_liquidity(
        self, ctx: Context, pool_id: int, pool: dict[str, Any], burn: int, min_amounts: Any
    ) -> list[str]:
        """A stable or rated pool's balanced, fee-free withdrawal (Ref's remove_liquidity)."""
        sender = ctx.predecessor_account_id
        account = self._unwrap_account(ctx, sender)
        minimums = self._amount_list(min_amounts)
        stable = self._stable(ctx, pool)
        ensure(len(minimums) == len(stable.tokens), E64)
        key = _shares_key(pool_id, sender)
        ensure(key in ctx.storage, E13)
        held = ctx.storage[key]
        ensure(held >= burn, E34)
        ctx.storage[key] = held - burn
        out = stable.remove_by_shares(burn, minimums)
        listed = ", ".join(str(a) for a in out)
        ctx.log(f"LP {sender} remove {burn} shares to gain tokens [{listed}]")
        ctx.storage[_pool_key(pool_id)] = pool
        for token, amount in zip(stable.tokens, out, strict=True):
            _deposit(account, token, amount)
        self._save_account(ctx, sender, account)
        return [str(a) for a in out]

    @call(payable=True)
    def swap(
        self, ctx: Context, actions: list[dict[str, Any]], referral_id: str | None = None
    ) -> str:
        """Swap from the caller's deposits; returns the last action's output.

        ``referral_id`` is accepted as on Ref, where only referrals on the owner's list earn a
        part of the admin fee; the devnet keeps no such list."""
        assert_initialized(ctx.storage)
        ensure(referral_id is None or isinstance(referral_id, str), DESERIALIZE_ERROR)
        parsed = self._parse_actions(actions)
        ensure(len(parsed) > 0, E72)
        whitelist = ctx.storage["whitelist"]
        if any(a["token_in"] not in whitelist or a["token_out"] not in whitelist for a in parsed):
            ensure(ctx.attached_deposit > 0, E27)
        sender = ctx.predecessor_account_id
        account = self._unwrap_account(ctx, sender)
        first = parsed[0]
        ensure(first["amount_in"] is not None, E41)
        out = self._execute_actions(ctx, account, parsed, first["amount_in"])
        self._save_account(ctx, sender, account)
        return str(out)

    def _execute_actions(
        self,
        ctx: Context,
        account: dict[str, Any],
        actions: list[dict[str, Any]],
        amount: int,
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
        quiet: bool = False,
    ) -> int:
        """One swap action on a pool; ``quiet``: a dry run, which Ref runs without logs."""
        pool = self._pool(ctx, pool_id)
        if _kind(pool) != SIMPLE_POOL:
            return self._stable_swap(
                ctx, pool_id, pool, token_in, amount_in, token_out, min_amount_out, quiet
            )
        ensure(token_in != token_out, E73)
        tokens = pool["token_account_ids"]
        ensure(token_in in tokens and token_out in tokens, E102)
        i, o = tokens.index(token_in), tokens.index(token_out)
        amounts = pool["amounts"]
        amount_out = swap_return(amount_in, amounts[i], amounts[o], pool["total_fee"])
        ensure(amount_out >= min_amount_out, E68)
        if not quiet:
            ctx.log(f"Swapped {amount_in} {token_in} for {amount_out} {token_out}")
        prev_invariant = math.isqrt(amounts[i] * amounts[o])
        amounts[i] += amount_in
        amounts[o] -= amount_out
        new_invariant = math.isqrt(amounts[i] * amounts[o])
        ensure(new_invariant >= prev_invariant, E75)
        # Ref: the admin fee's part of the invariant's growth is minted as exchange shares
        numerator = (new_invariant - prev_invariant) * pool["shares_total_supply"]
        admin_bps = self._admin_fee_bps(ctx)
        if admin_bps > 0 and numerator > 0:
            admin_shares = numerator // (prev_invariant * FEE_DIVISOR // admin_bps)
            exchange = ctx.current_account_id
            if not quiet:
                ctx.log(f"Exchange {exchange} got {admin_shares} shares, No referral fee")
            self._mint_shares(ctx, pool, pool_id, exchange, admin_shares)
        ctx.storage[_pool_key(pool_id)] = pool
        return amount_out

    def _stable_swap(
        self,
        ctx: Context,
        pool_id: int,
        pool: dict[str, Any],
        token_in: str,
        amount_in: int,
        token_out: str,
        min_amount_out: int,
        quiet: bool,
    ) -> int:
        """A swap through a stable or rated pool, logged as Ref logs it (fees in token_out)."""
        outcome = self._stable(ctx, pool).swap(
            token_in, amount_in, token_out, min_amount_out, self._admin_fee_bps(ctx)
        )
        if not quiet:
            ctx.log(
                f"Swapped {amount_in} {token_in} for {outcome.amount_out} {token_out}, "
                f"total fee {outcome.total_fee}, admin fee {outcome.admin_fee}"
            )
        if outcome.admin_distributed:
            exchange = ctx.current_account_id
            self._credit_shares(ctx, pool_id, exchange, outcome.admin_shares)
            if not quiet:
                ctx.log(f"Exchange {exchange} got {outcome.admin_shares} shares, No referral fee")
        ctx.storage[_pool_key(pool_id)] = pool
        return outcome.amount_out

    def _credit_shares(self, ctx: Context, pool_id: int, owner: str, shares: int) -> None:
        """Add to ``owner``'s shares of a pool whose total supply already counts them."""
        if shares == 0:
            return
        key = _shares_key(pool_id, owner)
        ctx.storage[key] = ctx.storage.get(key, 0) + shares

    def _mint_shares(
        self, ctx: Context, pool: dict[str, Any], pool_id: int, owner: str, shares: int
    ) -> None:
        if shares == 0:
            return
        pool["shares_total_supply"] += shares
        self._credit_shares(ctx, pool_id, owner, shares)

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
        return self._pool_info(ctx, self._pool(ctx, pool_id))

    @view
    def get_pools(self, ctx: Context, from_index: int, limit: int) -> list[dict[str, Any]]:
        """Pools ``from_index`` on, at most ``limit`` of them (both required, as on Ref)."""
        start, count = u64(from_index), u64(limit)
        end = min(start + count, ctx.storage.get("pool_count", 0))
        return [self._pool_info(ctx, self._pool(ctx, i)) for i in range(start, end)]

    @view
    def get_pool_by_ids(self, ctx: Context, pool_ids: list[int]) -> list[dict[str, Any]]:
        ensure(isinstance(pool_ids, list), DESERIALIZE_ERROR)
        return [self._pool_info(ctx, self._pool(ctx, i)) for i in pool_ids]

    def _pool_info(self, ctx: Context, pool: dict[str, Any]) -> dict[str, Any]:
        """Ref's PoolInfo, the same shape for every kind."""
        if _kind(pool) != SIMPLE_POOL:
            return self._stable(ctx, pool).pool_info()
        return {
            "pool_kind": SIMPLE_POOL,
            "token_account_ids": list(pool["token_account_ids"]),
            "amounts": [str(a) for a in pool["amounts"]],
            "total_fee": pool["total_fee"],
            "shares_total_supply": str(pool["shares_total_supply"]),
            "amp": 0,
        }

    @view
    def get_stable_pool(self, ctx: Context, pool_id: int) -> dict[str, Any]:
        """Ref's StablePoolInfo (decimals and comparable amounts too); stable pools only."""
        pool = self._pool(ctx, pool_id)
        ensure(_kind(pool) == STABLE_SWAP, NOT_IMPLEMENTED)
        return self._stable(ctx, pool).detail_info()

    @view
    def get_rated_pool(self, ctx: Context, pool_id: int) -> dict[str, Any]:
        """Ref's RatedPoolInfo: StablePoolInfo plus each token's rate; rated pools only."""
        pool = self._pool(ctx, pool_id)
        ensure(_kind(pool) == RATED_SWAP, NOT_IMPLEMENTED)
        return self._stable(ctx, pool).detail_info()

    @view
    def get_pool_detail_info(self, ctx: Context, pool_id: int) -> dict[str, Any]:
        """Ref's PoolDetailInfo: the pool's own info, tagged by its kind (SimplePoolInfo has no
        pool_kind nor amp; StablePoolInfo and RatedPoolInfo are get_stable_pool's and
        get_rated_pool's)."""
        pool = self._pool(ctx, pool_id)
        kind = _kind(pool)
        if kind == SIMPLE_POOL:
            info = self._pool_info(ctx, pool)
            del info["pool_kind"], info["amp"]
            return {"SimplePoolInfo": info}
        tag = "StablePoolInfo" if kind == STABLE_SWAP else "RatedPoolInfo"
        return {tag: self._stable(ctx, pool).detail_info()}

    @view
    def get_pool_detail_infos(
        self, ctx: Context, from_index: int, limit: int
    ) -> list[dict[str, Any]]:
        start, count = u64(from_index), u64(limit)
        end = min(start + count, ctx.storage.get("pool_count", 0))
        return [self.get_pool_detail_info(ctx, i) for i in range(start, end)]

    @view
    def get_pool_detail_info_by_ids(self, ctx: Context, pool_ids: list[int]) -> list[Any]:
        ensure(isinstance(pool_ids, list), DESERIALIZE_ERROR)
        return [self.get_pool_detail_info(ctx, i) for i in pool_ids]

    @view
    def get_pool_fee(self, ctx: Context, pool_id: int) -> int:
        return int(self._pool(ctx, pool_id)["total_fee"])

    @view
    def get_return(
        self, ctx: Context, pool_id: int, token_in: str, amount_in: str, token_out: str
    ) -> str:
        """What a swap would pay now: Ref runs the swap itself without saving it."""
        pool = self._pool(ctx, pool_id)
        value = u128(amount_in)
        if _kind(pool) != SIMPLE_POOL:
            outcome = self._stable(ctx, pool).swap(
                token_in, value, token_out, 0, self._admin_fee_bps(ctx)
            )
            return str(outcome.amount_out)
        ensure(token_in != token_out, E73)  # Ref's get_return runs its swap's own checks
        tokens = pool["token_account_ids"]
        ensure(token_in in tokens and token_out in tokens, E102)
        i, o = tokens.index(token_in), tokens.index(token_out)
        return str(swap_return(value, pool["amounts"][i], pool["amounts"][o], pool["total_fee"]))

    @view
    def get_rated_return(
        self,
        ctx: Context,
        pool_id: int,
        token_in: str,
        amount_in: str,
        token_out: str,
        rates: list[str] | None = None,
    ) -> str:
        """A rated pool's output at ``rates`` (default: the stored ones, expired or not)."""
        pool = self._pool(ctx, pool_id)
        ensure(_kind(pool) == RATED_SWAP, NOT_IMPLEMENTED)
        given = None if rates is None else self._amount_list(rates)
        stable = self._stable(ctx, pool)
        return str(stable.rated_return(token_in, u128(amount_in), token_out, given))

    @view
    def list_rated_tokens(self, ctx: Context) -> dict[str, dict[str, Any]]:
        now = ctx.block_timestamp
        return {
            token: token_rates.token_info(record, now)
            for token, record in token_rates.rated_tokens(ctx.storage).items()
        }

    @view
    def predict_add_stable_liquidity(self, ctx: Context, pool_id: int, amounts: list[str]) -> str:
        pool = self._pool(ctx, pool_id)
        stable = self._stable_only(ctx, pool)
        outcome = stable.add_liquidity(self._amount_list(amounts), 0, self._admin_fee_bps(ctx))
        return str(outcome.shares)

    @view
    def predict_remove_liquidity_by_tokens(
        self, ctx: Context, pool_id: int, amounts: list[str]
    ) -> str:
        pool = self._pool(ctx, pool_id)
        stable = self._stable_only(ctx, pool)
        _, burn, _ = stable.burn_for_tokens(self._amount_list(amounts), self._admin_fee_bps(ctx))
        return str(burn)

    @view
    def predict_swap_actions(
        self, ctx: Context, token_deposit: dict[str, str], actions: list[dict[str, Any]]
    ) -> dict[str, str]:
        """Ref's dry run of swap actions from ``token_deposit``: the tokens held afterwards."""
        ensure(isinstance(token_deposit, dict), DESERIALIZE_ERROR)
        held = {parse_account_id(t): u128(a) for t, a in token_deposit.items()}
        parsed = self._parse_actions(actions)
        result: int | None = None
        for action in parsed:
            amount_in = action["amount_in"] if action["amount_in"] is not None else result
            ensure(amount_in is not None, E41)
            assert amount_in is not None
            if amount_in:
                ensure(held.get(action["token_in"], 0) >= amount_in, E22)
                held[action["token_in"]] -= amount_in
                if held[action["token_in"]] == 0:
                    del held[action["token_in"]]
            result = self._pool_swap(  # on this view's own copy of storage: nothing is saved
                ctx,
                action["pool_id"],
                action["token_in"],
                amount_in,
                action["token_out"],
                action["min_amount_out"],
                quiet=True,
            )
            held[action["token_out"]] = held.get(action["token_out"], 0) + result
        return {t: str(a) for t, a in held.items()}

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
            "admin_fee_bps": self._admin_fee_bps(ctx),
            "guardians": self._guardians(ctx),
        }

    @view
    def get_guardians(self, ctx: Context) -> list[str]:
        return self._guardians(ctx)
