"""Strategy configs are typed: bad ones are refused with the entry and field named."""

from __future__ import annotations

import asyncio
from fractions import Fraction

import pytest

from agent.scheduler.strategies import OrderSize, parse_strategies, parse_strategy
from tests.scheduler.helpers import FakeMarket


def test_amounts_must_be_decimal_text_never_floats() -> None:
    base = {"id": "d", "kind": "dca", "sell": "NEAR", "buy": "USDC", "every": "1h"}
    with pytest.raises(ValueError):
        parse_strategy({**base, "amount": 1.5})
    for bad in ("0", "-1", "abc", "NaN"):
        with pytest.raises(ValueError):
            parse_strategy({**base, "amount": bad})
    with pytest.raises(ValueError):
        parse_strategy({**base, "amount": "1", "every": "soon"})
    assert parse_strategy({**base, "amount": "0.5"}).interval.total_seconds() == 3600


def test_agent_yaml_list_names_each_problem() -> None:
    with pytest.raises(ValueError) as caught:
        parse_strategies(
            [
                {"id": "a", "kind": "dca", "sell": "NEAR"},
                {
                    "id": "b",
                    "kind": "limit",
                    "sell": "USDC",
                    "buy": "NEAR",
                    "amount": "1",
                    "price_of": "NEAR",
                    "price_in": "USDC",
                },
                {"id": "c", "kind": "teleport"},
            ]
        )
    text = str(caught.value)
    assert "strategies[0] (a) buy: Field required" in text
    assert "exactly one of 'below' or 'above'" in text
    assert "strategies[2] (c)" in text
    with pytest.raises(ValueError, match="unique"):
        parse_strategies([{"id": "x", "kind": "claim_rewards"}] * 2)


def test_rebalance_weights_must_sum_to_100() -> None:
    with pytest.raises(ValueError):
        parse_strategy(
            {
                "id": "r",
                "kind": "rebalance",
                "weights": {"NEAR": 60, "USDC": 60},
                "value_in": "USDC",
            }
        )


def test_take_profit_and_stop_loss_levels() -> None:
    common = {"sell": "NEAR", "buy": "USDC", "amount": "1", "price_of": "NEAR", "price_in": "USDC"}
    tp = parse_strategy({"id": "tp", "kind": "take_profit", "above": "4", **common})
    sl = parse_strategy({"id": "sl", "kind": "stop_loss", "below": "2", **common})
    market = FakeMarket(prices={("NEAR", "USDC"): Fraction(4)})
    assert asyncio.run(tp.decide(market)).acts
    assert not asyncio.run(sl.decide(market)).acts
    market.prices[("NEAR", "USDC")] = Fraction(2)
    assert asyncio.run(sl.decide(market)).one_shot


def test_triggers_and_rebalance_ask_the_price_at_their_order_size() -> None:
    market = FakeMarket(
        prices={("NEAR", "USDC"): Fraction(3), ("USDC", "NEAR"): Fraction(1, 3)},
        balances={"NEAR": 5 * 10**6, "USDC": 45 * 10**6},  # the fake has 6 decimals
    )
    limit = parse_strategy(
        {
            "id": "buy",
            "kind": "limit",
            "sell": "USDC",
            "buy": "NEAR",
            "amount": "30",
            "price_of": "NEAR",
            "price_in": "USDC",
            "below": "2.5",
        }
    )
    asyncio.run(limit.decide(market))
    assert market.asked[-1] == ("NEAR", "USDC", OrderSize("USDC", "30"))
    rebalance = parse_strategy(
        {"id": "r", "kind": "rebalance", "weights": {"NEAR": 50, "USDC": 50}, "value_in": "USDC"}
    )
    asyncio.run(rebalance.decide(market))
    assert market.asked[-1] == ("NEAR", "USDC", OrderSize("NEAR", "5"))  # the holding's size
