"""claim_lostfound against the devnet's Ref-like exchange: only what is parked, only to the user.

The output of alice's swap is parked in her own lost-and-found (she left REF between prepare and
execute, and the exchange holds enough free NEAR to keep it for her). A claim names what it takes
back, registers her on the token when she is not, and a claim whose delivery fails again says
that the tokens are back in the lost-and-found, not that they arrived.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.tools.conftest import call, make_context, run
from tests.tools.test_tools_devnet import TOOLS, prepare, prepare_execute, token_id
from tools.base import ONE_YOCTO, ToolContext
from tools.errors import NothingToClaimError, SwapFailedError, ToolError

REGISTRATION = 1_250_000_000_000_000_000_000  # the devnet tokens' storage_balance_bounds


async def lostfound(ctx: ToolContext, token: str) -> int:
    exchange = ctx.network.exchange_id
    args = {"account_id": ctx.account_id, "token_id": token}
    return int(await ctx.chain.view(exchange, "get_lostfound_token", args))


def test_claim_takes_back_only_what_is_parked_and_says_when_it_was_not_delivered(
    chain_env: Any,
) -> None:
    alice = make_context(chain_env)
    market = make_context(chain_env, "market.test.near")

    async def scenario() -> None:
        ref, usdc = await token_id(alice, "REF"), await token_id(alice, "USDC")
        exchange = alice.network.exchange_id
        try:
            await prepare_execute(
                market, "transfer", receiver_id=exchange, amount="200", token="NEAR"
            )
        finally:
            await market.aclose()
        with pytest.raises(NothingToClaimError, match="nothing in its lost-and-found"):
            await prepare(alice, "claim_lostfound")

        swap = await prepare(alice, "swap", token_in="NEAR", token_out="REF", amount_in="1")
        await call(alice, ref, "storage_unregister", {"force": True}, ONE_YOCTO)
        with pytest.raises(SwapFailedError, match="your own lost-and-found") as parked:
            await TOOLS["swap"].execute(swap, alice)
        assert parked.value.details["lostfound"] == "user"
        amount = await lostfound(alice, ref)
        assert amount == int(parked.value.details["amount_out"]) > 0

        with pytest.raises(NothingToClaimError, match="no USDC in its lost-and-found"):
            await prepare(alice, "claim_lostfound", token="USDC")
        assert await lostfound(alice, usdc) == 0

        # registered when she asks, gone again before it runs: REF refuses the delivery
        await call(alice, ref, "storage_deposit", {}, REGISTRATION)
        claim = await prepare(alice, "claim_lostfound", token="REF")
        assert [tx.receiver_id for tx in claim.transactions] == [exchange]
        await call(alice, ref, "storage_unregister", {}, ONE_YOCTO)
        with pytest.raises(ToolError, match="delivered nothing .* back in your lost-and-found"):
            await TOOLS["claim_lostfound"].execute(claim, alice)
        assert await lostfound(alice, ref) == amount

        # not registered now: the claim registers her on REF first, then delivers it all
        claim, result = await prepare_execute(alice, "claim_lostfound")
        methods = [(tx.receiver_id, tx.actions[0].method_name) for tx in claim.transactions]
        assert methods == [(ref, "storage_deposit"), (exchange, "claim_lostfound")]
        assert result.ok and result.data["claimed"] == {ref: str(amount)}
        held = await alice.chain.view(ref, "ft_balance_of", {"account_id": alice.account_id})
        assert int(held) == amount
        assert await lostfound(alice, ref) == 0

    run(alice, scenario)
