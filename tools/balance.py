"""balance {token?}: what the account holds. Read-only: no transactions."""

from __future__ import annotations

from typing import Any, ClassVar

from tools.action import CanonicalAction
from tools.amounts import format_amount
from tools.args import BalanceArgs
from tools.base import OnSigned, Tool, ToolContext, ToolResult
from tools.ft import ft_balance_of
from tools.tokens import TokenInfo


class BalanceTool(Tool[BalanceArgs]):
    name: ClassVar[str] = "balance"
    description: ClassVar[str] = "Show the account's NEAR (available after storage) and tokens."
    Args = BalanceArgs
    read_only = True

    async def prepare(self, args: BalanceArgs, ctx: ToolContext) -> CanonicalAction:
        if args.token is not None:
            await ctx.tokens.resolve(args.token)  # unknown token -> error now, not later
        what = args.token or "all tokens"
        return CanonicalAction(
            tool=self.name,
            signer_id=ctx.account_id,
            transactions=(),
            preview=f"Show the balance of {ctx.account_id} ({what})",
            args=args.model_dump(exclude_none=True),
        )

    async def execute(
        self, action: CanonicalAction, ctx: ToolContext, on_signed: OnSigned | None = None
    ) -> ToolResult:
        token = action.args.get("token")
        tokens = [await ctx.tokens.resolve(token)] if token else await ctx.tokens.all_listed()
        rows = [await balance_row(ctx, info) for info in tokens]
        summary = ", ".join(f"{r['formatted']} {r['symbol']}" for r in rows)
        return ToolResult(
            tool=self.name, summary=summary, data={"account_id": ctx.account_id, "balances": rows}
        )


async def balance_row(ctx: ToolContext, info: TokenInfo) -> dict[str, Any]:
    """One token's balance; NEAR shows available (total minus storage staking) as the balance."""
    if info.contract_id is None:  # native NEAR
        near = await ctx.chain.near_balance(ctx.account_id)
        return {
            "symbol": "NEAR",
            "token": info.flow_id,
            "decimals": info.decimals,
            "balance": str(near["available"]),
            "formatted": format_amount(near["available"], info.decimals),
            "total": str(near["total"]),
            "locked": str(near["locked"]),
            "storage_reserved": str(near["total"] - near["available"]),
        }
    units = await ft_balance_of(ctx.chain, info.contract_id, ctx.account_id)
    return {
        "symbol": info.symbol,
        "token": info.flow_id,
        "decimals": info.decimals,
        "balance": str(units),
        "formatted": format_amount(units, info.decimals),
    }
