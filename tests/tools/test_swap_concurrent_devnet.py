"""Two swaps of one account at the same time (a scheduled fire and a chat request) on devnet.

Both snapshot the account's balances before either lands, and the chat swap's output token is
the scheduled swap's input, so balance deltas mix the two: each swap must be judged and measured
from its own receipts. The amounts reported must be exactly the pool math for the order in which
the exchange executed them, and must add up to the account's real balance changes.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from devnet.contracts.exchange import swap_return
from devnet.server import RunningDevnet
from tests.tools.conftest import ALICE
from tools.action import NEAR, CanonicalAction
from tools.base import ToolContext, ToolResult, context_from_manifest
from tools.registry import build_registry, parse_args
from tools.swap import read_swap

TOOLS = build_registry()


async def prepare(ctx: ToolContext, **args: Any) -> CanonicalAction:
    return await TOOLS["swap"].prepare(parse_args("swap", args), ctx)


async def ft_balance(ctx: ToolContext, token: str) -> int:
    return int(await ctx.chain.view(token, "ft_balance_of", {"account_id": ALICE}) or 0)


def simulate(
    pools: dict[int, dict[str, Any]], order: list[CanonicalAction], wrap: str
) -> list[int]:
    """Each swap's output when the exchange runs them in ``order`` (Ref's integer formula)."""
    reserves = {pid: [int(a) for a in pool["amounts"]] for pid, pool in pools.items()}
    outs = []
    for action in order:
        quote = action.quote
        assert quote is not None
        token = wrap if quote.token_in == NEAR else quote.token_in
        amount = quote.amount_in
        for pid in quote.pool_ids:
            ids = pools[pid]["token_account_ids"]
            i = ids.index(token)
            o = 1 - i
            out = swap_return(amount, reserves[pid][i], reserves[pid][o], pools[pid]["total_fee"])
            reserves[pid][i] += amount
            reserves[pid][o] -= out
            token, amount = ids[o], out
        outs.append(amount)
    return outs


def test_concurrent_swaps_of_one_account_are_each_reported_exactly(
    fresh_devnet: RunningDevnet,
) -> None:
    manifest = fresh_devnet.state_dir / "manifest.json"
    chat = context_from_manifest(manifest, ALICE)
    scheduled = context_from_manifest(manifest, ALICE)

    async def scenario() -> None:
        exchange, wrap = chat.network.exchange_id, chat.network.wrap_id
        assert exchange and wrap
        usdc = (await chat.tokens.resolve("USDC")).contract_id
        ref = (await chat.tokens.resolve("REF")).contract_id
        assert usdc and ref
        buy = await prepare(chat, token_in="NEAR", token_out="USDC", amount_in="2")
        sell = await prepare(scheduled, token_in="USDC", token_out="REF", amount_in="5")
        assert buy.quote is not None and sell.quote is not None
        pool_ids = set(buy.quote.pool_ids) | set(sell.quote.pool_ids)
        pools = {
            pid: await chat.chain.view(exchange, "get_pool", {"pool_id": pid}) for pid in pool_ids
        }
        before = {usdc: await ft_balance(chat, usdc), ref: await ft_balance(chat, ref)}

        bought, sold = await asyncio.gather(
            TOOLS["swap"].execute(buy, chat), TOOLS["swap"].execute(sell, scheduled)
        )

        for result in (bought, sold):
            assert isinstance(result, ToolResult) and result.ok, result.summary
            assert result.data["source"] == "receipts"
        got_usdc, got_ref = int(bought.data["amount_out"]), int(sold.data["amount_out"])
        assert int(sold.data["amount_in"]) == 5_000_000
        assert int(bought.data["amount_in"]) == 2 * 10**24
        # exactly the pool math of one of the two orders the exchange can have run them in
        orders = {
            tuple(simulate(pools, list(order), wrap)): order
            for order in itertools.permutations([buy, sell])
        }
        expected = {
            (outs[o.index(buy)], outs[o.index(sell)])
            for outs, o in ((list(k), list(v)) for k, v in orders.items())
        }
        assert (got_usdc, got_ref) in expected
        assert got_usdc >= buy.quote.min_amount_out and got_ref >= sell.quote.min_amount_out
        # and they account for the account's real balance changes to the unit
        assert await ft_balance(chat, usdc) - before[usdc] == got_usdc - 5_000_000
        assert await ft_balance(chat, ref) - before[ref] == got_ref
        # the receipts, fetched again by hash, say the same
        for result, token_in, token_out, got in (
            (bought, wrap, usdc, got_usdc),
            (sold, usdc, ref, got_ref),
        ):
            outcome = await chat.chain.tx_status(result.tx_hashes[-1], ALICE)
            assert outcome is not None
            seen = read_swap(
                outcome, exchange=exchange, user=ALICE, token_in=token_in, token_out=token_out
            )
            assert seen.amount_out == seen.delivered == got and seen.delivery_by_event

    async def main() -> None:
        try:
            await scenario()
        finally:
            await chat.aclose()
            await scheduled.aclose()

    asyncio.run(main())
