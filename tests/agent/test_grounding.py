from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from agent.planner.grounding import numbers_in, ungrounded, ungrounded_plan

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


def test_only_reading_needs_no_grounding() -> None:
    """Balance and task lists only read, so a model may call them whatever the user wrote; a
    label submission and a claim act for the user, so each must be one the user wrote."""
    assert ungrounded("balance", {"token": "NEAR"}, "label task 1 as dog") == []
    assert ungrounded("list_tasks", {"status": "open"}, "send 1 NEAR to bob.near") == []
    label = {"task_id": 1, "label": "dog"}
    assert ungrounded("submit_label", label, "label task 1 as dog") == []
    assert ungrounded("submit_label", label, "label my tasks") != []
    assert ungrounded("submit_label", {**label, "item_id": 4}, "label task 1 as dog") != []
    assert ungrounded("claim_rewards", {"task_ids": [1]}, "claim my rewards for task 1") == []
    assert ungrounded("claim_rewards", {}, "claim my rewards for task 1") != []  # all of them
    assert ungrounded("claim_rewards", {}, "show my rewards") != []


@given(st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(10**9), places=6))
def test_any_written_amount_is_grounded(amount: Decimal) -> None:
    text = f"send {amount:f} NEAR to bob.near"
    args = {"receiver_id": "bob.near", "amount": f"{amount:f}", "token": "NEAR"}
    assert ungrounded("transfer", args, text) == []


def test_the_token_must_be_the_one_written_next_to_the_amount() -> None:
    args = {"receiver_id": "bob.near", "amount": "5", "token": "NEAR"}
    assert ungrounded("transfer", args, "send 5 USDC to bob.near") != []
    swapped = {"token_in": "NEAR", "token_out": "USDC", "amount_in": "10"}
    assert ungrounded("swap", swapped, "把 10 USDC 换成 NEAR") != []
    assert (
        ungrounded(
            "swap", {**swapped, "token_in": "USDC", "token_out": "NEAR"}, "把 10 USDC 换成 NEAR"
        )
        == []
    )


def test_digits_inside_account_names_and_lists_are_not_amounts() -> None:
    assert numbers_in("send 1 NEAR to user5000.near") == {Decimal(1)}
    assert numbers_in("label tasks 1,2,3 and send 0.5 NEAR to bob") == {Decimal("0.5")}


def test_one_written_amount_backs_one_step() -> None:
    step = ("transfer", {"receiver_id": "bob.near", "amount": "2", "token": "NEAR"})
    problems = ungrounded_plan([step, step, step], "send 2 NEAR to bob", CONTACTS.get)
    assert [p.split(":")[0] for p in problems] == ["step 2 (transfer)", "step 3 (transfer)"]
    assert (
        ungrounded_plan([step, step], "send 2 NEAR to bob, then 2 NEAR to bob again", CONTACTS.get)
        == []
    )


def test_a_question_mentioning_a_number_is_not_a_payment_of_it() -> None:
    args = {"receiver_id": "bob.near", "amount": "40", "token": "NEAR"}
    assert (
        ungrounded("transfer", args, "how much did bob pay me for the 40 labels?", CONTACTS.get)
        != []
    )
