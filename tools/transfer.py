"""transfer {receiver_id, amount, token}: send NEAR or a NEP-141 token.

For a token, a receiver without storage on the token contract is registered first
(``storage_deposit`` with ``registration_only``, the bounds' minimum), in the same transaction as
``ft_transfer`` so that both happen or neither does; that deposit is an outflow too.

The receiver must exist, except an implicit account (64 hex characters: the hex of an ed25519
public key, whose owner holds the key before the account exists on chain): nearcore creates it
when NEAR is sent to it, and a token contract registers and credits it without it existing. The
account must hold every deposit plus the prepaid gas at the current gas price.
"""

from __future__ import annotations

from typing import ClassVar

from tools.account_id import is_near_implicit
from tools.action import NEAR, CanonicalAction, FunctionCallSpec, TokenFlow, TransactionSpec
from tools.action import TransferSpec as NativeTransfer
from tools.amounts import format_amount, parse_amount
from tools.args import TransferArgs
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
from tools.errors import InsufficientBalanceError, ToolError, UnknownAccountError
from tools.network import check_account_id
from tools.tokens import NEAR_DECIMALS, TokenInfo


class TransferTool(Tool[TransferArgs]):
    name: ClassVar[str] = "transfer"
    description: ClassVar[str] = "Send NEAR or a fungible token to another account."
    Args = TransferArgs
    moves_funds = True
    grounded_fields = ("receiver_id", "amount", "token")
    asks_to = "send"

    async def prepare(self, args: TransferArgs, ctx: ToolContext) -> CanonicalAction:
        receiver = check_account_id(args.receiver_id, "receiver")
        token = await ctx.tokens.resolve(args.token)
        amount = parse_amount(args.amount, token.decimals)
        if receiver == ctx.account_id:
            raise ToolError(f"{receiver} is this account; sending to yourself does nothing")
        if not is_near_implicit(receiver) and not await ctx.chain.account_exists(receiver):
            raise UnknownAccountError(
                f"the receiver {receiver} does not exist on {ctx.network.network_id}",
                account_id=receiver,
            )
        near = await ctx.chain.near_balance(ctx.account_id)
        if token.is_native:
            return await self._native(ctx, receiver, amount, near["available"])
        return await self._fungible(ctx, receiver, token, amount, near["available"])

    async def _native(
        self, ctx: ToolContext, receiver: str, amount: int, available: int
    ) -> CanonicalAction:
        if amount > available:
            raise InsufficientBalanceError(
                f"cannot send {format_amount(amount, NEAR_DECIMALS)} NEAR: only "
                f"{format_amount(available, NEAR_DECIMALS)} NEAR is available",
                needed=str(amount),
                available=str(available),
            )
        tx = TransactionSpec(
            signer_id=ctx.account_id,
            receiver_id=receiver,
            actions=(NativeTransfer(deposit=amount),),
        )
        await require_near_for(ctx, [tx], "sending NEAR", available=available)
        return CanonicalAction(
            tool=self.name,
            signer_id=ctx.account_id,
            transactions=(tx,),
            outflows=(
                TokenFlow(token=NEAR, amount=amount, recipient=receiver, purpose="transfer"),
            ),
            recipients=(receiver,),
            preview=f"Send {format_amount(amount, NEAR_DECIMALS)} NEAR to {receiver}",
        )

    async def _fungible(
        self, ctx: ToolContext, receiver: str, token: TokenInfo, amount: int, near_available: int
    ) -> CanonicalAction:
        contract = token.contract_id
        assert contract is not None
        await require_token_balance(ctx, contract, token.symbol, token.decimals, amount, "send")
        actions: list[FunctionCallSpec] = []
        outflows: list[TokenFlow] = []
        note = ""
        if (reg := await registration(ctx, contract, receiver)) is not None:
            call, flow = reg
            actions.append(call)
            outflows.append(flow)
            note = (
                f"; registers {receiver} on {contract} first "
                f"({format_amount(flow.amount, NEAR_DECIMALS)} NEAR storage deposit)"
            )
        actions.append(
            FunctionCallSpec(
                method_name="ft_transfer",
                args={"receiver_id": receiver, "amount": str(amount)},
                gas=ctx.gas_for("ft_transfer"),
                deposit=ONE_YOCTO,
            )
        )
        outflows.append(
            TokenFlow(token=contract, amount=amount, recipient=receiver, purpose="transfer")
        )
        outflows.append(
            TokenFlow(
                token=NEAR, amount=ONE_YOCTO, recipient=contract, purpose="ft_transfer_deposit"
            )
        )
        tx = TransactionSpec(signer_id=ctx.account_id, receiver_id=contract, actions=tuple(actions))
        await require_near_for(ctx, [tx], f"sending {token.symbol}", available=near_available)
        return CanonicalAction(
            tool=self.name,
            signer_id=ctx.account_id,
            transactions=(tx,),
            outflows=tuple(outflows),
            recipients=(receiver,),
            preview=(
                f"Send {format_amount(amount, token.decimals)} {token.symbol} ({contract}) "
                f"to {receiver}{note}"
            ),
        )

    async def execute(
        self, action: CanonicalAction, ctx: ToolContext, on_signed: OnSigned | None = None
    ) -> ToolResult:
        watch = [f.token for f in action.outflows]
        result, _ = await execute_transactions(action, ctx, watch, on_signed=on_signed)
        result.summary = f"Done: {action.preview}"
        return result


async def registration_deposit(ctx: ToolContext, contract: str, account_id: str) -> int:
    """0 when ``account_id`` already has storage on ``contract``, else the minimum deposit."""
    current = await ctx.chain.view(contract, "storage_balance_of", {"account_id": account_id})
    if current is not None:
        return 0
    bounds = await ctx.chain.view(contract, "storage_balance_bounds", {})
    minimum = int((bounds or {}).get("min", 0))
    if minimum <= 0:
        raise ToolError(f"{contract} reports no storage_balance_bounds minimum")
    return minimum


async def registration(
    ctx: ToolContext, contract: str, account_id: str
) -> tuple[FunctionCallSpec, TokenFlow] | None:
    """The ``storage_deposit`` that registers ``account_id`` on ``contract`` and the NEAR outflow
    it pays (they always go into an action together); None when it is registered already."""
    deposit = await registration_deposit(ctx, contract, account_id)
    if not deposit:
        return None
    return (
        storage_deposit_call(ctx, account_id, deposit),
        TokenFlow(token=NEAR, amount=deposit, recipient=contract, purpose="storage_deposit"),
    )


def storage_deposit_call(ctx: ToolContext, account_id: str, deposit: int) -> FunctionCallSpec:
    return FunctionCallSpec(
        method_name="storage_deposit",
        args={"account_id": account_id, "registration_only": True},
        gas=ctx.gas_for("storage_deposit"),
        deposit=deposit,
    )
