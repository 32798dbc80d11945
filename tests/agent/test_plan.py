"""The Plan model and the step-argument contract that guards every planner's output."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from agent.plan import (
    AmountError,
    Plan,
    PlanStep,
    StepError,
    canonical_token,
    check_args,
    is_account_id,
    normalise_amount,
)
from tools import registry

TRANSFER = {"receiver_id": "bob.near", "amount": "2.5", "token": "NEAR"}


def test_tools_and_fields_match_the_documented_contract() -> None:
    fields = {tool: set(model.model_fields) for tool, model in registry.tool_args().items()}
    assert fields == {
        "transfer": {"receiver_id", "amount", "token"},
        "swap": {"token_in", "token_out", "amount_in", "max_slippage_bps"},
        "balance": {"token"},
        "list_tasks": {"status"},
        "submit_label": {"task_id", "item_id", "label"},
        "claim_rewards": {"task_ids"},
        "claim_lostfound": {"token"},
    }
    assert set(registry.tool_names()) == set(fields)


def test_plan_json_has_the_documented_shape() -> None:
    plan = Plan(
        intent="send 2.5 NEAR to bob.near",
        steps=[PlanStep(tool="transfer", args=TRANSFER)],
        planner="offline",
    )
    assert json.loads(plan.to_json()) == {
        "intent": "send 2.5 NEAR to bob.near",
        "steps": [{"tool": "transfer", "args": TRANSFER}],
        "planner": "offline",
    }
    assert list(plan.to_json_dict()) == ["intent", "steps", "planner"]


def test_refusal_json_has_error_and_no_planner_key() -> None:
    plan = Plan.refuse("hello", "I did not understand", "llm")
    assert plan.to_json_dict() == {"intent": "hello", "steps": [], "error": "I did not understand"}
    assert plan.planner == "llm" and not plan.ok


def test_to_json_keeps_non_ascii_readable() -> None:
    plan = Plan(intent="我的余额", steps=[PlanStep(tool="balance", args={})], planner="offline")
    assert "我的余额" in plan.to_json()


@pytest.mark.parametrize(
    "data",
    [
        {"intent": "x", "steps": [{"tool": "balance", "args": {}}], "planner": "llm"},
        {"intent": "x", "steps": [], "error": "not understood"},
    ],
)
def test_from_json_dict_reads_both_shapes_back(data: dict) -> None:
    plan = Plan.from_json_dict(data, planner="llm")
    assert plan.to_json_dict() == data


def test_plan_needs_steps_or_an_error_but_not_both() -> None:
    with pytest.raises(ValidationError, match="must say why"):
        Plan(intent="x", steps=[], planner="offline")
    with pytest.raises(ValidationError, match="no steps"):
        Plan(intent="x", steps=[PlanStep(tool="balance")], planner="offline", error="why")
    with pytest.raises(ValidationError, match="must not be empty"):
        Plan(intent="x", steps=[], planner="offline", error="  ")


def test_plan_and_step_refuse_extra_keys() -> None:
    with pytest.raises(ValidationError):
        Plan(intent="x", steps=[PlanStep(tool="balance")], planner="offline", extra=1)
    with pytest.raises(ValidationError, match="unknown key"):
        Plan.model_validate(
            {"intent": "x", "planner": "llm", "steps": [{"tool": "balance", "args": {}, "x": 1}]}
        )


def test_plan_validation_names_the_step_and_field() -> None:
    steps = [
        {"tool": "balance", "args": {}},
        {"tool": "transfer", "args": {"receiver_id": "bob.near", "amount": 2.5, "token": "NEAR"}},
    ]
    with pytest.raises(ValidationError) as info:
        Plan.model_validate({"intent": "x", "steps": steps, "planner": "llm"})
    text = str(info.value)
    assert "step 2 (transfer)" in text and "'amount'" in text and "decimal string" in text


def test_step_args_are_normalised() -> None:
    args = {"receiver_id": "bob.near", "amount": "1,000.25", "token": "usdc"}
    step = PlanStep(tool="transfer", args=args)
    assert step.args == {"receiver_id": "bob.near", "amount": "1000.25", "token": "USDC"}


@pytest.mark.parametrize(
    ("tool", "args", "message"),
    [
        ("teleport", {}, "unknown tool 'teleport'"),
        (None, {}, "unknown tool None"),
        ("transfer", {"receiver_id": "bob.near", "amount": 2.5, "token": "NEAR"}, "not a float"),
        ("transfer", {"receiver_id": "bob.near", "amount": 2, "token": "NEAR"}, "not a int"),
        ("transfer", {"receiver_id": "bob.near", "amount": True, "token": "NEAR"}, "not a bool"),
        ("transfer", {"receiver_id": "bob.near", "amount": "1e5", "token": "NEAR"}, "exponent"),
        ("transfer", {"receiver_id": "bob.near", "amount": "-1", "token": "NEAR"}, "sign"),
        ("transfer", {"receiver_id": "bob.near", "amount": "all", "token": "NEAR"}, "exact"),
        ("transfer", {"receiver_id": "bob.near", "amount": "0", "token": "NEAR"}, "zero"),
        ("transfer", {"receiver_id": "Bob.near", "amount": "1", "token": "NEAR"}, "receiver_id"),
        ("transfer", {"receiver_id": "bob..near", "amount": "1", "token": "NEAR"}, "account id"),
        ("transfer", {"amount": "1", "token": "NEAR"}, "missing required field 'receiver_id'"),
        ("transfer", {**TRANSFER, "memo": "hi"}, "unknown field 'memo'"),
        ("transfer", {**TRANSFER, "token": "not a token"}, "'token'"),
        ("swap", {"token_in": "NEAR", "token_out": "near", "amount_in": "1"}, "both 'NEAR'"),
        (
            "swap",
            {"token_in": "NEAR", "token_out": "USDC", "amount_in": "1", "max_slippage_bps": "50"},
            "max_slippage_bps",
        ),
        (
            "swap",
            {"token_in": "NEAR", "token_out": "USDC", "amount_in": "1", "max_slippage_bps": 10001},
            "max_slippage_bps",
        ),
        ("swap", {"token_in": "NEAR", "token_out": "USDC", "amount_in": 5.0}, "amount_in"),
        ("list_tasks", {"status": "pending"}, "'status'"),
        ("submit_label", {"task_id": "3", "label": "cat"}, "'task_id'"),
        ("submit_label", {"task_id": True, "label": "cat"}, "'task_id'"),
        ("submit_label", {"task_id": -1, "label": "cat"}, "'task_id'"),
        ("submit_label", {"task_id": 3, "label": "  "}, "'label' is empty"),
        ("submit_label", {"task_id": 3, "item_id": 1.0, "label": "x"}, "'item_id'"),
        ("claim_rewards", {"task_ids": []}, "'task_ids'"),
        ("claim_rewards", {"task_ids": ["1"]}, "'task_ids.0'"),
        ("balance", [], "args must be an object"),
    ],
)
def test_check_args_refuses_with_a_clear_message(tool, args, message) -> None:
    with pytest.raises(StepError) as info:
        check_args(tool, args, index=4)
    assert "step 4" in str(info.value)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("tool", "args", "expected"),
    [
        ("transfer", TRANSFER, TRANSFER),
        (
            "swap",
            {"token_in": "near", "token_out": "usdc.fakes.testnet", "amount_in": ".5"},
            {"token_in": "NEAR", "token_out": "usdc.fakes.testnet", "amount_in": "0.5"},
        ),
        (
            "swap",
            {"token_in": "wnear", "token_out": "REF", "amount_in": "1", "max_slippage_bps": 50},
            {"token_in": "wNEAR", "token_out": "REF", "amount_in": "1", "max_slippage_bps": 50},
        ),
        ("balance", {}, {}),
        ("balance", {"token": "usdt"}, {"token": "USDT"}),
        ("list_tasks", {"status": "closed"}, {"status": "closed"}),
        ("submit_label", {"task_id": 0, "label": "cat"}, {"task_id": 0, "label": "cat"}),
        ("claim_rewards", {"task_ids": [1, 2]}, {"task_ids": [1, 2]}),
        ("claim_rewards", {"task_ids": None}, {}),
    ],
)
def test_check_args_accepts_and_normalises(tool, args, expected) -> None:
    assert check_args(tool, args) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2.5", "2.5"),
        ("1,000.25", "1000.25"),
        ("1,000,000", "1000000"),
        ("007", "7"),
        (".5", "0.5"),
        ("2.50", "2.50"),
        ("１０", "10"),
        (" 3 ", "3"),
        ("0.000000000000000000000001", "0.000000000000000000000001"),
    ],
)
def test_normalise_amount_keeps_the_value(text: str, expected: str) -> None:
    assert normalise_amount(text) == expected
    assert Decimal(expected) == Decimal(text.replace(",", "").strip().replace("１０", "10"))


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "abc",
        "-1",
        "+1",
        "1e5",
        "1E-3",
        "1,00",
        "1,5",
        "1.2.3",
        "0",
        "0.0",
        "all",
        "nan",
        "inf",
        "1_000",
        "2.",
        "1 000",
        1.5,
        7,
        None,
    ],
)
def test_normalise_amount_refuses(bad) -> None:
    with pytest.raises(AmountError):
        normalise_amount(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("near", "NEAR"),
        ("Near", "NEAR"),
        ("usdc", "USDC"),
        ("wnear", "wNEAR"),
        ("WNEAR", "wNEAR"),
        ("ref", "REF"),
        ("usdt", "USDT"),
        ("usdc.fakes.testnet", "usdc.fakes.testnet"),
        ("a" * 64, "a" * 64),
        ("AURORA", "AURORA"),
        ("Bad.Contract", None),
        ("-x", None),
        ("", None),
        ("two words", None),
    ],
)
def test_canonical_token(text: str, expected: str | None) -> None:
    assert canonical_token(text) == expected


@pytest.mark.parametrize(
    ("account", "ok"),
    [
        ("bob.near", True),
        ("a1", True),
        ("my_account-1.testnet", True),
        ("98793cd91a3f870fb126f66285808c7e094afcfc4eda8a970f6648cdf0dbd6de", True),
        ("a", False),
        ("Bob.near", False),
        ("bob..near", False),
        (".bob", False),
        ("bob.", False),
        ("bob-.near", False),
        ("a" * 65, False),
        ("bob near", False),
    ],
)
def test_is_account_id(account: str, ok: bool) -> None:
    assert is_account_id(account) is ok


@given(
    st.decimals(
        min_value=Decimal("1e-24"),
        max_value=Decimal("1e30"),
        places=24,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_normalised_amounts_parse_to_the_same_value(value: Decimal) -> None:
    text = format(value, "f")
    assert Decimal(normalise_amount(text)) == value
    grouped = format(value, ",f")
    assert Decimal(normalise_amount(grouped)) == value
