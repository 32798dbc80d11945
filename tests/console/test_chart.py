"""The strategies chart reads the price each trigger check wrote, and escapes every text."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from agent.console.chart import price_chart
from agent.scheduler.strategies import _price_note, parse_strategy, price_in_note, show_price

prices = st.fractions(min_value=Fraction(1, 10**9), max_value=Fraction(10**12)).filter(
    lambda f: f > 0
)


@given(price=prices, state=st.sampled_from(["waiting", "triggered"]))
def test_the_price_a_note_states_is_read_back_exactly(price: Fraction, state: str) -> None:
    shown = show_price(price)
    assert price_in_note(_price_note("NEAR", shown, "USDC", state)) == Decimal(shown)


@given(text=st.text(max_size=60))
def test_any_other_note_has_no_price(text: str) -> None:
    value = price_in_note(text)
    assert value is None or value.is_finite()


def test_the_chart_draws_levels_fills_and_escapes_text() -> None:
    strategy = parse_strategy(
        {
            "id": "tp",
            "kind": "take_profit",
            "sell": "NEAR",
            "buy": "USDC",
            "amount": "1",
            "above": "3",
            "price_of": "NEAR",
            "price_in": "USDC",
        }
    )
    fill = SimpleNamespace(status="done", detail={"note": "NEAR at 3.1 USDC: triggered"})
    svg = price_chart(strategy, [fill], "NEAR at 2.9 USDC: waiting")
    assert svg is not None
    assert svg.count('class="fill"') == 1 and svg.count('class="quote"') == 1
    assert 'class="level level-above"' in svg and "above 3" in svg
    hostile = SimpleNamespace(below=None, above="1", price_of="<script>", price_in="x&y")
    drawn = price_chart(hostile, [], "")
    assert drawn is not None and "<script>" not in drawn and "&lt;script&gt;" in drawn
    dca = parse_strategy({"id": "d", "kind": "dca", "sell": "NEAR", "buy": "USDC", "amount": "1"})
    assert price_chart(dca, [], "") is None
