"""What a transaction costs up front: every deposit plus all its prepaid gas at the gas price."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools.action import FunctionCallSpec, TransactionSpec, TransferSpec
from tools.base import GAS_PRICE_TTL_S, ToolContext, attached_cost, gas_price
from tools.errors import RpcError
from tools.network import custom_network
from tools.tokens import TokenRegistry

ME = "me.near"

calls = st.builds(
    FunctionCallSpec,
    method_name=st.just("m"),
    args=st.just({}),
    gas=st.integers(1, 300 * 10**12),
    deposit=st.integers(0, 10**30),
)
transfers = st.builds(TransferSpec, deposit=st.integers(0, 10**30))


@given(
    actions=st.lists(st.one_of(calls, transfers), min_size=1, max_size=8),
    cut=st.integers(0, 8),
    price=st.integers(0, 10**10),
)
def test_the_cost_is_every_deposit_and_all_prepaid_gas_however_split(
    actions: list[Any], cut: int, price: int
) -> None:
    one = [TransactionSpec(signer_id=ME, receiver_id="x.near", actions=tuple(actions))]
    parts = [actions[:cut], actions[cut:]]
    two = [
        TransactionSpec(signer_id=ME, receiver_id="x.near", actions=tuple(part))
        for part in parts
        if part
    ]
    deposits = sum(a.deposit for a in actions)
    gas = sum(a.gas for a in actions if isinstance(a, FunctionCallSpec))
    assert attached_cost(one, price) == attached_cost(two, price) == (deposits, gas * price)


class PriceNode:
    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.asked = 0

    async def rpc(self, method: str, params: Any) -> Any:
        assert method == "gas_price" and params == [None]
        self.asked += 1
        return self.answers.pop(0)


def context(node: PriceNode) -> ToolContext:
    return ToolContext(
        network=custom_network("http://127.0.0.1:9"),
        chain=node,  # type: ignore[arg-type]
        account_id=ME,
        tokens=TokenRegistry(node, []),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    "answer", [None, [], {}, {"gas_price": -1}, {"gas_price": 1.5}, {"gas_price": "lots"}]
)
def test_a_gas_price_that_is_not_a_number_is_refused(answer: Any) -> None:
    with pytest.raises(RpcError, match="gas price"):
        asyncio.run(gas_price(context(PriceNode(answer))))


def test_the_gas_price_is_read_once_a_minute() -> None:
    node = PriceNode({"gas_price": "100000000"}, {"gas_price": "200000000"})
    ctx = context(node)
    assert asyncio.run(gas_price(ctx)) == 100_000_000
    assert asyncio.run(gas_price(ctx)) == 100_000_000 and node.asked == 1
    assert ctx.gas_price_read is not None
    ctx.gas_price_read = (ctx.gas_price_read[0], time.monotonic() - GAS_PRICE_TTL_S - 1)
    assert asyncio.run(gas_price(ctx)) == 200_000_000 and node.asked == 2
