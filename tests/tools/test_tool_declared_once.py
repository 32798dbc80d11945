"""A tool is declared once, by its class: a throwaway tool defined here, and nothing else
edited, is in the plan's schema and validation, the LLM planner's tool schema, the executor's
registry and the policy engine's kinds (a grant naming it allows it; one without it denies)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage
from pydantic import Field

from agent.plan import Plan, plan_json_schema
from agent.planner.llm import LLMPlanner
from policies.grants import GrantFileError, parse_grants
from tests.policy.helpers import ALICE, TASKS, call, grants_doc, make_engine
from tools import registry
from tools.action import CanonicalAction, TransactionSpec
from tools.base import OnSigned, Tool, ToolArgs, ToolContext, ToolResult, forget_tool


@pytest.fixture
def ping() -> Iterator[type[Tool[Any]]]:
    """Declare a throwaway ``ping`` tool for one test, then undeclare it."""

    class PingArgs(ToolArgs):
        target: str = Field(description="the account to ping")

    class PingTool(Tool[PingArgs]):
        name = "ping"
        description = "Ping an account through the tasks contract."
        Args = PingArgs
        contract_methods = ("ping",)
        grounded_fields = ("target",)
        asks_to = "ping"

        async def prepare(self, args: PingArgs, ctx: ToolContext) -> CanonicalAction:
            raise NotImplementedError

        async def execute(
            self, action: CanonicalAction, ctx: ToolContext, on_signed: OnSigned | None = None
        ) -> ToolResult:
            raise NotImplementedError

    try:
        yield PingTool
    finally:
        forget_tool("ping")
    assert "ping" not in registry.tool_names()


def test_the_plan_validates_and_describes_it(ping: type[Tool[Any]]) -> None:
    plan = Plan.model_validate(
        {
            "intent": "ping bob",
            "steps": [{"tool": "ping", "args": {"target": "bob"}}],
            "planner": "llm",
        }
    )
    assert plan.steps[0].args == {"target": "bob"}
    with pytest.raises(ValueError, match="missing required field 'target'"):
        Plan.model_validate(
            {"intent": "x", "steps": [{"tool": "ping", "args": {"port": 1}}], "planner": "llm"}
        )
    steps = plan_json_schema()["properties"]["steps"]["items"]["oneOf"]
    pings = [s for s in steps if s["properties"]["tool"] == {"const": "ping"}]
    assert len(pings) == 1
    assert set(pings[0]["properties"]["args"]["properties"]) == {"target"}
    assert "ping" in registry.build_registry()


def test_the_llm_planner_offers_it(ping: type[Tool[Any]]) -> None:
    sent: list[list[dict[str, Any]]] = []

    async def model(messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        sent.append(tools)
        return AIMessage(content="Whom should I ping?")

    planner = LLMPlanner(chat=model, max_slippage_bps=50)
    asyncio.run(planner.plan("ping someone"))
    offered = {t["name"]: t for t in sent[0]}
    assert offered["ping"]["description"] == "Ping an account through the tasks contract."
    assert set(offered["ping"]["parameters"]["properties"]) == {"target"}
    # a model's call of it is checked like any other: its arguments against its model
    answer = planner.check("ping bob", [{"name": "ping", "args": {"port": 1}}], [], "")
    assert answer.error is not None and "ping" in answer.error and "target" in answer.error


def ping_action() -> CanonicalAction:
    tx = TransactionSpec(signer_id=ALICE, receiver_id=TASKS, actions=(call("ping", {}),))
    return CanonicalAction(
        tool="ping", signer_id=ALICE, transactions=(tx,), recipients=(TASKS,), preview="ping"
    )


def test_a_grant_naming_it_allows_it_and_one_without_it_denies(
    ping: type[Tool[Any]], tmp_path: Path
) -> None:
    granted = {
        "id": "ping",
        "kinds": ["ping"],
        "contracts": [{"contract": TASKS, "methods": ["ping"]}],
    }
    engine, _ = make_engine(tmp_path / "yes.db", grants_doc(granted))
    try:
        decision = engine.dry_run(ping_action())
    finally:
        engine.close()
    assert decision.outcome == "allow", decision.trace
    assert any(t.rule == "label" and t.result == "allow" for t in decision.trace)

    other = {
        "id": "tasks",
        "kinds": ["submit_label"],
        "contracts": [{"contract": TASKS, "methods": ["submit_label"]}],
    }
    engine, _ = make_engine(tmp_path / "no.db", grants_doc(other))
    try:
        decision = engine.dry_run(ping_action())
    finally:
        engine.close()
    assert decision.outcome == "deny" and "no_grant" in decision.reasons


def test_its_methods_are_allowlisted_only_with_its_kind(ping: type[Tool[Any]]) -> None:
    dead = {
        "id": "tasks",
        "kinds": ["submit_label"],
        "contracts": [{"contract": TASKS, "methods": ["submit_label", "ping"]}],
    }
    with pytest.raises(GrantFileError, match=r"methods \['ping'\] can never be called"):
        parse_grants(grants_doc(dead))


def test_once_undeclared_it_is_unknown_everywhere(tmp_path: Path) -> None:
    assert "ping" not in registry.tool_names()
    with pytest.raises(ValueError, match="unknown tool 'ping'"):
        Plan.model_validate(
            {"intent": "x", "steps": [{"tool": "ping", "args": {"target": "b"}}], "planner": "llm"}
        )
    with pytest.raises(GrantFileError, match="kinds"):
        parse_grants(grants_doc({"id": "ping", "kinds": ["ping"]}))
