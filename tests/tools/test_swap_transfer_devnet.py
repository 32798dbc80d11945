"""Swaps and transfers against the devnet, for an account that exists nowhere yet.

A fresh implicit account (64 hex, the public key of a key this test holds) is funded by a NEAR
transfer, which creates it as nearcore does; it is registered on no token and not on the
exchange. From there: an instant swap needs no exchange registration; a balance that covers the
deposits but not the prepaid gas is refused before anything is signed; a token can be sent to an
implicit account that does not exist yet.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.tools.conftest import make_context, run
from tests.tools.test_tools_devnet import TOOLS, prepare, prepare_execute, token_id
from tools.action import FunctionCallSpec
from tools.amounts import format_amount
from tools.base import ToolContext, attached_cost, gas_price
from tools.errors import InsufficientBalanceError, UnknownAccountError
from tools.keypair import KeyPair
from tools.keys import Credentials
from tools.tokens import NEAR_DECIMALS

ONE_NEAR = 10**24


def near_text(yocto: int) -> str:
    return format_amount(yocto, NEAR_DECIMALS)


async def new_implicit(alice: ToolContext, fund: int) -> ToolContext:
    """An implicit account created by alice's NEAR transfer, with a context that signs for it."""
    keys = KeyPair.generate()
    account = keys.public_bytes.hex()
    assert not await alice.chain.account_exists(account)
    _, result = await prepare_execute(
        alice, "transfer", receiver_id=account, amount=near_text(fund), token="NEAR"
    )
    assert result.ok
    assert (await alice.chain.near_balance(account))["total"] == fund
    return ToolContext(
        network=alice.network,
        chain=alice.chain,
        account_id=account,
        credentials=Credentials(account, keys),
        tokens=alice.tokens,
    )


async def nonce(ctx: ToolContext) -> int:
    assert ctx.credentials is not None
    return await ctx.chain.access_key_nonce(ctx.account_id, ctx.credentials.public_key)


def test_an_instant_swap_registers_nowhere_but_on_the_output_token(chain_env: Any) -> None:
    alice = make_context(chain_env)

    async def scenario() -> None:
        me = await new_implicit(alice, 3 * ONE_NEAR)
        exchange = me.network.exchange_id
        usdc = await token_id(me, "USDC")
        action, result = await prepare_execute(
            me, "swap", token_in="NEAR", token_out="USDC", amount_in="1"
        )
        calls = [
            (tx.receiver_id, a.method_name)
            for tx in action.transactions
            for a in tx.actions
            if isinstance(a, FunctionCallSpec)
        ]
        wrap = me.network.wrap_id
        # the wrap and the swap share one transaction to wrap.near, in that order
        assert calls == [
            (usdc, "storage_deposit"),
            (wrap, "storage_deposit"),
            (wrap, "near_deposit"),
            (wrap, "ft_transfer_call"),
        ]
        assert len(action.transactions) == 2
        assert result.ok and int(result.data["amount_out"]) >= action.quote.min_amount_out
        balance = await me.chain.view(usdc, "ft_balance_of", {"account_id": me.account_id})
        assert int(balance) == int(result.data["amount_out"])
        registered = await me.chain.view(
            exchange, "storage_balance_of", {"account_id": me.account_id}
        )
        assert registered is None, "the swap never registered on the exchange"

    run(alice, scenario)


def test_deposits_without_the_prepaid_gas_are_refused_before_signing(chain_env: Any) -> None:
    alice = make_context(chain_env)

    async def scenario() -> None:
        me = await new_implicit(alice, ONE_NEAR)
        price = await gas_price(me)
        assert price > 0
        probe = await prepare(me, "swap", token_in="NEAR", token_out="USDC", amount_in="0.1")
        deposits, gas = attached_cost(probe.transactions, price)
        others = deposits - ONE_NEAR // 10  # storage deposits and the 1 yoctoNEAR
        available = (await me.chain.near_balance(me.account_id))["available"]
        # enough for the input and every deposit, not for the gas the transactions prepay
        amount_in = available - others - gas // 2
        assert amount_in + others <= available < amount_in + others + gas
        before = (await me.chain.near_balance(me.account_id))["total"], await nonce(me)
        with pytest.raises(InsufficientBalanceError, match="prepaid for gas") as info:
            await prepare(
                me, "swap", token_in="NEAR", token_out="USDC", amount_in=near_text(amount_in)
            )
        assert int(info.value.details["prepaid_gas"]) == gas
        assert int(info.value.details["needed"]) == amount_in + others + gas

        # the same check runs again before signing: a balance spent since prepare is refused
        action = await prepare(me, "swap", token_in="NEAR", token_out="USDC", amount_in="0.1")
        spend = available - (deposits + gas // 2)
        _, paid = await prepare_execute(
            me, "transfer", receiver_id=alice.account_id, amount=near_text(spend), token="NEAR"
        )
        assert paid.ok
        drained = (await me.chain.near_balance(me.account_id))["total"], await nonce(me)
        assert drained[1] == before[1] + 1
        with pytest.raises(InsufficientBalanceError, match="prepaid for gas"):
            await TOOLS["swap"].execute(action, me)
        assert ((await me.chain.near_balance(me.account_id))["total"], await nonce(me)) == drained

    run(alice, scenario)


def test_a_token_goes_to_an_implicit_account_that_does_not_exist_yet(chain_env: Any) -> None:
    alice = make_context(chain_env)

    async def scenario() -> None:
        usdc = await token_id(alice, "USDC")
        receiver = KeyPair.generate().public_bytes.hex()
        action, result = await prepare_execute(
            alice, "transfer", receiver_id=receiver, amount="2.5", token="USDC"
        )
        calls = [(a.method_name, a.args.get("account_id")) for a in action.transactions[0].actions]
        assert calls == [("storage_deposit", receiver), ("ft_transfer", None)]
        assert result.ok
        balance = await alice.chain.view(usdc, "ft_balance_of", {"account_id": receiver})
        assert int(balance) == 2_500_000
        assert receiver in action.recipients
        # a named account that does not exist stays refused
        with pytest.raises(UnknownAccountError, match="nobody.test.near does not exist"):
            await prepare(alice, "transfer", receiver_id="nobody.test.near", amount="1", token=usdc)

    run(alice, scenario)
