from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from agent.planner.grounding import numbers_in, ungrounded

CONTACTS = {"bob": "bob.near"}


def test_transfer_grounded_in_english_and_japanese() -> None:
    args = {"receiver_id": "bob.near", "amount": "2.5", "token": "NEAR"}
    assert ungrounded("transfer", args, "send 2.5 NEAR to bob", CONTACTS.get) == []
    assert ungrounded("transfer", args, "bob.nearに２.５ NEARを送って") == []


def test_injected_recipient_and_amount_are_named() -> None:
    args = {"receiver_id": "x.near", "amount": "1000", "token": "NEAR"}
    problems = ungrounded("transfer", args, "label task 3 item 2 as cat", CONTACTS.get)
    assert any("receiver_id" in p for p in problems)
    assert any("amount" in p for p in problems)


def test_swap_amount_must_be_written_by_the_user() -> None:
    args = {"token_in": "NEAR", "token_out": "USDC", "amount_in": "50"}
    assert ungrounded("swap", args, "swap 5 NEAR to USDC") != []
    assert ungrounded("swap", args, "swap 50 NEAR to USDC") == []


def test_thousands_separators_are_the_same_number() -> None:
    assert Decimal("1000.25") in numbers_in("transfer 1,000.25 USDC to bob.near")


def test_non_money_tools_need_no_grounding() -> None:
    assert ungrounded("submit_label", {"task_id": 1, "label": "dog"}, "label my tasks") == []


@given(st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(10**9), places=6))
def test_any_written_amount_is_grounded(amount: Decimal) -> None:
    text = f"send {amount:f} NEAR to bob.near"
    args = {"receiver_id": "bob.near", "amount": f"{amount:f}", "token": "NEAR"}
    assert ungrounded("transfer", args, text) == []
