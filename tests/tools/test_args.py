"""One set of tool-argument models: the plan gate and the tool layer validate alike."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import agent.plan as plan
from tools import args as tool_args
from tools import registry
from tools.amounts import normalise_amount_text, parse_amount
from tools.args import normalise_amount
from tools.errors import AmountError, InvalidAccountIdError
from tools.network import is_valid_account_id
from tools.registry import (
    InvalidArgumentsError,
    StepError,
    build_registry,
    check_args,
    parse_args,
    tool_schemas,
    validate_args,
)
from tools.registry import tool_args as declared_args


def test_every_tool_parses_with_the_shared_model() -> None:
    registry = build_registry()
    models = declared_args()
    assert set(registry) == set(models)
    for name, tool in registry.items():
        assert tool.Args is models[name]


def test_the_plan_re_exports_the_same_objects() -> None:
    for name in (
        "TransferArgs",
        "SwapArgs",
        "BalanceArgs",
        "ListTasksArgs",
        "SubmitLabelArgs",
        "ClaimRewardsArgs",
        "normalise_amount",
        "canonical_token",
        "is_account_id",
        "CANONICAL_SYMBOLS",
    ):
        assert getattr(plan, name) is getattr(tool_args, name)
    assert plan.StepError is registry.StepError and plan.check_args is registry.check_args
    assert plan.AmountError is AmountError


def test_transfer_token_is_required_on_both_sides() -> None:
    args = {"receiver_id": "bob.near", "amount": "1"}
    with pytest.raises(StepError, match="missing required field 'token'"):
        check_args("transfer", args)
    with pytest.raises(InvalidArgumentsError, match="token"):
        parse_args("transfer", args)
    transfer = next(s for s in tool_schemas() if s["name"] == "transfer")
    assert transfer["parameters"]["required"] == ["receiver_id", "amount", "token"]


def test_schemas_keep_the_field_descriptions() -> None:
    for spec in tool_schemas():
        for field, schema in spec["parameters"]["properties"].items():
            if field not in ("task_id", "label"):
                assert schema.get("description"), (spec["name"], field)


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("transfer", {"receiver_id": "bob.near", "amount": "1,000.25", "token": "usdc"}),
        (
            "swap",
            {"token_in": "wnear", "token_out": "REF", "amount_in": ".5", "max_slippage_bps": 30},
        ),
        ("balance", {"token": "usdt"}),
        ("list_tasks", {}),
        ("submit_label", {"task_id": 3, "item_id": 1, "label": " cat "}),
        ("claim_rewards", {"task_ids": [1, 2]}),
    ],
)
def test_plan_and_tools_read_arguments_alike(tool: str, args: dict) -> None:
    expected = check_args(tool, args)
    assert parse_args(tool, args).model_dump(exclude_none=True) == expected
    assert check_args(tool, expected) == expected  # normalised arguments are a fixed point


def test_labels_are_kept_exactly() -> None:
    parsed = parse_args("submit_label", {"task_id": 3, "label": " cat "})
    assert parsed.label == " cat "  # type: ignore[attr-defined]


def test_an_invalid_account_id_keeps_its_own_error_in_the_tool_layer() -> None:
    args = {"receiver_id": "Bob.near", "amount": "1", "token": "NEAR"}
    with pytest.raises(InvalidAccountIdError, match="lowercase") as info:
        parse_args("transfer", args)
    assert info.value.code == "invalid_account_id"
    with pytest.raises(StepError, match="field 'receiver_id'.*did you mean 'bob.near'"):
        check_args("transfer", args)


def test_invalid_arguments_list_every_problem() -> None:
    with pytest.raises(InvalidArgumentsError) as info:
        parse_args(
            "swap",
            {"token_in": "NEAR", "token_out": "USDC", "amount_in": 5.0, "max_slippage_bps": 20_000},
        )
    assert "amount_in" in info.value.message and "max_slippage_bps" in info.value.message
    assert "float" in info.value.message


def test_step_error_carries_the_validators_error() -> None:
    with pytest.raises(StepError) as info:
        validate_args("transfer", {"receiver_id": "bob.near", "amount": "-1", "token": "NEAR"}, 2)
    assert str(info.value).startswith("step 2 (transfer): field 'amount': ")
    assert isinstance(info.value.cause, AmountError)
    assert info.value.detail == f"field 'amount': {info.value.cause.message}"


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("-1", ("sign", "negative")),
        ("all", ("not an exact amount",)),
        ("1_000", ("'_'",)),
        ("nan", ("not a number",)),
        (".", ("no digits",)),
        ("1.2.3", ("not a decimal number",)),
    ],
)
def test_one_grammar_one_message(text: str, fragments: tuple[str, ...]) -> None:
    for gate in (normalise_amount, lambda t: parse_amount(t, 6)):
        with pytest.raises(AmountError) as info:
            gate(text)
        assert all(f in info.value.message for f in fragments), info.value.message
        assert info.value.text == text


def test_the_plan_is_stricter_than_the_unit_parser_in_two_ways() -> None:
    assert parse_amount("2.", 0) == 2
    with pytest.raises(AmountError, match="ends with '.'"):
        normalise_amount("2.")
    long = "1" + "0" * 80
    assert normalise_amount_text(long) == long
    with pytest.raises(AmountError, match="longer than 80"):
        normalise_amount(long)


def test_zero_only_when_asked() -> None:
    assert normalise_amount_text("0.00", allow_zero=True) == "0.00"
    with pytest.raises(AmountError, match="zero"):
        normalise_amount_text("0.00")


@given(st.text(alphabet="ab09-_.Z ", max_size=70))
def test_plan_and_tools_share_the_account_rule(text: str) -> None:
    assert plan.is_account_id(text) == is_valid_account_id(text)
