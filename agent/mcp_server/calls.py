"""One MCP tool call, through the same path as chat: prepare -> policy -> confirmation ->
execute -> settle -> audit (``agent.executor.Executor``), as actor ``mcp`` naming the client.

What comes back is data (the ``structuredContent`` of the call's result): the step's status, the
policy's decision with its reasons and each rule's words, the action's preview, the tool's
result (task texts, token names, balances as JSON fields) and, for a CONFIRM no one could
answer here, the approval inbox id. Malformed or extra arguments are refused by the tool's own
argument model before anything is prepared, and the refusal is audited like any plan refusal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from agent.executor import Executor, RunReport
from agent.mcp_server.approval import (
    Answer,
    Confirmer,
    ask_by_elicitation,
    can_elicit,
    elicit_message,
)
from agent.mcp_server.client_audit import ACTOR, ClientAudit
from agent.mcp_server.tool_table import (
    AGENT_TOOLS,
    CHECK,
    RECENT_ACTIVITY,
    RecentActivityArgs,
)
from agent.plan import Plan, PlanStep
from agent.scheduler.inbox import Inbox
from memory.audit import AuditKind, new_correlation_id
from policies.evaluator import CONFIRM
from tools.errors import ToolError
from tools.registry import StepError, validate_args
from tools.validation import validation_problems

MAX_INTENT_CHARS = 2000
DONE = "done: the action ran; what it did is in result"
INBOX_PREFIX = "mcp:"
ERROR_STATUSES = frozenset({"refused", "denied", "declined", "failed", "unknown"})


@dataclass
class CallOutcome:
    """The call's result as data, and whether the client should read it as an error."""

    data: dict[str, Any]
    is_error: bool


def decision_view(decision: dict[str, Any]) -> dict[str, Any]:
    """A decision (``Decision.to_dict()``) as a client needs it: outcome, reason codes, the
    words of each rule that did not simply allow, and the budget left per window (base units,
    exact, as strings)."""
    return {
        "outcome": decision.get("outcome"),
        "reasons": list(decision.get("reasons", [])),
        "rules": [t for t in decision.get("trace", []) if t.get("result") != "allow"],
        "grant_id": decision.get("grant_id"),
        "budgets": decision.get("budgets", []),
        "action_hash": decision.get("action_hash"),
    }


def _intent(tool: str, arguments: Any) -> str:
    """What the client asked, as the audit log's message: the call as JSON, bounded."""
    try:
        text = json.dumps({"tool": tool, "args": arguments}, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = json.dumps({"tool": tool, "args": repr(arguments)}, ensure_ascii=False)
    return text[:MAX_INTENT_CHARS]


class Calls:
    """Runs the calls of one client over one agent session (one call at a time: ``lock``)."""

    def __init__(self, app: Any, client: str) -> None:
        self.app = app  # agent.mcp_server.server.McpApp: session, lock, jobs
        self.client = client
        self.audit = ClientAudit(app.session.audit, client)

    # ------------------------------------------------------------------ agent tools

    async def agent_tool(
        self, tool: str, arguments: Any, mcp_session: Any = None, request_id: Any = None
    ) -> CallOutcome:
        intent = _intent(tool, arguments)
        try:
            args = validate_args(tool, arguments).model_dump(exclude_none=True)
        except StepError as exc:
            return await self._refused(intent, tool, list(exc.problems) or [exc.detail])
        step = PlanStep(tool=tool, args=args)
        cid = new_correlation_id()  # the call's story, the inbox request included
        answer: Answer | None = None
        if mcp_session is not None and can_elicit(mcp_session):
            answer = await self._elicit(step, mcp_session, request_id)
        confirmer = Confirmer(answer, self._inbox_filer(step, cid))
        async with self.app.lock:
            session = self.app.session
            session.ctx.chain.requests.begin_command()  # each call has the whole request budget
            executor = Executor(
                ctx=session.ctx,
                policy=session.policy,
                audit=session.audit,
                confirm=confirmer,
                actor=ACTOR,
                before_evaluate=session.feed.refresh,
                entry_data={"client": self.client},
            )
            plan = Plan(intent=intent, steps=[step], planner="offline")
            report = await executor.run(plan, correlation_id=cid)
        return self._outcome(report, confirmer, answer)

    async def _elicit(self, step: PlanStep, mcp_session: Any, request_id: Any) -> Answer | None:
        """Ask the user now when the dry run wants a confirmation; None when it does not."""
        try:
            async with self.app.lock:
                action, decision = await self.app.session.check(step)
        except ToolError:
            return None  # the executor refuses it, and audits why
        if decision.outcome != CONFIRM:
            return None
        rules = decision_view(decision.to_dict())["rules"]
        message = elicit_message(action.preview, decision.reasons, rules)
        return await ask_by_elicitation(mcp_session, request_id, decision.action_hash, message)

    def _inbox_filer(self, step: PlanStep, cid: str) -> Any:
        def file(action: Any, decision: Any) -> str:
            return Inbox(self.app.jobs, self.audit).ask(  # type: ignore[arg-type]
                strategy_id=f"{INBOX_PREFIX}{self.client}",
                fire_id=None,
                tool=step.tool,
                args=dict(step.args),
                preview=action.preview,
                reasons=list(decision.reasons),
                correlation_id=cid,
                filed_by=ACTOR,
            )

        return file

    async def unknown_tool(self, tool: str, arguments: Any) -> CallOutcome:
        """A tool this server does not offer (keys, grants, accounts are never offered)."""
        offered = ", ".join((*self.app.offered, CHECK, RECENT_ACTIVITY))
        problem = f"unknown tool {tool!r}; this server offers: {offered}"
        return await self._refused(_intent(tool, arguments), tool, [problem])

    async def _refused(self, intent: str, tool: str, problems: list[str]) -> CallOutcome:
        """Invalid arguments or an unknown tool: audited as a refused plan; nothing prepared."""
        plan = Plan.refuse(intent, f"{tool[:100]}: {'; '.join(problems)}", "offline")
        executor = Executor(
            ctx=self.app.session.ctx,
            policy=self.app.session.policy,
            audit=self.app.session.audit,
            actor=ACTOR,
            entry_data={"client": self.client},
        )
        report = await executor.run(plan)
        data = {
            "tool": tool,
            "status": "refused",
            "message": "refused: " + "; ".join(problems),
            "problems": problems,
            "correlation_id": report.correlation_id,
        }
        return CallOutcome(data, True)

    def _outcome(
        self, report: RunReport, confirmer: Confirmer, answer: Answer | None
    ) -> CallOutcome:
        step = report.steps[0]
        data: dict[str, Any] = {
            "tool": step.tool,
            "status": step.status,
            # what the tool reported (task texts, token names) stays in ``result``, as data
            "message": DONE if step.status == "done" else step.message,
            "preview": step.preview,
            "correlation_id": report.correlation_id,
        }
        if step.decision is not None:
            data["decision"] = decision_view(step.decision)
        if step.result is not None:
            data["result"] = step.result.model_dump(mode="json")
        if answer is not None:
            data["confirmation"] = {"asked": "elicitation", "answer": answer.how}
        if confirmer.inbox_ids:
            inbox_id = confirmer.inbox_ids[-1]
            data["status"] = "awaiting_approval"
            data["inbox_id"] = inbox_id
            data["message"] = (
                f"the policy wants your confirmation and this client cannot ask you: waiting "
                f"in the approval inbox as {inbox_id} (`near-agent approvals approve {inbox_id}`)"
            )
            return CallOutcome(data, False)
        return CallOutcome(data, data["status"] in ERROR_STATUSES)

    # ------------------------------------------------------------------ check, activity

    async def check(self, arguments: Any) -> CallOutcome:
        """The policy's dry run of one tool call; audited as one message, nothing reserved."""
        raw = arguments if isinstance(arguments, dict) else {}
        extra = sorted(set(raw) - {"tool", "args"}) if isinstance(arguments, dict) else []
        tool = raw.get("tool")
        problems: list[str] = []
        if not isinstance(arguments, dict):
            problems.append(f"arguments must be an object, not {type(arguments).__name__}")
        if extra:
            problems.append(f"unknown field(s) {extra} (allowed: tool, args)")
        if not isinstance(tool, str) or tool not in AGENT_TOOLS:
            problems.append(f"field 'tool' must be one of {', '.join(AGENT_TOOLS)}")
        args: dict[str, Any] = {}
        if not problems:
            try:
                args = validate_args(tool, raw.get("args", {})).model_dump(exclude_none=True)
            except StepError as exc:
                problems.extend(exc.problems or (exc.detail,))
        cid = new_correlation_id()
        self._query(CHECK, cid, _intent(CHECK, arguments), problems)
        if problems:
            return CallOutcome(
                {"status": "refused", "problems": problems, "correlation_id": cid}, True
            )
        assert isinstance(tool, str)
        try:
            async with self.app.lock:
                self.app.session.ctx.chain.requests.begin_command()
                action, decision = await self.app.session.check(PlanStep(tool=tool, args=args))
        except ToolError as exc:
            refused = {"status": "refused", "problems": [exc.message], "correlation_id": cid}
            return CallOutcome(refused, True)
        data: dict[str, Any] = {
            "tool": tool,
            "status": "checked",
            "preview": action.preview,
            "decision": decision_view(decision.to_dict()),
            "correlation_id": cid,
        }
        return CallOutcome(data, False)

    async def recent_activity(self, arguments: Any) -> CallOutcome:
        """The newest audit entries as data (this call itself is audited first)."""
        intent = _intent(RECENT_ACTIVITY, arguments)
        cid = new_correlation_id()
        try:
            parsed = RecentActivityArgs.model_validate(arguments if arguments is not None else {})
        except ValidationError as exc:
            problems = list(validation_problems(exc, whole="(args)"))
            self._query(RECENT_ACTIVITY, cid, intent, problems)
            return CallOutcome({"status": "refused", "problems": problems}, True)
        self._query(RECENT_ACTIVITY, cid, intent, [])
        return CallOutcome({"entries": recent_entries(self.app.session.audit, parsed.limit)}, False)

    def _query(self, tool: str, cid: str, intent: str, problems: list[str]) -> None:
        """A read-only call as one complete audit entry: ``answered``, or ``refused`` with the
        problems (a status on a message says no action follows it)."""
        data: dict[str, Any] = {"text": intent}
        if problems:
            data["error"] = "; ".join(problems)
        self.audit.append(
            AuditKind.USER_MESSAGE,
            actor=ACTOR,
            correlation_id=cid,
            tool=tool,
            data=data,
            status="refused" if problems else "answered",
        )


def recent_entries(audit: Any, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` entries, newest first, without the chain's hashes."""
    rows = audit.entries(limit=limit, newest_first=True)
    keep = ("id", "ts", "kind", "actor", "correlation_id", "tool", "status", "data")
    return [{k: v for k, v in row.to_dict().items() if k in keep} for row in rows]
