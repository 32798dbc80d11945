"""claim_lostfound {token?}: take back what the exchange parked in the user's own lost-and-found.

Ref parks an output it could not deliver (the ft_transfer to the user failed and the user has no
room in a deposit on the exchange) in a per-user lost-and-found when it has free NEAR for it
(``get_lostfound_token`` / ``list_lostfound_tokens`` show it); ``claim_lostfound(token_id)``, with
1 yoctoNEAR, sends all of one token back to the caller. So the claim delivers only to the user's
own account; the user is registered on the token first (``storage_deposit``) when needed, or the
delivery would fail and park the tokens again. Tokens parked in the owner's central lost-and-found
cannot be claimed: only the exchange can return those.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from pydantic import Field

from tools.action import NEAR, CanonicalAction, FunctionCallSpec, TokenFlow, TransactionSpec
from tools.amounts import format_amount
from tools.args import Token
from tools.base import (
    ONE_YOCTO,
    OnSigned,
    Tool,
    ToolArgs,
    ToolContext,
    ToolResult,
    execute_transactions,
    require_near_for,
)
from tools.errors import (
    NotConfiguredError,
    NothingToClaimError,
    ToolError,
    TransactionFailedError,
)
from tools.outcome import TxOutcome
from tools.ref_logs import LOSTFOUND_OWNER, LOSTFOUND_USER, ft_transfers, lostfound_of
from tools.rpc_values import contract_u128, u128_text
from tools.transfer import registration

CLAIM_COMMAND = '`near-agent do "recover my tokens from the exchange"`'
"""What the user runs to claim everything in their lost-and-found (the offline planner's phrase)."""

PAGE = 100


class ClaimLostfoundArgs(ToolArgs):
    """Claim tokens the exchange parked in this account's own lost-and-found."""

    token: Token | None = Field(
        default=None, description="a token symbol or contract id; omit to claim every token"
    )


class ClaimLostfoundTool(Tool[ClaimLostfoundArgs]):
    name: ClassVar[str] = "claim_lostfound"
    description: ClassVar[str] = (
        "Recover tokens the exchange could not deliver and parked in your lost-and-found."
    )
    Args = ClaimLostfoundArgs
    contract_methods = ("claim_lostfound",)
    # it pays NEAR (the 1 yoctoNEAR claim_lostfound requires, a registration on the token), so
    # the grant's NEAR caps, token and recipient allowlists apply to it
    moves_funds = True
    grounded_fields = ("token",)
    asks_to = "recover tokens from the exchange"

    async def prepare(self, args: ClaimLostfoundArgs, ctx: ToolContext) -> CanonicalAction:
        exchange = ctx.network.exchange_id
        if not exchange:
            raise NotConfiguredError(f"no exchange is configured on {ctx.network.network_id}")
        me = ctx.account_id
        parked = await _parked(ctx, exchange, args.token)
        txs: list[TransactionSpec] = []
        outflows: list[TokenFlow] = []
        lines: list[str] = []
        for token, amount in parked.items():
            reg = await registration(ctx, token, me)
            if reg is not None:
                call, flow = reg
                txs.append(TransactionSpec(signer_id=me, receiver_id=token, actions=(call,)))
                outflows.append(flow)
            txs.append(
                TransactionSpec(
                    signer_id=me,
                    receiver_id=exchange,
                    actions=(
                        FunctionCallSpec(
                            method_name="claim_lostfound",
                            args={"token_id": token},
                            gas=ctx.gas_for("claim_lostfound"),
                            deposit=ONE_YOCTO,
                        ),
                    ),
                )
            )
            outflows.append(
                TokenFlow(token=NEAR, amount=ONE_YOCTO, recipient=exchange, purpose="claim_deposit")
            )
            lines.append(
                await _shown(ctx, token, amount)
                + (f" (registers you on {token} first)" if reg is not None else "")
            )
        await require_near_for(ctx, txs, "the claim")
        return CanonicalAction(
            tool=self.name,
            signer_id=me,
            transactions=tuple(txs),
            outflows=tuple(outflows),
            recipients=(exchange,),
            preview=f"Recover {', '.join(lines)} from your lost-and-found on {exchange}",
        )

    async def execute(
        self, action: CanonicalAction, ctx: ToolContext, on_signed: OnSigned | None = None
    ) -> ToolResult:
        exchange = next(
            tx.receiver_id
            for tx in action.transactions
            if any(getattr(a, "method_name", "") == "claim_lostfound" for a in tx.actions)
        )
        claims = {
            i: str(tx.actions[0].args["token_id"])  # type: ignore[union-attr]
            for i, tx in enumerate(action.transactions)
            if tx.receiver_id == exchange
        }
        received: dict[str, int] = {}

        def judge(i: int, outcome: TxOutcome) -> ToolError | None:
            """Why claim ``i`` did not deliver (None: it did); a failed delivery parks it again."""
            token = claims[i]
            got, parked_again = _delivered(outcome, exchange, action.signer_id, token)
            received[token] = got
            if got > 0:
                return None
            where = {
                LOSTFOUND_USER: f"back in your lost-and-found on {exchange}: claim them again "
                f"once your account can receive {token}",
                LOSTFOUND_OWNER: f"in the central lost-and-found of {exchange}'s owner: only the "
                "exchange can return them",
            }.get(parked_again, f"with {exchange} (no delivery was seen)")
            reason = outcome.first_error()
            return ToolError(
                f"the claim of {token} delivered nothing to {action.signer_id}"
                + (f" ({reason})" if reason else "")
                + f": the tokens are {where}",
                tx_hash=outcome.tx_hash,
                token=token,
            )

        def verify(i: int, outcome: TxOutcome) -> ToolError | None:
            return judge(i, outcome) if i in claims else None

        try:
            result, _ = await execute_transactions(
                action, ctx, list(claims.values()), verify, on_signed=on_signed
            )
        except TransactionFailedError as exc:
            failed = len(exc.result.tx_hashes) - 1 if exc.result is not None else -1
            if exc.outcome is None or failed not in claims:
                raise
            problem = judge(failed, exc.outcome) or exc
            problem.result = exc.result
            raise problem from exc
        shown = [await _shown(ctx, token, amount) for token, amount in received.items()]
        result.data["claimed"] = {token: str(amount) for token, amount in received.items()}
        result.summary = f"Recovered {', '.join(shown)} from your lost-and-found on {exchange}"
        return result


async def _parked(ctx: ToolContext, exchange: str, token: str | None) -> dict[str, int]:
    """Token contract -> amount in the account's own lost-and-found (only amounts above 0)."""
    me = ctx.account_id
    if token is not None:
        info = await ctx.tokens.resolve(token)
        contract = info.contract_id
        if contract is None:  # native NEAR: the exchange holds it as wNEAR
            contract = ctx.require_wrap("claiming NEAR (the exchange keeps NEAR as wNEAR)")
        raw = await ctx.chain.view(
            exchange, "get_lostfound_token", {"account_id": me, "token_id": contract}
        )
        amount = contract_u128(raw, exchange, "get_lostfound_token", f"{me}'s {info.symbol}")
        if amount <= 0:
            raise NothingToClaimError(
                f"{me} has no {info.symbol} in its lost-and-found on {exchange}"
            )
        return {contract: amount}
    found: dict[str, int] = {}
    start = 0
    while True:
        page = await ctx.chain.view(
            exchange,
            "list_lostfound_tokens",
            {"account_id": me, "from_index": start, "limit": PAGE},
        )
        if not isinstance(page, Mapping):
            raise ToolError(
                f"{exchange} answered list_lostfound_tokens with {page!r}, not a token map"
            )
        for contract, raw in page.items():
            amount = contract_u128(raw, exchange, "list_lostfound_tokens", f"{me}'s {contract}")
            if amount > 0:
                found[str(contract)] = amount
        if len(page) < PAGE:
            break
        start += PAGE
    if not found:
        raise NothingToClaimError(f"{me} has nothing in its lost-and-found on {exchange}")
    return found


async def _shown(ctx: ToolContext, contract: str, amount: int) -> str:
    """``amount`` of ``contract`` in whole tokens with its symbol (raw units if unreadable)."""
    try:
        info = await ctx.tokens.by_contract(contract)
    except ToolError:
        return f"{amount} base units of {contract}"
    return f"{format_amount(amount, info.decimals)} {info.symbol}"


def _delivered(outcome: TxOutcome, exchange: str, user: str, token: str) -> tuple[int, str]:
    """(what the claim delivered to the user, whose lost-and-found the exchange logged parking
    it in again: a LOSTFOUND_* value, "" for none).

    The token's NEP-297 ``ft_transfer`` events from the exchange to the user say it; for a token
    without events, the claim's own value (Ref's callback returns the amount it sent, 0 when the
    transfer failed)."""
    got = 0
    events = False
    parked_again = ""
    for receipt in outcome.receipts:
        if not receipt.ok:
            continue
        if receipt.executor_id == token:
            for data in ft_transfers(receipt.logs):
                events = True
                if data.get("old_owner_id") == exchange and data.get("new_owner_id") == user:
                    got += u128_text(data.get("amount")) or 0
        elif receipt.executor_id == exchange:
            parked_again = lostfound_of(receipt.logs) or parked_again
    if not events and not parked_again and outcome.ok:
        got = u128_text(_json_value(outcome)) or 0
    return got, parked_again


def _json_value(outcome: TxOutcome) -> object:
    try:
        return outcome.json_value()
    except ToolError:
        return None
