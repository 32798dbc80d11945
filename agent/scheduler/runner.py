"""Carrying a fire out: the strategy's tool call through the executor, as actor=scheduler.

A CONFIRM from the policy files an inbox item and declines at once, so no fire ever waits for a
person. The executor journals every transaction hash (tx_submitted, "signed") under the fire's
correlation id before sending, which is what ``recover`` reads after a crash.
"""

from __future__ import annotations

from typing import Any

from agent.plan import Plan
from agent.scheduler.core import FireJob, FireOutcome
from agent.scheduler.denials import denial_words
from agent.scheduler.inbox import Inbox
from tools.errors import ToolError


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
                    filed_by="scheduler",
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
        if step.status == "denied":  # the rule's own words, for the ledger and an auto-pause
            words = denial_words(step.decision, await self._units(step.decision))
            reasons = list((step.decision or {}).get("reasons") or [])
            return FireOutcome("denied", words, hashes, {"reasons": reasons})
        return FireOutcome(step.status, step.message, hashes)

    async def _units(self, decision: dict[str, Any] | None) -> dict[str, tuple[int, str]]:
        """Decimals and symbol of each token the decision's budgets are counted in."""
        units: dict[str, tuple[int, str]] = {}
        for line in (decision or {}).get("budgets") or []:
            measure = str(line.get("measure", ""))
            if measure in units or measure in ("usd", "near"):
                continue
            try:
                token = await self.session.ctx.tokens.by_contract(measure)
            except (ToolError, ValueError):
                continue
            units[measure] = (token.decimals, token.symbol)
        return units
