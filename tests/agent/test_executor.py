"""The executor end to end on the devnet: policy first, then exactly what was allowed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from agent.executor import Executor, RunReport
from agent.home import Home
from agent.plan import Plan, PlanStep
from agent.session import AgentSession
from memory.audit import AuditKind
from tools.action import NEAR

ONE_NEAR = 10**24


async def _with_session(home: Home, body: Callable[[AgentSession], Awaitable[Any]]) -> Any:
    session = await AgentSession.open(home)
    try:
        for name in ("bob", "carol"):
            session.contacts.add(name, f"{name}.test.near", replace=True)
        return await body(session)
    finally:
        await session.close()


def run(home: Home, body: Callable[[AgentSession], Awaitable[Any]]) -> Any:
    return asyncio.run(_with_session(home, body))


async def near_of(session: AgentSession, account: str) -> int:
    return (await session.ctx.chain.near_balance(account))["total"]


def kinds(session: AgentSession, report: RunReport) -> list[str]:
    return [str(e.kind) for e in session.audit.story(report.correlation_id)]


def test_over_limit_transfer_is_denied_moves_nothing_and_is_audited(home: Home) -> None:
    async def body(session: AgentSession) -> None:
        before = await near_of(session, "alice.test.near")
        report = await session.run("send 50 NEAR to bob", confirm=lambda a, d: True)
        assert [s.status for s in report.steps] == ["denied"]
        assert "per_action_cap" in report.steps[0].message
        assert await near_of(session, "alice.test.near") == before
        assert kinds(session, report) == [
            "user_message",
            "plan",
            "action_prepared",
            "policy_decision",
        ]
        assert session.policy.pending() == []

    run(home, body)


def test_confirmed_transfer_runs_once_and_tells_the_whole_story(home: Home) -> None:
    asked: list[str] = []

    def confirm(action: Any, decision: Any) -> bool:
        asked.append(action.preview)
        return True

    async def body(session: AgentSession) -> None:
        bob_before = await near_of(session, "bob.test.near")
        report = await session.run("send 1 NEAR to bob", confirm)
        assert report.ok, report.steps
        assert asked == ["Send 1 NEAR to bob.test.near"]
        assert await near_of(session, "bob.test.near") == bob_before + ONE_NEAR
        story = kinds(session, report)
        assert story == [
            "user_message",
            "plan",
            "action_prepared",
            "policy_decision",
            "approval_requested",
            "approval_granted",
            "policy_decision",
            "tx_submitted",
            "tx_outcome",
        ]
        decisions = session.audit.story(report.correlation_id)
        assert [e.status for e in decisions if e.kind == AuditKind.POLICY_DECISION] == [
            "confirm",
            "allow",
        ]
        assert session.policy.pending() == []  # settled
        assert session.audit.verify().ok

    run(home, body)


def test_declined_confirmation_sends_nothing_and_reserves_nothing(home: Home) -> None:
    async def body(session: AgentSession) -> None:
        carol_before = await near_of(session, "carol.test.near")
        report = await session.run("send 3 NEAR to carol", confirm=lambda a, d: False)
        assert [s.status for s in report.steps] == ["declined"]
        assert await near_of(session, "carol.test.near") == carol_before
        assert session.policy.pending() == []
        assert kinds(session, report)[-1] == "approval_denied"

    run(home, body)


def test_first_failure_stops_the_plan_and_later_steps_do_not_run(home: Home) -> None:
    plan = Plan(
        intent="two steps",
        planner="offline",
        steps=[
            PlanStep(
                tool="transfer",
                args={"receiver_id": "bob.test.near", "amount": "1", "token": "NOPE"},
            ),
            PlanStep(tool="balance", args={}),
        ],
    )

    async def body(session: AgentSession) -> None:
        before = await near_of(session, "alice.test.near")
        report = await session.run_plan(plan, confirm=lambda a, d: True)
        assert [s.status for s in report.steps] == ["refused", "not_run"]
        assert "NOPE" in report.steps[0].message
        assert await near_of(session, "alice.test.near") == before

    run(home, body)


def test_swap_reservation_is_settled_at_the_authorised_amount(home: Home) -> None:
    async def body(session: AgentSession) -> None:
        report = await session.run("swap 1 NEAR to USDC", confirm=lambda a, d: True)
        assert report.ok, report.steps
        decision = report.steps[0].decision
        assert decision is not None and decision["outcome"] == "allow"
        row = session.policy.reservation(decision["reservation_id"])
        assert row is not None and row.status == "settled"
        assert row.amounts.get(NEAR, 0) + row.amounts.get("wrap.test.near", 0) >= ONE_NEAR

    run(home, body)


def test_reviewer_can_decline_an_allowed_action(home: Home) -> None:
    async def body(session: AgentSession) -> None:
        before = await near_of(session, "alice.test.near")
        report = await session.run(
            "swap 1 NEAR to USDC", confirm=lambda a, d: True, review=lambda a, d: False
        )
        assert [s.status for s in report.steps] == ["declined"]
        assert await near_of(session, "alice.test.near") == before
        assert session.policy.pending() == []

    run(home, body)


def test_a_submitted_label_is_traceable_by_its_content_hash(home: Home) -> None:
    from memory.audit.labels import label_content_hash, trace_label

    async def body(session: AgentSession) -> None:
        report = await session.run("label task 2 item 2 as hello", confirm=lambda a, d: True)
        assert report.ok, report.steps
        found = trace_label(session.audit, label="hello", task_id=2)
        assert len(found) == 1
        entry = found[0]
        assert entry.status == "submitted"
        assert entry.data["content_hash"] == label_content_hash("hello")
        assert entry.data["tx_hash"] == report.steps[0].result.tx_hashes[-1]
        assert entry.correlation_id == report.correlation_id

    run(home, body)


def test_nothing_is_reserved_while_the_user_is_asked(home: Home) -> None:
    """A slow answer cannot have its budget released under it: reserving waits for the yes."""
    seen: list[int] = []

    async def body(session: AgentSession) -> None:
        def review(action: Any, decision: Any) -> bool:
            seen.append(len(session.policy.pending()))
            return True

        report = await session.run("swap 1 NEAR to USDC", confirm=lambda a, d: True, review=review)
        assert report.ok, report.steps
        assert seen == [0]
        assert session.policy.pending() == []

    run(home, body)


def test_reconcile_leaves_a_live_owners_reservation_alone(home: Home) -> None:
    async def body(session: AgentSession) -> None:
        plan = await session.plan("swap 1 NEAR to USDC")
        from tools import registry

        action = await registry.prepare("swap", plan.steps[0].args, session.ctx)
        await session.feed.refresh(session.ctx)
        decision = session.policy.reserve(action)
        assert decision.reservation_id is not None
        session.executor(None)._log_decision(decision, "test", "swap")  # as the executor records it
        assert await session.reconcile() == []
        assert [r.id for r in session.policy.pending()] == [decision.reservation_id]
        session.policy.release(decision.reservation_id, "test over")

    run(home, body)


def test_concurrent_runs_on_one_session_each_journal_their_own_transactions(home: Home) -> None:
    """Two plans run at once on one session (one ToolContext): each run's signed transaction is
    journalled by that run, under its own story and reservation, before it is sent; the journal
    hook is an argument of each execution, not a slot of the shared context that a concurrent
    run can overwrite or restore to nothing."""

    async def body(session: AgentSession) -> None:
        both_at_the_policy = asyncio.Barrier(2)

        async def meet(ctx: Any, action: Any) -> None:
            """Both runs reach the policy together, so their executions overlap."""
            await session.feed.refresh(ctx, action)
            await both_at_the_policy.wait()

        def executor() -> Executor:
            return Executor(
                ctx=session.ctx,
                policy=session.policy,
                audit=session.audit,
                confirm=lambda a, d: True,
                before_evaluate=meet,
            )

        def send(receiver: str) -> Plan:
            args = {"receiver_id": receiver, "amount": "1", "token": "NEAR"}
            return Plan(
                intent=f"send 1 NEAR to {receiver}",
                steps=[PlanStep(tool="transfer", args=args)],
                planner="offline",
            )

        reports = await asyncio.gather(
            executor().run(send("bob.test.near")), executor().run(send("carol.test.near"))
        )
        for report, receiver in zip(reports, ("bob.test.near", "carol.test.near"), strict=True):
            assert report.ok, report.steps
            story = session.audit.story(report.correlation_id)
            journalled = [e.data for e in story if e.kind == AuditKind.TX_SUBMITTED]
            assert [j["receiver_id"] for j in journalled] == [receiver]
            assert [j["tx_hash"] for j in journalled] == report.steps[0].result.tx_hashes
            reserved = [
                e.data["reservation_id"]
                for e in story
                if e.kind == AuditKind.POLICY_DECISION and e.data.get("reservation_id")
            ]
            assert journalled[0]["reservation_id"] == reserved[-1]

    run(home, body)
