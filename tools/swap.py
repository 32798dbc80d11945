"""swap {token_in, token_out, amount_in, max_slippage_bps?} on a Ref-compatible exchange.

The transactions, in order: register on the output token if needed; ``ft_transfer_call`` of the
input to the exchange with Ref's swap msg (``min_amount_out`` from the quote minus slippage),
preceded in the same transaction to wrap.near by ``near_deposit`` (and a wNEAR registration if
needed) when NEAR goes in; ``near_withdraw`` of the guaranteed minimum when NEAR comes out
(anything received above the minimum stays as wNEAR). No registration on the exchange: Ref runs an
instant swap (``ft_transfer_call`` with a swap msg) in a virtual account, whoever the sender is.
The slippage default is the user's (ToolContext), and a requested slippage above it is refused.
The account must hold every deposit plus the prepaid gas at the current gas price.

Ref refunds the input when the minimum is not met, and the transaction still "succeeds"; such a
swap is reported as :class:`SwapFailedError`. The verdict and the amounts come from the
``ft_transfer_call`` outcome alone, never from balance deltas (another action of the same account
may run at the same time and move the same tokens): its final value is the input the exchange
used (NEP-141; "0" = fully refunded), the exchange's receipts log each pool swap (every format
Ref prints: see ``_SWAP_LOGS``), and the output token's receipts carry the delivery to the user (a
NEP-297 ``ft_transfer`` event). An output the exchange could not deliver stays with the exchange
and is reported where Ref's logs say it went: the user's deposit there, the user's own
lost-and-found (claimable with the ``claim_lostfound`` tool) or the owner's central one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

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
from tools.base import (
    ONE_YOCTO,
    OnSigned,
    Tool,
    ToolContext,
    ToolResult,
    execute_transactions,
    require_near_for,
    require_token_balance,
)
from tools.errors import (
    NotConfiguredError,
    SwapFailedError,
    ToolError,
    TransactionFailedError,
)
from tools.lostfound import CLAIM_COMMAND
from tools.market import market_of
from tools.outcome import TxOutcome
from tools.ref_logs import (
    LOSTFOUND_OWNER,
    LOSTFOUND_UNKNOWN,
    LOSTFOUND_USER,
    ft_transfers,
    lostfound_of,
    swap_line,
)
from tools.routing import best_route, min_out
from tools.rpc_values import u128_text
from tools.transfer import registration


class SwapTool(Tool[SwapArgs]):
    name: ClassVar[str] = "swap"
    description: ClassVar[str] = "Swap one token for another on the exchange at a quoted price."
    Args = SwapArgs
    moves_funds = True
    grounded_fields = ("token_in", "amount_in", "token_out")
    asks_to = "swap"
    needs_contracts = ("exchange", "wrap")

    async def prepare(self, args: SwapArgs, ctx: ToolContext) -> CanonicalAction:
        exchange = ctx.network.exchange_id
        if not exchange:
            raise NotConfiguredError(f"no exchange is configured on {ctx.network.network_id}")
        wrap = ctx.require_wrap("a swap (the exchange trades NEAR as wNEAR)")
        tin = await ctx.tokens.resolve(args.token_in)
        tout = await ctx.tokens.resolve(args.token_out)
        if tin.flow_id == tout.flow_id:
            raise ToolError(f"token_in and token_out are both {tin.symbol}")
        slippage = ctx.max_slippage_bps if args.max_slippage_bps is None else args.max_slippage_bps
        if slippage > ctx.max_slippage_bps:
            raise ToolError(
                f"max_slippage_bps {slippage} is above the configured limit {ctx.max_slippage_bps}",
                code_hint="slippage_above_limit",
            )
        amount_in = parse_amount(args.amount_in, tin.decimals)
        eff_in = tin.contract_id or wrap  # native NEAR trades as wNEAR
        eff_out = tout.contract_id or wrap
        if eff_in == eff_out:
            raise ToolError("NEAR and wNEAR are the same asset; wrapping is not a swap here")

        near_avail = (await ctx.chain.near_balance(ctx.account_id))["available"]
        if not tin.is_native:
            await require_token_balance(ctx, eff_in, tin.symbol, tin.decimals, amount_in, "swap")

        route = await best_route(market_of(ctx), eff_in, eff_out, amount_in)
        minimum = min_out(route.amount_out, slippage)
        me = ctx.account_id
        txs: list[TransactionSpec] = []
        outflows: list[TokenFlow] = []

        async def register(contract: str) -> FunctionCallSpec | None:
            if (reg := await registration(ctx, contract, me)) is None:
                return None
            call, flow = reg
            outflows.append(flow)
            return call

        if (reg := await register(eff_out)) is not None:
            txs.append(TransactionSpec(signer_id=me, receiver_id=eff_out, actions=(reg,)))
        swap_actions: list[FunctionCallSpec] = []
        if tin.is_native:  # wrap and swap in one transaction to wrap.near: actions run in order
            if (reg := await register(wrap)) is not None:
                swap_actions.append(reg)
            swap_actions.append(
                FunctionCallSpec(
                    method_name="near_deposit",
                    args={},
                    gas=ctx.gas_for("near_deposit"),
                    deposit=amount_in,
                )
            )
            outflows.append(TokenFlow(token=NEAR, amount=amount_in, recipient=wrap, purpose="wrap"))
        msg = json.dumps({"actions": route.swap_actions(minimum)}, separators=(",", ":"))
        swap_actions.append(
            FunctionCallSpec(
                method_name="ft_transfer_call",
                args={"receiver_id": exchange, "amount": str(amount_in), "msg": msg},
                gas=ctx.gas_for("ft_transfer_call"),
                deposit=ONE_YOCTO,
            )
        )
        txs.append(TransactionSpec(signer_id=me, receiver_id=eff_in, actions=tuple(swap_actions)))
        outflows.append(
            TokenFlow(token=eff_in, amount=amount_in, recipient=exchange, purpose="swap_in")
        )
        outflows.append(
            TokenFlow(token=NEAR, amount=ONE_YOCTO, recipient=eff_in, purpose="ft_transfer_deposit")
        )
        if tout.is_native:
            txs.append(
                TransactionSpec(
                    signer_id=me,
                    receiver_id=wrap,
                    actions=(
                        FunctionCallSpec(
                            method_name="near_withdraw",
                            args={"amount": str(minimum)},
                            gas=ctx.gas_for("near_withdraw"),
                            deposit=ONE_YOCTO,
                        ),
                    ),
                )
            )
            outflows.append(
                TokenFlow(
                    token=NEAR, amount=ONE_YOCTO, recipient=wrap, purpose="near_withdraw_deposit"
                )
            )
        await require_near_for(ctx, txs, "the swap", available=near_avail)
        quote = Quote(
            token_in=tin.flow_id,
            token_out=tout.flow_id,
            amount_in=amount_in,
            amount_out=route.amount_out,
            min_amount_out=minimum,
            pool_ids=route.pool_ids,
            max_slippage_bps=slippage,
            fetched_at=datetime.now(UTC),
            source=exchange,
        )
        preview = (
            f"Swap {format_amount(amount_in, tin.decimals)} {tin.symbol} for about "
            f"{format_amount(route.amount_out, tout.decimals)} {tout.symbol} (at least "
            f"{format_amount(minimum, tout.decimals)}, slippage {slippage} bps) on {exchange} "
            f"via pool{'s' if len(route.pool_ids) > 1 else ''} "
            f"{', '.join(map(str, route.pool_ids))}"
        )
        return CanonicalAction(
            tool=self.name,
            signer_id=me,
            transactions=tuple(txs),
            outflows=tuple(outflows),
            recipients=(exchange,),
            quote=quote,
            preview=preview,
        )

    async def execute(
        self, action: CanonicalAction, ctx: ToolContext, on_signed: OnSigned | None = None
    ) -> ToolResult:
        quote = action.quote
        if quote is None:
            raise ToolError("a swap action must carry its quote")
        age = (datetime.now(UTC) - quote.fetched_at).total_seconds()
        if age > ctx.quote_max_age_s:
            raise SwapFailedError(
                f"the quote is {age:.0f}s old (limit {ctx.quote_max_age_s:.0f}s); "
                "prepare the swap again for a fresh price",
                quote_age_s=int(age),
            )
        wrap = ctx.require_wrap("a swap (the exchange trades NEAR as wNEAR)")
        eff_in = wrap if quote.token_in == NEAR else quote.token_in
        eff_out = wrap if quote.token_out == NEAR else quote.token_out
        exchange = ctx.network.exchange_id or quote.source
        # token balance changes come from the swap's own receipts (below): reading balances before
        # and after would cost four requests and could count another action's tokens
        watch = [NEAR]
        index = _swap_index(action)
        judged: list[SwapReceipts] = []

        def verify(i: int, outcome: TxOutcome) -> ToolError | None:
            """Judge the swap before anything after it (the unwrap) is sent."""
            if i != index:
                return None
            seen = read_swap(
                outcome,
                exchange=exchange,
                user=action.signer_id,
                token_in=eff_in,
                token_out=eff_out,
            )
            judged.append(seen)
            problem = _judge(seen, quote, eff_out)
            if problem is None:
                return None
            return SwapFailedError(
                problem,
                tx_hash=outcome.tx_hash,
                used=str(seen.used),
                amount_out=str(seen.amount_out),
            )

        try:
            result, outcomes = await execute_transactions(
                action, ctx, watch, verify, on_signed=on_signed
            )
        except TransactionFailedError as exc:
            raise self._as_swap_failure(exc, action, index, exchange, eff_in, eff_out) from exc
        except SwapFailedError as exc:
            if exc.result is not None and judged:
                exc.result.data["swap_receipts"] = judged[-1].as_dict()
            raise
        seen = judged[-1]
        result.data["swap_receipts"] = seen.as_dict()
        received = seen.delivered
        tout = await ctx.tokens.by_contract(quote.token_out)
        result.data.update(
            {
                "amount_in": str(seen.used),
                "amount_out": str(received),
                "min_amount_out": str(quote.min_amount_out),
                "pool_ids": list(quote.pool_ids),
                "source": "receipts",
            }
        )
        result.balance_changes = _token_changes(
            result.balance_changes,
            seen,
            quote,
            wrap,
            eff_in,
            eff_out,
            unwrapped_all=(quote.token_out == NEAR and len(outcomes) == len(action.transactions)),
        )
        unwrapped = ""
        if quote.token_out == NEAR and len(outcomes) == len(action.transactions):
            result.data["unwrapped"] = str(quote.min_amount_out)
            if received > quote.min_amount_out:
                unwrapped = (
                    f"; {format_amount(received - quote.min_amount_out, tout.decimals)}"
                    " stays as wNEAR"
                )
        result.summary = (
            f"Swapped: received {format_amount(received, tout.decimals)} "
            f"{tout.symbol}{unwrapped} ({action.preview})"
        )
        return result

    def _as_swap_failure(
        self,
        exc: TransactionFailedError,
        action: CanonicalAction,
        index: int,
        exchange: str,
        eff_in: str,
        eff_out: str,
    ) -> ToolError:
        outcome = exc.outcome
        failed_index = len(exc.result.tx_hashes) - 1 if exc.result is not None else -1
        if outcome is None or failed_index != index:
            return exc
        seen = read_swap(
            outcome, exchange=exchange, user=action.signer_id, token_in=eff_in, token_out=eff_out
        )
        if exc.result is not None:
            exc.result.data["swap_receipts"] = seen.as_dict()
        if seen.amount_out > 0 and seen.used:
            where = parked_where(seen.lostfound, exchange, eff_out)
            reason = "; ".join(seen.delivery_errors) or outcome.first_error()
            failure: ToolError = SwapFailedError(
                f"the swap happened (used {seen.used} of {eff_in}, {seen.amount_out} of {eff_out} "
                f"out) but the output was not delivered ({reason}): it is {where}",
                tx_hash=outcome.tx_hash,
                used=str(seen.used),
                amount_out=str(seen.amount_out),
                parked=True,
                lostfound=seen.lostfound,
                token=eff_out,
            )
        else:
            failure = SwapFailedError(
                f"the swap failed and the input was refunded: {outcome.first_error()}; "
                "only gas was spent"
                + (
                    " (the NEAR wrapped for it stays as wNEAR)"
                    if action.quote and action.quote.token_in == NEAR
                    else ""
                ),
                tx_hash=outcome.tx_hash,
            )
        failure.result = exc.result
        return failure


@dataclass(frozen=True)
class SwapReceipts:
    """What one ft_transfer_call outcome proves about a swap (integers in base units)."""

    used: int | None  # the value ft_transfer_call returned; None when it is not a U128
    swapped_in: int  # token_in that went into pools, by the exchange's logs
    amount_out: int  # token_out the pools produced, by the exchange's logs
    delivered: int  # token_out sent from the exchange to the user by successful receipts
    delivery_errors: tuple[str, ...] = ()  # failed receipts of the output token
    lostfound: str = ""  # whose lost-and-found the output went to (LOSTFOUND_*), "" for none
    delivery_by_event: bool = True  # False: delivery inferred from receipt success only

    def as_dict(self) -> dict[str, Any]:
        return {
            "used": None if self.used is None else str(self.used),
            "swapped_in": str(self.swapped_in),
            "amount_out": str(self.amount_out),
            "delivered": str(self.delivered),
            "delivery_errors": list(self.delivery_errors),
            "lostfound": self.lostfound,
            "delivery_by_event": self.delivery_by_event,
        }


def read_swap(
    outcome: TxOutcome, *, exchange: str, user: str, token_in: str, token_out: str
) -> SwapReceipts:
    """Read a swap's result from its own receipts, which no concurrent action can disturb."""
    used = _u128_value(outcome.value)
    swapped_in = produced = delivered = 0
    delivery_errors: list[str] = []
    out_receipts_ok = 0
    events = False
    lostfound = ""
    for receipt in outcome.receipts:
        if receipt.executor_id == exchange:
            if not receipt.ok:
                continue  # a failed receipt's state changes were reverted
            lostfound = lostfound_of(receipt.logs) or lostfound
            for line in receipt.logs:
                swap = swap_line(line)
                if swap is None:
                    continue
                amount_in, tin, amount_out, tout = swap
                if tin == token_in:
                    swapped_in += amount_in
                if tout == token_in:
                    swapped_in -= amount_out
                if tout == token_out:
                    produced += amount_out
                if tin == token_out:
                    produced -= amount_in
        elif receipt.executor_id == token_out:
            if not receipt.ok:
                delivery_errors.append(receipt.error or "failed receipt")
                continue
            out_receipts_ok += 1
            for data in ft_transfers(receipt.logs):
                events = True
                if data.get("old_owner_id") == exchange and data.get("new_owner_id") == user:
                    delivered += u128_text(data.get("amount")) or 0
    by_event = events or not out_receipts_ok
    if not events and out_receipts_ok and not delivery_errors:
        delivered = max(produced, 0)  # a token without NEP-297 events: its receipt succeeded
    return SwapReceipts(
        used=used,
        swapped_in=max(swapped_in, 0),
        amount_out=max(produced, 0),
        delivered=delivered,
        delivery_errors=tuple(delivery_errors),
        lostfound=lostfound,
        delivery_by_event=by_event,
    )


def parked_where(lostfound: str, exchange: str, token: str) -> str:
    """Where an undelivered swap output is and how the user gets it back, by Ref's logs."""
    if lostfound == LOSTFOUND_USER:
        return (
            f"in your own lost-and-found on {exchange}; recover it with {CLAIM_COMMAND} "
            f"(it calls claim_lostfound for {token} and delivers it to your account)"
        )
    if lostfound == LOSTFOUND_OWNER:
        return (
            f"in the central lost-and-found of {exchange}'s owner (the exchange had no room "
            f"for yours); only the exchange can return it: ask {exchange}'s operators"
        )
    if lostfound == LOSTFOUND_UNKNOWN:
        return (
            f"in a lost-and-found on {exchange} (the logs do not say whether yours or its "
            f"owner's); {CLAIM_COMMAND} recovers it if it is yours, else ask {exchange}'s "
            "operators"
        )
    return f"parked in your deposit on {exchange}; withdraw it from there"


def _token_changes(
    near: dict[str, int],
    seen: SwapReceipts,
    quote: Quote,
    wrap: str,
    eff_in: str,
    eff_out: str,
    *,
    unwrapped_all: bool,
) -> dict[str, int]:
    """The account's balance changes: NEAR as read, tokens as the swap's receipts prove them
    (input used, output delivered; wNEAR wrapped but not used, or received but not unwrapped)."""
    changes = dict(near)
    used = seen.used or 0

    def add(token: str, amount: int) -> None:
        changes[token] = changes.get(token, 0) + amount

    add(eff_in, -used)
    if quote.token_in == NEAR:
        add(wrap, quote.amount_in)  # wrapped first, in the same transaction
    add(eff_out, seen.delivered)
    if unwrapped_all:
        add(wrap, -quote.min_amount_out)
    return {token: amount for token, amount in changes.items() if amount}


def _judge(seen: SwapReceipts, quote: Quote, token_out: str) -> str | None:
    """Why a swap whose receipts all succeeded is still not a success (None: it is one)."""
    if seen.used is None:
        return (
            "the exchange's answer does not say how much input it used, so the swap cannot "
            "be confirmed; check the account on the exchange"
        )
    if seen.used == 0:
        return (
            "the swap did not happen: the exchange refunded the input (price moved "
            f"beyond {quote.max_slippage_bps} bps); only gas was spent"
        )
    if seen.amount_out < quote.min_amount_out:
        return (
            f"the exchange took the input (used {seen.used}) but its receipts show only "
            f"{seen.amount_out} of {token_out} swapped out, below the minimum "
            f"{quote.min_amount_out}; check the account on the exchange"
        )
    if seen.delivered < seen.amount_out:
        return (
            f"the exchange swapped {seen.used} for {seen.amount_out} of {token_out} but "
            f"delivered only {seen.delivered} to the account; the rest is parked on the "
            "exchange (withdraw it from your deposit there)"
        )
    return None


def _u128_value(raw: bytes | None) -> int | None:
    """A NEP-141 U128 JSON string (``"123"``) as an int; None for anything else."""
    if not raw:
        return None
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return u128_text(value)


def _swap_index(action: CanonicalAction) -> int:
    """Which of the action's transactions is the ft_transfer_call to the exchange."""
    for i, tx in enumerate(action.transactions):
        if any(getattr(a, "method_name", "") == "ft_transfer_call" for a in tx.actions):
            return i
    raise ToolError("a swap action has no ft_transfer_call")
