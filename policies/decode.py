"""What a canonical action really does, derived from its transactions alone.

The summary fields a tool fills in (outflows, recipients, quote) are claims; this module reads
every Transfer, every attached deposit and every argument the contracts will act on, including
the swap route and any recipient inside ``ft_transfer_call``'s ``msg``. Anything it cannot read
with certainty raises :class:`Undecodable`, which the evaluator turns into a DENY.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tools.action import NEAR, CanonicalAction, FunctionCallSpec, TransferSpec
from tools.network import is_valid_account_id
from tools.registry import contract_methods
from tools.rpc_values import u128_text

ONE_YOCTO = 1

SPEND = "spend"  # value leaves the user for good
STORAGE = "storage"  # NEP-145 registration deposit, bounded separately
WRAP = "wrap"  # NEAR -> wNEAR held by the user: a conversion, not a spend
SECURITY = "security"  # the 1 yoctoNEAR NEP-141 requires


class Undecodable(Exception):
    """The action holds something whose effect cannot be established; ``code`` says what."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Flow:
    token: str
    amount: int
    recipient: str
    category: str
    method: str


@dataclass(frozen=True, slots=True)
class Swap:
    exchange: str
    token_in: str
    token_out: str
    amount_in: int
    min_amount_out: int
    pool_ids: tuple[int, ...]
    receiver: str  # where the output goes (the signer unless msg says otherwise)


@dataclass(frozen=True, slots=True)
class Call:
    contract: str
    method: str
    deposit: int


@dataclass
class Decoded:
    flows: list[Flow] = field(default_factory=list)
    swaps: list[Swap] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)  # calls governed by the contract allowlist
    recipients: set[str] = field(default_factory=set)  # accounts other than the user paid
    tokens: set[str] = field(default_factory=set)  # every token moved, converted or bought
    implied_kind: str = ""
    wrap_id: str | None = None

    def spent(self) -> dict[str, int]:
        """Per token, what leaves the user for good (the amounts caps apply to).

        wNEAR is NEAR: a swap that wraps NEAR and sells the wNEAR spends NEAR, and NEAR caps,
        windows and the global ceiling must see it.
        """
        out: dict[str, int] = {}
        for f in self.flows:
            if f.category == SPEND:
                token = NEAR if f.token == self.wrap_id else f.token
                out[token] = out.get(token, 0) + f.amount
        return out

    def storage(self) -> int:
        return sum(f.amount for f in self.flows if f.category == STORAGE)


_FT_TRANSFER_ARGS = {"receiver_id", "amount", "memo"}
_FT_TRANSFER_CALL_ARGS = {"receiver_id", "amount", "memo", "msg"}
_REF_MSG_KEYS = {"actions", "referral_id", "skip_unwrap_near", "force", "receiver_id"}
_REF_ACTION_KEYS = {"pool_id", "token_in", "token_out", "amount_in", "min_amount_out"}
_VALUE_METHODS = {
    "ft_transfer",
    "ft_transfer_call",
    "storage_deposit",
    "near_deposit",
    "near_withdraw",
}


def decode(
    action: CanonicalAction, *, exchanges: frozenset[str] | set[str], wrap_id: str | None
) -> Decoded:
    """Every flow, swap, call and recipient in ``action``; Undecodable when unsure."""
    out = Decoded(wrap_id=wrap_id)
    signer = action.signer_id
    for t_index, tx in enumerate(action.transactions):
        if tx.signer_id != signer:
            raise Undecodable(
                "foreign_signer", f"transaction {t_index} is signed by {tx.signer_id}, not {signer}"
            )
        for spec in tx.actions:
            if isinstance(spec, TransferSpec):
                if tx.receiver_id == signer:
                    raise Undecodable("self_call", "a transfer to the signer itself")
                _flow(out, NEAR, spec.deposit, tx.receiver_id, SPEND, "Transfer")
                out.recipients.add(tx.receiver_id)
            elif isinstance(spec, FunctionCallSpec):
                if tx.receiver_id == signer:
                    raise Undecodable(
                        "self_call", f"{spec.method_name} on the signer's own account"
                    )
                _function_call(out, signer, tx.receiver_id, spec, exchanges, wrap_id)
            else:  # pragma: no cover - the action model admits no other kinds
                raise Undecodable("unknown_action", type(spec).__name__)
    out.implied_kind = _implied_kind(out)
    return out


def _flow(
    out: Decoded, token: str, amount: int, recipient: str, category: str, method: str
) -> None:
    if amount > 0:
        out.flows.append(Flow(token, amount, recipient, category, method))
        if category in (SPEND, WRAP):
            out.tokens.add(token)


def _function_call(
    out: Decoded,
    signer: str,
    contract: str,
    spec: FunctionCallSpec,
    exchanges: frozenset[str] | set[str],
    wrap_id: str | None,
) -> None:
    method, args, deposit = spec.method_name, spec.args, spec.deposit
    if method == "ft_transfer":
        _exact_keys(args, _FT_TRANSFER_ARGS, {"receiver_id", "amount"}, method)
        _one_yocto(out, contract, deposit, method)
        receiver = _account(args["receiver_id"], method)
        if receiver == signer:
            raise Undecodable("self_call", "ft_transfer to the signer itself")
        _flow(out, contract, _u128(args["amount"], method), receiver, SPEND, method)
        out.recipients.add(receiver)
    elif method == "ft_transfer_call":
        _exact_keys(args, _FT_TRANSFER_CALL_ARGS, {"receiver_id", "amount", "msg"}, method)
        _one_yocto(out, contract, deposit, method)
        receiver = _account(args["receiver_id"], method)
        amount = _u128(args["amount"], method)
        msg = args["msg"]
        if not isinstance(msg, str):
            raise Undecodable("undecodable_msg", "ft_transfer_call msg is not a string")
        if receiver in exchanges:
            swap = _ref_swap(signer, receiver, contract, amount, msg)
            out.swaps.append(swap)
            out.tokens.update((swap.token_in, swap.token_out))
            _flow(out, contract, amount, receiver, SPEND, "swap")
            if swap.receiver != signer:
                out.recipients.add(swap.receiver)
        elif msg == "":
            _flow(out, contract, amount, receiver, SPEND, method)
            out.recipients.add(receiver)
        else:
            raise Undecodable(
                "undecodable_msg",
                f"ft_transfer_call to {receiver} carries a msg this engine cannot "
                "read; it could name any recipient",
            )
    elif method == "storage_deposit":
        _exact_keys(args, {"account_id", "registration_only"}, set(), method)
        if "account_id" in args:
            account = _account(args["account_id"], method)
            if account != signer:
                out.recipients.add(account)
        if "registration_only" in args and not isinstance(args["registration_only"], bool):
            raise Undecodable("bad_args", "storage_deposit registration_only is not a boolean")
        _flow(out, NEAR, deposit, contract, STORAGE, method)
    elif method == "near_deposit" and wrap_id is not None and contract == wrap_id:
        _exact_keys(args, set(), set(), method)
        _flow(out, NEAR, deposit, contract, WRAP, method)
        out.tokens.add(wrap_id)
    elif method == "near_withdraw" and wrap_id is not None and contract == wrap_id:
        _exact_keys(args, {"amount"}, {"amount"}, method)
        _u128(args["amount"], method)
        _one_yocto(out, contract, deposit, method)
        out.tokens.update((wrap_id, NEAR))
    elif method == "claim_lostfound" and contract in exchanges:
        # Ref's claim of the caller's own lost-and-found: it pays out to the caller only, and its
        # 1 yoctoNEAR is the security deposit, not a payment
        _exact_keys(args, {"token_id"}, {"token_id"}, method)
        out.tokens.add(_account(args["token_id"], method))
        _one_yocto(out, contract, deposit, method)
        out.calls.append(Call(contract, method, 0))
    elif method in _VALUE_METHODS:
        raise Undecodable(
            "unknown_contract", f"{method} on {contract}, which is not the configured wrap contract"
        )
    else:
        # submit_label, claim_rewards and anything else: governed by the contract allowlist; a
        # deposit is a NEAR payment to the contract and is checked like any other.
        out.calls.append(Call(contract, method, deposit))
        if deposit:
            _flow(out, NEAR, deposit, contract, SPEND, method)
            out.recipients.add(contract)


def _ref_swap(signer: str, exchange: str, token_contract: str, amount: int, msg: str) -> Swap:
    try:
        body = json.loads(msg)
    except ValueError as exc:
        raise Undecodable("undecodable_msg", f"swap msg is not JSON: {exc}") from exc
    if not isinstance(body, dict) or set(body) - _REF_MSG_KEYS:
        extra = sorted(set(body) - _REF_MSG_KEYS) if isinstance(body, dict) else body
        raise Undecodable(
            "undecodable_msg", f"swap msg has fields this engine cannot read: {extra}"
        )
    if "referral_id" in body:
        raise Undecodable("undecodable_msg", "swap msg pays a referral fee to another account")
    if body.get("force", 0) not in (0, 1) or not isinstance(
        body.get("skip_unwrap_near", False), bool
    ):
        raise Undecodable("undecodable_msg", "swap msg has an unexpected force/skip_unwrap_near")
    legs = body.get("actions")
    if not isinstance(legs, list) or not legs:
        raise Undecodable("undecodable_msg", "swap msg has no actions")
    current, pools, min_out = token_contract, [], 0
    for i, leg in enumerate(legs):
        if not isinstance(leg, dict) or set(leg) - _REF_ACTION_KEYS:
            raise Undecodable("undecodable_msg", f"swap action {i} has unknown fields")
        pool = leg.get("pool_id")
        if isinstance(pool, bool) or not isinstance(pool, int) or pool < 0:
            raise Undecodable("undecodable_msg", f"swap action {i} has no valid pool_id")
        if leg.get("token_in") != current:
            raise Undecodable(
                "undecodable_msg",
                f"swap action {i} takes {leg.get('token_in')!r}, expected {current}",
            )
        if i == 0 and "amount_in" in leg and _u128(leg["amount_in"], "swap") != amount:
            raise Undecodable("amount_mismatch", "swap amount_in differs from the amount sent")
        if i > 0 and "amount_in" in leg:
            raise Undecodable("undecodable_msg", "a later swap hop names its own amount_in")
        token_out = leg.get("token_out")
        if not isinstance(token_out, str) or token_out == current:
            raise Undecodable("undecodable_msg", f"swap action {i} has no valid token_out")
        min_out = _u128(leg.get("min_amount_out", "0"), "swap")
        current = _account(token_out, "swap")
        pools.append(pool)
    receiver = _account(body.get("receiver_id", signer), "swap")
    return Swap(exchange, token_contract, current, amount, min_out, tuple(pools), receiver)


def _implied_kind(out: Decoded) -> str:
    """The tool kind the transactions amount to, whatever the action is labelled."""
    methods = {c.method for c in out.calls}
    spend_methods = {f.method for f in out.flows if f.category == SPEND}
    if not out.flows and not out.calls and not out.swaps and not out.tokens:
        return "read_only"
    if out.swaps and not methods and spend_methods == {"swap"}:
        return "swap"
    if out.swaps or not out.flows and not methods:
        return "other"
    pays = any(f.category in (SPEND, WRAP) for f in out.flows)
    if len(methods) == 1 and not pays:
        (method,) = methods
        callers = [tool for tool, own in contract_methods().items() if method in own]
        if len(callers) == 1:  # the one tool that calls this contract method
            return callers[0]
    if (
        not methods
        and spend_methods
        and spend_methods <= {"Transfer", "ft_transfer", "ft_transfer_call"}
    ):
        return "transfer"
    return "other"


def _exact_keys(args: dict[str, Any], allowed: set[str], required: set[str], method: str) -> None:
    if set(args) - allowed:
        raise Undecodable(
            "bad_args", f"{method} has unexpected arguments {sorted(set(args) - allowed)}"
        )
    if required - set(args):
        raise Undecodable("bad_args", f"{method} lacks arguments {sorted(required - set(args))}")


def _one_yocto(out: Decoded, contract: str, deposit: int, method: str) -> None:
    if deposit != ONE_YOCTO:
        raise Undecodable(
            "unexpected_deposit",
            f"{method} must attach exactly 1 yoctoNEAR, this one attaches {deposit}",
        )
    out.flows.append(Flow(NEAR, ONE_YOCTO, contract, SECURITY, method))


def _u128(value: Any, method: str) -> int:
    number = u128_text(value)
    if number is not None:
        return number
    raise Undecodable("bad_args", f"{method}: {value!r} is not a u128 decimal string")


def _account(value: Any, method: str) -> str:
    if not isinstance(value, str) or not is_valid_account_id(value):
        raise Undecodable("bad_args", f"{method}: {value!r} is not a valid account id")
    return value
