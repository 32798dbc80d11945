"""Amounts shown to a person: whole tokens, at most 6 decimals, never more than there is.

Before, a balance printed as 98.995148716699999999999999 NEAR (every base unit as a decimal).
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tools.amounts import DISPLAY_PLACES, display_amount, to_decimal

units = st.integers(min_value=-(2**128), max_value=2**128)
decimals = st.sampled_from([0, 6, 8, 18, 24])


@given(units, decimals)
def test_shown_is_cut_toward_zero_and_close(amount: int, places: int) -> None:
    shown = Decimal(display_amount(amount, places).replace(",", ""))
    exact = to_decimal(amount, places)
    assert abs(shown) <= abs(exact)  # never more than there is
    assert (shown == 0) == (amount == 0)  # a fee or dust never shows as 0
    if abs(exact) >= Decimal(1).scaleb(-DISPLAY_PLACES):
        assert abs(exact - shown) < Decimal(1).scaleb(-DISPLAY_PLACES)


@given(units, decimals)
def test_at_most_six_decimals_unless_smaller_than_that(amount: int, places: int) -> None:
    text = display_amount(amount, places)
    fraction = text.partition(".")[2]
    if abs(to_decimal(amount, places)) >= Decimal(1).scaleb(-DISPLAY_PLACES):
        assert len(fraction) <= DISPLAY_PLACES
    else:
        assert len(fraction.lstrip("0")) <= 2


def test_examples() -> None:
    assert display_amount(98_995148716699999999999999, 24) == "98.995148"
    assert display_amount(44_600000000000000000, 24) == "0.000044"
    assert display_amount(1_234_567 * 10**6, 6) == "1,234,567"
    assert display_amount(0, 24) == "0"
