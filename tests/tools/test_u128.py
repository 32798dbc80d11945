"""One U128 parser: the tools and the devnet's contracts read the same values the same way."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devnet.contract import ContractPanic
from devnet.contracts.common import u128 as contract_arg_u128
from tools.errors import ContractAnswerError
from tools.rpc_values import contract_u128
from tools.u128 import U128_MAX, u128_text

EDGES = [
    "",
    "0",
    "-5",
    "+5",
    " 5",
    "5 ",
    "1e3",
    "1.5",
    "\u0663",
    "0x10",
    str(U128_MAX),
    str(U128_MAX + 1),
    "0" * 39 + "1",
    None,
    5,
    1.5,
    True,
    [],
    {},
]

values = st.one_of(
    st.sampled_from(EDGES),
    st.integers(min_value=0, max_value=U128_MAX + 10).map(str),
    st.text(alphabet="0123456789-+.e \u0663", max_size=45),
    st.integers(),
    st.floats(allow_nan=False),
)


def _expected(value: object) -> int | None:
    if not isinstance(value, str) or not value or any(c not in "0123456789" for c in value):
        return None
    if len(value) > 39:
        return None
    number = int(value)
    return number if number <= U128_MAX else None


def _devnet(value: object) -> int | None:
    try:
        return contract_arg_u128(value)
    except ContractPanic:
        return None


def _answer(value: object) -> int | None:
    try:
        return contract_u128(value, "c.near", "m", "a value")
    except ContractAnswerError:
        return None


@given(values)
def test_every_reader_agrees_with_the_rule(value: object) -> None:
    expected = _expected(value)
    assert u128_text(value) == expected
    assert _devnet(value) == expected
    assert _answer(value) == expected


@pytest.mark.parametrize("value", ["-5", 1.5, "1e3", "", None, str(U128_MAX + 1), "\u0663"])
def test_a_contract_answer_that_is_no_u128_names_itself(value: object) -> None:
    with pytest.raises(ContractAnswerError, match="c.near.m answered"):
        contract_u128(value, "c.near", "m", "a value")
