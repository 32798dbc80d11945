"""The LLM planner inside the whole agent: one model call per intent, the policy still decides."""

from __future__ import annotations

import asyncio

from agent.home import Home
from agent.session import AgentSession
from tests.support.openai_replay import ModelTurn, ToolCall


def run(home: Home, text: str):
    async def body():
        session = await AgentSession.open(home)
        try:
            report = await session.run(text, confirm=lambda a, d: True)
            return report, [
                (str(e.kind), e.status) for e in session.audit.story(report.correlation_id)
            ]
        finally:
            await session.close()

    return asyncio.run(body())


def test_transfer_to_a_stranger_is_stopped_by_the_policy_and_audited(llm_home) -> None:
    home, server = llm_home
    server.script(
        ModelTurn(
            tool_calls=[
                ToolCall(
                    "transfer", {"receiver_id": "vendor.test.near", "amount": "1", "token": "NEAR"}
                )
            ]
        )
    )
    report, story = run(home, "send 1 NEAR to vendor.test.near")
    assert report.plan.planner == "llm"
    assert [s.status for s in report.steps] == ["denied"]
    assert "recipient" in report.steps[0].message
    assert ("policy_decision", "deny") in story
    assert len(server.requests) == 1


def test_model_slippage_above_the_setting_is_refused_and_audited(llm_home) -> None:
    home, server = llm_home
    server.script(
        ModelTurn(
            tool_calls=[
                ToolCall(
                    "swap",
                    {
                        "token_in": "NEAR",
                        "token_out": "USDC",
                        "amount_in": "1",
                        "max_slippage_bps": 10_000,
                    },
                )
            ]
        )
    )
    report, story = run(home, "swap 1 NEAR to USDC")
    assert report.steps == [] and "10000 bps" in report.plan.error
    assert story == [("user_message", None), ("plan", "refused")]
    assert len(server.requests) == 1


def test_multi_step_plan_runs_in_order_with_one_model_call(llm_home) -> None:
    home, server = llm_home
    server.script(
        ModelTurn(tool_calls=[ToolCall("balance", {"token": "USDC"}), ToolCall("list_tasks", {})])
    )
    report, _ = run(home, "how much USDC do I have, and which tasks are open?")
    assert [s.status for s in report.steps] == ["done", "done"]
    assert len(server.requests) == 1
