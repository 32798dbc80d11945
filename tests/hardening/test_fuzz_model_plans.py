"""Plans a model proposes are data from outside: garbage becomes a refusal, never a crash.

``LLMPlanner.check`` is fed hypothesis-generated tool calls (unknown tools, wrong types, nested
JSON, floats, hostile ids); the planner's whole path is also driven through the real openai client
against the replay server with malformed argument text. ``Plan.from_json_dict`` (what reads a
plan back) gets arbitrary JSON. Every answer is a refusal with a message or steps that pass the
tool contract and are grounded in the user's words.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.plan import Plan, check_args
from agent.planner.grounding import ungrounded
from agent.planner.llm import LLMPlanner, ModelAnswer
from tests.support.openai_replay import ModelTurn, ReplayServer, ToolCall
from tools.registry import tool_args

FUZZ = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CONTACTS = {"bob": "bob.test.near"}
USER_TEXT = "send 5 NEAR to bob and swap 2 NEAR to USDC"


def offline_checker(base_url: str = "http://127.0.0.1:9/v1") -> LLMPlanner:
    return LLMPlanner(
        base_url=base_url,
        model="scripted",
        api_key="sk-test",
        max_slippage_bps=100,
        resolve_contact=CONTACTS.get,
        timeout_s=10,
    )


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**130), max_value=2**130)
    | st.floats(allow_nan=True)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELD_VALUES = st.one_of(
    JSON,
    st.sampled_from(
        [
            "5",
            "2",
            "1e3",
            "-5",
            "NaN",
            "5.0",
            "05",
            "x.near",
            "bob.test.near",
            "bоb.near",
            "NEAR",
            "USDC",
            "all",
            "",
            "a" * 65,
            "0.5",
            10_000,
        ]
    ),
)
ARGS = st.one_of(
    JSON,
    st.dictionaries(
        st.sampled_from(
            [
                "receiver_id",
                "amount",
                "token",
                "token_in",
                "token_out",
                "amount_in",
                "max_slippage_bps",
                "task_id",
                "item_id",
                "label",
                "status",
                "task_ids",
                "memo",
                "deposit",
            ]
        ),
        FIELD_VALUES,
        max_size=5,
    ),
)
CALLS = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from([*tool_args(), "delete_account", "add_key", ""]),
            "args": ARGS,
            "id": st.just("c"),
        }
    ),
    max_size=4,
)


def assert_answer_is_safe(answer: ModelAnswer, text: str) -> None:
    assert isinstance(answer, ModelAnswer)
    if answer.error is not None or answer.question is not None:
        assert answer.steps == []
        return
    assert answer.steps
    for step in answer.steps:
        assert check_args(step.tool, step.args) == step.args
        assert ungrounded(step.tool, step.args, text, CONTACTS.get) == []
        assert step.args.get("max_slippage_bps", 0) <= 100


@FUZZ
@given(CALLS, st.one_of(st.none(), st.text(max_size=30), JSON))
def test_any_tool_calls_are_checked_or_refused(calls: list[dict[str, Any]], content: Any) -> None:
    answer = offline_checker().check(USER_TEXT, calls, [], content)
    assert_answer_is_safe(answer, USER_TEXT)


@FUZZ
@given(
    st.lists(
        st.fixed_dictionaries(
            {"name": st.text(max_size=10), "args": st.text(), "error": st.text(max_size=10)}
        ),
        min_size=1,
        max_size=2,
    )
)
def test_invalid_tool_calls_refuse_the_whole_plan(invalid: list[dict[str, Any]]) -> None:
    ok = [{"name": "balance", "args": {}, "id": "c"}]
    answer = offline_checker().check(USER_TEXT, ok, invalid, None)
    assert answer.steps == [] and answer.error and "malformed" in answer.error


@pytest.mark.parametrize(
    "args",
    [
        {"receiver_id": "x.near", "amount": "5", "token": "NEAR"},
        {"receiver_id": "bob.test.near", "amount": "6", "token": "NEAR"},
        {"receiver_id": "bob.test.near", "amount": 5, "token": "NEAR"},
        {"receiver_id": "bob.test.near", "amount": 5.0, "token": "NEAR"},
        {"receiver_id": "bob.test.near", "amount": "5", "token": "NEAR", "memo": "x"},
        {"receiver_id": "bоb.test.near", "amount": "5", "token": "NEAR"},
        {"receiver_id": "BOB.TEST.NEAR", "amount": "5", "token": "NEAR"},
        {"receiver_id": "bob.test.near", "amount": "5e0", "token": "NEAR"},
        {"receiver_id": "bob.test.near", "amount": "all", "token": "NEAR"},
        {"receiver_id": ["bob.test.near"], "amount": "5", "token": "NEAR"},
        {"receiver_id": "bob.test.near", "amount": {"value": "5"}, "token": "NEAR"},
    ],
    ids=lambda v: repr(v)[:40],
)
def test_targeted_bad_transfers_are_refused(args: dict[str, Any]) -> None:
    answer = offline_checker().check(USER_TEXT, [{"name": "transfer", "args": args}], [], None)
    assert answer.steps == [] and answer.error


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["intent", "steps", "planner", "error", "extra"]), JSON, max_size=5
    )
)
def test_plan_json_from_anywhere_is_a_plan_or_a_value_error(data: dict[str, Any]) -> None:
    try:
        plan = Plan.from_json_dict(data)
    except ValueError:  # pydantic's ValidationError and StepError are both ValueErrors
        return
    for step in plan.steps:
        assert check_args(step.tool, step.args) == step.args


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as srv:
        yield srv


MALFORMED = [
    "{not json",
    "[]",
    '"transfer"',
    "null",
    "1e999",
    '{"receiver_id": ' * 50,
    '{"amount": NaN, "receiver_id": "bob.test.near", "token": "NEAR"}',
    '{"a": "\\ud800"}',
    "{}" + "x" * 5000,
]


@pytest.mark.parametrize("arguments", MALFORMED, ids=lambda v: repr(v)[:20])
def test_malformed_model_arguments_over_http_are_refused(
    server: ReplayServer, arguments: str
) -> None:
    server.script(ModelTurn(tool_calls=[ToolCall("transfer", arguments)]))
    plan = asyncio.run(offline_checker(server.base_url).plan("send 5 NEAR to bob"))
    assert not plan.ok and plan.steps == [] and plan.error
    assert len(server.requests) == 1


def test_a_broken_endpoint_is_a_refusal(server: ReplayServer) -> None:
    # nothing scripted: the server answers 500
    plan = asyncio.run(offline_checker(server.base_url).plan("send 5 NEAR to bob"))
    assert not plan.ok and "endpoint" in (plan.error or "")
