"""swap {token_in, token_out, amount_in, max_slippage_bps?} on a Ref-compatible exchange.

The transactions, in order: wrap NEAR (``near_deposit``, registering on wNEAR first if needed)
when NEAR goes in; register on the output token and on the exchange if needed;
``ft_transfer_call`` of the input to the exchange with Ref's swap msg (``min_amount_out`` from the
quote minus slippage); ``near_withdraw`` of the guaranteed minimum when NEAR comes out (anything
received above the minimum stays as wNEAR). The slippage default is the user's (ToolContext),
and a requested slippage above it is refused.

Ref refunds the input when the minimum is not met, and the transaction still "succeeds"; such a
swap is reported as :class:`SwapFailedError` by checking the receipts, the used amount that
``ft_transfer_call`` returns, and the balances.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import ClassVar

from tools.action import (
    NEAR,
    CanonicalAction,
    FunctionCallSpec,
    Quote,
    TokenFlow,
    TransactionSpec,
)
from tools.amounts import format_amount, parse_amount
from tools.args import SwapArgs
from tools.base import ONE_YOCTO, ToolArgs, ToolContext, ToolResult, execute_transactions
from tools.errors import (
    InsufficientBalanceError,
    NotConfiguredError,
    SwapFailedError,
    ToolError,
    TransactionFailedError,
    ViewCallError,
)
from tools.routing import best_route, min_out
from tools.tokens import NEAR_DECIMALS
from tools.transfer import registration_deposit, storage_deposit_call


class SwapTool:
    name: ClassVar[str] = "swap"
    description: ClassVar[str] = "Swap one token for another on the exchange at a quoted price."
    Args: ClassVar[type[ToolArgs]] = SwapArgs
    read_only: ClassVar[bool] = False

    async def prepare(self, args: SwapArgs, ctx: ToolContext) -> CanonicalAction:
        exchange = ctx.network.exchange_id
        wrap = ctx.network.wrap_id or ctx.tokens.wrap_id
        if not exchange or not wrap:
            raise NotConfiguredError(f"no exchange is configured on {ctx.network.network_id}")
        tin = await ctx.tokens.resolve(args.token_in)
        tout = await ctx.tokens.resolve(args.token_out)
        if tin.flow_id == tout.flow_id:
            raise ToolError(f"token_in and token_out are both {tin.symbol}")
        slippage = ctx.max_slippage_bps if args.max_slippage_bps is None else args.max_slippage_bps
        if slippage > ctx.max_slippage_bps:
            raise ToolError(
                f"max_slippage_bps {slippage} is above the configured limit "
                f"{ctx.max_slippage_bps}", code_hint="slippage_above_limit")
        amount_in = parse_amount(args.amount_in, tin.decimals)
        eff_in = wrap if tin.is_native else tin.contract_id
        eff_out = wrap if tout.is_native else tout.contract_id
        assert eff_in is not None and eff_out is not None
        if eff_in == eff_out:
            raise ToolError("NEAR and wNEAR are the same asset; wrapping is not a swap here")

        near_avail = (await ctx.chain.near_balance(ctx.account_id))["available"]
        if not tin.is_native:
            held = int(await ctx.chain.view(eff_in, "ft_balance_of",
                                            {"account_id": ctx.account_id}) or 0)
            if amount_in > held:
                raise InsufficientBalanceError(
                    f"cannot swap {format_amount(amount_in, tin.decimals)} {tin.symbol}: the "
                    f"account holds {format_amount(held, tin.decimals)} {tin.symbol}",
                    needed=str(amount_in), available=str(held), token=eff_in)

        route = await best_route(ctx.chain, exchange, eff_in, eff_out, amount_in, via=wrap)
        minimum = min_out(route.amount_out, slippage)
        me = ctx.account_id
        txs: list[TransactionSpec] = []
        outflows: list[TokenFlow] = []
        near_needed = ONE_YOCTO

        async def register(contract: str) -> FunctionCallSpec | None:
            nonlocal near_needed
            try:
                deposit = await registration_deposit(ctx, contract, me)
            except ViewCallError:
                if contract != exchange:
                    raise
                deposit = 0  # an exchange without NEP-145 storage needs no registration
            if not deposit:
                return None
            near_needed += deposit
            outflows.append(TokenFlow(token=NEAR, amount=deposit, recipient=contract,
                                      purpose="storage_deposit"))
            return storage_deposit_call(ctx, me, deposit)

        registered: set[str] = set()
        if tin.is_native:
            actions = []
            if (reg := await register(wrap)) is not None:
                actions.append(reg)
            registered.add(wrap)
            actions.append(FunctionCallSpec(method_name="near_deposit", args={},
                                            gas=ctx.gas_for("near_deposit"), deposit=amount_in))
            near_needed += amount_in
            outflows.append(TokenFlow(token=NEAR, amount=amount_in, recipient=wrap,
                                      purpose="wrap"))
            txs.append(TransactionSpec(signer_id=me, receiver_id=wrap, actions=tuple(actions)))
        for contract in (eff_out, exchange):
            if contract in registered:
                continue
            registered.add(contract)
            if (reg := await register(contract)) is not None:
                txs.append(TransactionSpec(signer_id=me, receiver_id=contract, actions=(reg,)))
        msg = json.dumps({"actions": route.swap_actions(minimum)}, separators=(",", ":"))
        txs.append(TransactionSpec(signer_id=me, receiver_id=eff_in, actions=(FunctionCallSpec(
            method_name="ft_transfer_call",
            args={"receiver_id": exchange, "amount": str(amount_in), "msg": msg},
            gas=ctx.gas_for("ft_transfer_call"), deposit=ONE_YOCTO),)))
        outflows.append(TokenFlow(token=eff_in, amount=amount_in, recipient=exchange,
                                  purpose="swap_in"))
        outflows.append(TokenFlow(token=NEAR, amount=ONE_YOCTO, recipient=eff_in,
                                  purpose="ft_transfer_deposit"))
        if tout.is_native:
            txs.append(TransactionSpec(signer_id=me, receiver_id=wrap, actions=(FunctionCallSpec(
                method_name="near_withdraw", args={"amount": str(minimum)},
                gas=ctx.gas_for("near_withdraw"), deposit=ONE_YOCTO),)))
            near_needed += ONE_YOCTO
            outflows.append(TokenFlow(token=NEAR, amount=ONE_YOCTO, recipient=wrap,
                                      purpose="near_withdraw_deposit"))
        if near_needed > near_avail:
            raise InsufficientBalanceError(
                f"the swap needs {format_amount(near_needed, NEAR_DECIMALS)} NEAR (input and "
                f"deposits) but {format_amount(near_avail, NEAR_DECIMALS)} NEAR is available",
                needed=str(near_needed), available=str(near_avail))
        quote = Quote(
            token_in=tin.flow_id, token_out=tout.flow_id, amount_in=amount_in,
            amount_out=route.amount_out, min_amount_out=minimum, pool_ids=route.pool_ids,
            max_slippage_bps=slippage, fetched_at=datetime.now(UTC), source=exchange)
        preview = (
            f"Swap {format_amount(amount_in, tin.decimals)} {tin.symbol} for about "
            f"{format_amount(route.amount_out, tout.decimals)} {tout.symbol} (at least "
            f"{format_amount(minimum, tout.decimals)}, slippage {slippage} bps) on {exchange} "
            f"via pool{'s' if len(route.pool_ids) > 1 else ''} "
            f"{', '.join(map(str, route.pool_ids))}")
        return CanonicalAction(
            tool=self.name, signer_id=me, transactions=tuple(txs), outflows=tuple(outflows),
            recipients=(exchange,), quote=quote, preview=preview)

    async def execute(self, action: CanonicalAction, ctx: ToolContext) -> ToolResult:
        quote = action.quote
        if quote is None:
            raise ToolError("a swap action must carry its quote")
        age = (datetime.now(UTC) - quote.fetched_at).total_seconds()
        if age > ctx.quote_max_age_s:
            raise SwapFailedError(
                f"the quote is {age:.0f}s old (limit {ctx.quote_max_age_s:.0f}s); "
                "prepare the swap again for a fresh price", quote_age_s=int(age))
        wrap = ctx.network.wrap_id or ctx.tokens.wrap_id or ""
        eff_in = wrap if quote.token_in == NEAR else quote.token_in
        eff_out = wrap if quote.token_out == NEAR else quote.token_out
        watch = [NEAR, eff_in, eff_out]
        try:
            result, outcomes = await execute_transactions(action, ctx, watch)
        except TransactionFailedError as exc:
            raise self._as_swap_failure(exc, action, eff_in) from exc
        swap_outcome = outcomes[_swap_index(action)]
        used = swap_outcome.json_value()
        received = result.balance_changes.get(eff_out, 0)
        if quote.token_out == NEAR:
            received += quote.min_amount_out if len(outcomes) == len(action.transactions) else 0
        if str(used) == "0" or received < quote.min_amount_out:
            if str(used) == "0":
                text = ("the swap did not happen: the exchange refunded the input (price moved "
                        f"beyond {quote.max_slippage_bps} bps); only gas was spent")
            else:
                text = (f"the exchange took the input (used {used}) but only {received} of "
                        f"{quote.token_out} arrived, below the minimum {quote.min_amount_out}; "
                        "check the account on the exchange")
            exc = SwapFailedError(text, tx_hash=swap_outcome.tx_hash, used=str(used))
            result.ok = False
            result.data["error"] = exc.to_dict()
            exc.result = result
            raise exc
        tout = await ctx.tokens.by_contract(quote.token_out)
        result.data.update({"amount_in": str(quote.amount_in), "amount_out": str(received),
                            "min_amount_out": str(quote.min_amount_out),
                            "pool_ids": list(quote.pool_ids)})
        result.summary = (f"Swapped: received {format_amount(received, tout.decimals)} "
                          f"{tout.symbol} ({action.preview})")
        return result

    def _as_swap_failure(self, exc: TransactionFailedError, action: CanonicalAction,
                         eff_in: str) -> ToolError:
        outcome = exc.outcome
        failed_index = len(exc.result.tx_hashes) - 1 if exc.result is not None else -1
        if outcome is None or failed_index != _swap_index(action):
            return exc
        refunded = SwapFailedError(
            f"the swap failed and the input was refunded: {outcome.first_error()}; "
            "only gas was spent" + (" (the NEAR wrapped for it stays as wNEAR)"
                                    if action.quote and action.quote.token_in == NEAR else ""),
            tx_hash=outcome.tx_hash)
        refunded.result = exc.result
        return refunded


def _swap_index(action: CanonicalAction) -> int:
    """Which of the action's transactions is the ft_transfer_call to the exchange."""
    for i, tx in enumerate(action.transactions):
        if any(getattr(a, "method_name", "") == "ft_transfer_call" for a in tx.actions):
            return i
    raise ToolError("a swap action has no ft_transfer_call")
