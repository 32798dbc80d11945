"""Carrying a fire out: the strategy's tool call through the executor, as actor=scheduler.

A CONFIRM from the policy files an inbox item and declines at once, so no fire ever waits for a
person. The executor journals every transaction hash (tx_submitted, "signed") under the fire's
correlation id before sending, which is what ``recover`` reads after a crash.
"""

from __future__ import annotations

from typing import Any

from agent.plan import Plan
from agent.scheduler.core import FireJob, FireOutcome
from agent.scheduler.inbox import Inbox


class SessionRunner:
    def __init__(self, session: Any, inbox: Inbox) -> None:
        self.session = session
        self.inbox = inbox

    async def run(self, job: FireJob) -> FireOutcome:
        asked: list[str] = []

        def confirm(action: Any, decision: Any) -> bool:
            asked.append(
                self.inbox.ask(
                    strategy_id=job.strategy_id,
                    fire_id=job.fire_id,
                    tool=job.step.tool,
                    args=dict(job.step.args),
                    preview=action.preview,
                    reasons=list(decision.reasons),
                    correlation_id=job.correlation_id,
                )
            )
            return False

        self.session.ctx.chain.requests.begin_command()  # each fire has the whole request budget
        plan = Plan(intent=job.intent, steps=[job.step], planner="offline")
        executor = self.session.executor(confirm, actor="scheduler")
        report = await executor.run(plan, correlation_id=job.correlation_id)
        if not report.steps:
            return FireOutcome("refused", report.plan.error or "not run")
        step = report.steps[0]
        hashes = list(step.result.tx_hashes) if step.result is not None else []
        if step.status == "declined" and asked:
            return FireOutcome(
                "awaiting_approval",
                f"waiting in the inbox as {asked[0]}",
                hashes,
                {"inbox_id": asked[0]},
            )
        return FireOutcome(step.status, step.message, hashes)
