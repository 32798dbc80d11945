"""From a plan to policy-checked NEAR actions, one step at a time, every step audited.

plan -> prepare -> policy (reserve) -> confirmation -> execute -> settle -> audit. The first step
that does not complete stops the run; the report says what happened and what did not. Nothing
here decides limits: the policy engine does, on the canonical action the tool prepared.

A run's audit entries are written in as few durable commits as a crash allows: they wait in
memory until something must be on disk first, then go in one transaction. Each signed
transaction's journal entry is committed (with everything before it) before it is sent; the
question to the user is committed before it is asked; the rest when the run ends, however it
ends. A crash before a commit loses only entries about a run that sent nothing since its last
commit, so nothing reconcile or the user needs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from agent.plan import Plan, PlanStep
from memory.audit import (
    Actor,
    AuditDraft,
    AuditKind,
    AuditLog,
    PreparedDraft,
    new_correlation_id,
    prepare_draft,
)
from memory.audit.labels import label_content_hash, record_label
from policies.approvals import ApprovalRefused
from policies.engine import PolicyEngine
from policies.evaluator import ALLOW, CONFIRM, Decision
from policies.store import ReservationResolved
from tools import failpoints
from tools import registry as tool_registry
from tools.action import CanonicalAction, FunctionCallSpec, TransactionSpec
from tools.base import Tool, ToolContext, ToolResult
from tools.errors import OutcomeUnknownError, ToolError, UnusableFile
from tools.signing import SignedTx

StepStatus = Literal["done", "refused", "denied", "declined", "failed", "unknown", "not_run"]

Confirm = Callable[[CanonicalAction, Decision], bool]
"""Asked when the policy wants the user's confirmation; True approves exactly this action."""


LEFT_TO_RECONCILE = (
    "its budget stays reserved until a reconcile learns from the chain whether it landed: "
    "`near-agent reconcile` (at any time, even while this process runs), or the next "
    "`do`, `chat` or `daemon` as it starts (a running daemon also reconciles every 5 minutes)"
)
"""What the user is told when a step ends without settling or releasing its reservation."""


class ReservationTaken(Exception):
    """Raised from the signing hook when the run's reservation is no longer pending and its own:
    the transaction just signed must not be sent. Not a ToolError, so no tool can absorb it."""


@dataclass
class StepReport:
    tool: str
    status: StepStatus
    message: str
    preview: str = ""
    decision: dict[str, Any] | None = None
    result: ToolResult | None = None

    @property
    def ok(self) -> bool:
        return self.status == "done"


@dataclass
class RunReport:
    correlation_id: str
    plan: Plan
    steps: list[StepReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.plan.ok and all(step.ok for step in self.steps)


class Executor:
    """Runs plans for one account under one policy engine, writing one audit story per plan."""

    def __init__(
        self,
        *,
        ctx: ToolContext,
        policy: PolicyEngine,
        audit: AuditLog,
        confirm: Confirm | None = None,
        review: Confirm | None = None,
        actor: Actor = "user",
        tools: dict[str, Tool[Any]] | None = None,
        before_evaluate: Callable[[ToolContext, CanonicalAction], Awaitable[None]] | None = None,
        entry_data: Mapping[str, Any] | None = None,
    ) -> None:
        self.ctx = ctx
        self.policy = policy
        self.audit = audit
        self.confirm = confirm
        self.review = review  # asked before signing what the policy allows outright
        self.actor: Actor = actor
        self.tools = tools if tools is not None else tool_registry.build_registry()
        self._unwritten: dict[str, list[PreparedDraft]] = {}  # per run, by correlation id
        # fields every entry it writes carries besides its own (an MCP call names its client)
        self.entry_data = dict(entry_data or {})
        # make sure the prices the policy reads cover the action and are fresh (the market
        # snapshot the prepare took is reused when it does)
        self.before_evaluate = before_evaluate

    async def run(self, plan: Plan, *, correlation_id: str | None = None) -> RunReport:
        cid = correlation_id or new_correlation_id()
        try:
            return await self._run(plan, cid)
        finally:
            self._write(cid)  # whatever ended the run: every entry it made is written

    async def _run(self, plan: Plan, cid: str) -> RunReport:
        report = RunReport(cid, plan)
        self._log(AuditKind.USER_MESSAGE, cid, {"text": plan.intent})
        self._log(AuditKind.PLAN, cid, plan.to_json_dict(), status="ok" if plan.ok else "refused")
        if not plan.ok:
            return report
        for index, step in enumerate(plan.steps):
            outcome = await self._run_step(step, cid)
            report.steps.append(outcome)
            if not outcome.ok:
                for rest in plan.steps[index + 1 :]:
                    report.steps.append(
                        StepReport(
                            rest.tool, "not_run", "not run: an earlier step did not complete"
                        )
                    )
                break
        return report

    async def _run_step(self, step: PlanStep, cid: str) -> StepReport:
        tool = step.tool
        try:
            action = await tool_registry.prepare(tool, step.args, self.ctx, self.tools)
        except ToolError as exc:
            self._log(AuditKind.ERROR, cid, {"stage": "prepare", **exc.to_dict()}, tool, "refused")
            return StepReport(tool, "refused", exc.message)
        self._log(AuditKind.ACTION_PREPARED, cid, {"action": action}, tool)

        if self.before_evaluate is not None and action.transactions:
            try:
                await self.before_evaluate(self.ctx, action)
            except ToolError as exc:  # no fresh prices: the policy denies what needs them
                self._log(AuditKind.ERROR, cid, {"stage": "prices", **exc.to_dict()}, tool)
        decision = self.policy.dry_run(action)
        self._log_decision(decision, cid, tool)
        approval_id: str | None = None
        if decision.outcome == CONFIRM:
            approval_id = self._confirm(action, decision, cid)
            if approval_id is None:
                return StepReport(
                    tool, "declined", "you declined; nothing was sent", action.preview
                )
        elif (
            decision.outcome == ALLOW
            and action.transactions
            and self.review is not None
            and not self.review(action, decision)
        ):
            self._log(AuditKind.APPROVAL_DENIED, cid, {"action_hash": decision.action_hash}, tool)
            return StepReport(tool, "declined", "you declined; nothing was sent", action.preview)
        if decision.outcome in (ALLOW, CONFIRM):
            # Reserve right before signing: decided again, against the budget as it is now.
            decision = self.policy.reserve(action, approval_id=approval_id)
            if decision.reservation_id is not None:
                return await self._spend(action, decision, cid)
            self._log_decision(decision, cid, tool)
        if decision.outcome != ALLOW:
            why = ", ".join(decision.reasons) or "denied"
            return StepReport(
                tool, "denied", f"the policy denied it ({why})", action.preview, decision.to_dict()
            )
        return await self._execute(action, decision, cid)

    async def _spend(self, action: CanonicalAction, decision: Decision, cid: str) -> StepReport:
        """Execute under the reservation just made. However the step ends, a reservation it
        leaves pending (sent, fate unknown; or interrupted) is let go, so that any reconcile
        resolves it from the journal and the chain while this process lives on."""
        assert decision.reservation_id is not None
        try:
            failpoints.hit("after_reserve")  # committed, with its owner; nothing else yet
            self._log_decision(decision, cid, action.tool)
            return await self._execute(action, decision, cid)
        finally:
            self._let_go(decision.reservation_id, cid, action.tool)

    def _let_go(self, reservation: str, cid: str, tool: str) -> None:
        """Give up ownership of our reservation if it is still pending (a no-op once settled,
        released or taken away): one conditional statement, audited when it let go."""
        if self.policy.disown(reservation):
            data = {
                "stage": "let_go",
                "reservation_id": reservation,
                "message": LEFT_TO_RECONCILE,
            }
            self._log(AuditKind.TX_OUTCOME, cid, data, tool, "left_to_reconcile")

    def _confirm(self, action: CanonicalAction, decision: Decision, cid: str) -> str | None:
        """Ask the user; a yes becomes a single-use approval bound to this action's hash."""
        tool = action.tool
        self._log(
            AuditKind.APPROVAL_REQUESTED,
            cid,
            {
                "action_hash": decision.action_hash,
                "preview": action.preview,
                "reasons": decision.reasons,
            },
            tool,
        )
        self._write(cid)  # on disk before the user, who may take long, is asked
        if self.confirm is None or not self.confirm(action, decision):
            self._log(AuditKind.APPROVAL_DENIED, cid, {"action_hash": decision.action_hash}, tool)
            return None
        try:
            approval = self.policy.approve(action)
        except ApprovalRefused as exc:  # the situation changed since the question was asked
            self._log(AuditKind.ERROR, cid, {"stage": "approve", "message": str(exc)}, tool)
            return None
        self._log(
            AuditKind.APPROVAL_GRANTED,
            cid,
            {
                "approval_id": approval.id,
                "action_hash": approval.action_hash,
                "expires_at": approval.expires_at.isoformat(),
            },
            tool,
        )
        return approval.id

    async def _execute(self, action: CanonicalAction, decision: Decision, cid: str) -> StepReport:
        tool = action.tool
        reservation = decision.reservation_id
        journalled: list[str] = []

        def journal(signed: SignedTx, spec: TransactionSpec) -> None:
            """Before the transaction leaves: confirm the reservation is still ours (one SQLite
            statement), then journal the hash durably so a crash after this can be reconciled."""
            if reservation is not None and not self.policy.claim(reservation):
                raise ReservationTaken(reservation)
            self._log(
                AuditKind.TX_SUBMITTED,
                cid,
                {**signed.journal_fields(), "reservation_id": reservation},
                tool,
                "signed",
            )
            self._write(cid)  # journal before send: durable, with all the run said before it
            journalled.append(signed.tx_hash)
            failpoints.hit("after_sign")

        try:
            result = await tool_registry.execute(action, self.ctx, self.tools, on_signed=journal)
        except OutcomeUnknownError as exc:
            # The transaction may have landed: keep the reservation counting as spent.
            self._log(AuditKind.ERROR, cid, {"stage": "execute", **exc.to_dict()}, tool, "unknown")
            message = f"{exc.message}; {LEFT_TO_RECONCILE}"
            return StepReport(tool, "unknown", message, action.preview, decision.to_dict())
        except ReservationTaken:
            return self._taken(action, decision, cid, journalled)
        except ToolError as exc:
            partial = exc.result if isinstance(exc.result, ToolResult) else None
            self._settle_or_release(reservation, cid, tool, sent=bool(journalled))
            data = {"stage": "execute", **exc.to_dict()}
            if partial is not None:
                data["result"] = partial.model_dump(mode="json")
            self._log(AuditKind.TX_OUTCOME, cid, data, tool, "failed")
            return StepReport(
                tool, "failed", exc.message, action.preview, decision.to_dict(), partial
            )
        except Exception as exc:  # a bug or the unexpected: never guess what reached the chain
            data = {"stage": "execute", "error": f"{type(exc).__name__}: {exc}"}
            if journalled:
                self._log(AuditKind.ERROR, cid, data, tool, "unknown")
                message = f"interrupted after sending; {LEFT_TO_RECONCILE}"
                return StepReport(tool, "unknown", message, action.preview, decision.to_dict())
            self._settle_or_release(reservation, cid, tool, sent=False)
            self._log(AuditKind.ERROR, cid, data, tool, "failed")
            if isinstance(exc, UnusableFile):  # no later step can do better: stop the command,
                raise  # whose one handler names the file and what to do (exit 2)
            return StepReport(tool, "failed", data["error"], action.preview, decision.to_dict())
        failpoints.hit("before_settle")
        resolved = self._settle_or_release(reservation, cid, tool, sent=True)
        self._log(AuditKind.TX_OUTCOME, cid, {"result": result.model_dump(mode="json")}, tool, "ok")
        if tool == "submit_label":
            self._write(cid)
            self._record_label(action, result, cid)
        summary = result.summary
        if resolved == "released":
            summary += (
                "; note: reconcile had already released its reservation, so this is not "
                "counted against your budget"
            )
        return StepReport(tool, "done", summary, action.preview, decision.to_dict(), result)

    def _taken(
        self, action: CanonicalAction, decision: Decision, cid: str, journalled: list[str]
    ) -> StepReport:
        """The reservation was resolved by someone else (reconcile) before a signed transaction
        was sent: stop there, audited; the reservation is theirs to account for, not ours."""
        assert decision.reservation_id is not None
        row = self.policy.reservation(decision.reservation_id)
        status = row.status if row is not None else "removed"
        what = {"pending": "held by another process"}.get(status, f"{status} by reconcile")
        if journalled:
            message = (
                f"reservation was {what} after {len(journalled)} transaction(s) were sent; "
                "the rest was not sent"
            )
        else:
            message = f"reservation was {what}; nothing was sent"
        data = {
            "stage": "claim",
            "reservation_id": decision.reservation_id,
            "reservation_status": status,
            "sent": journalled,
            "message": message,
        }
        self._log(AuditKind.TX_OUTCOME, cid, data, action.tool, "failed")
        return StepReport(action.tool, "failed", message, action.preview, decision.to_dict())

    def _settle_or_release(
        self, reservation: str | None, cid: str, tool: str, *, sent: bool
    ) -> str | None:
        """Release only when no transaction left; otherwise keep what was authorised.

        Whether anything left is known from the journal (a hash is journalled before its
        transaction is sent), not from the error: a node can fail a request it has forwarded.
        Net balance changes cannot measure spending either (a NEAR -> token swap wraps NEAR into
        wNEAR and spends it), so the budget keeps counting the reserved amounts.

        Only our own pending reservation is touched. If someone else (reconcile) already resolved
        it, that is audited and its status returned; otherwise None.
        """
        if reservation is None:
            return None
        owner = self.policy.owner
        try:
            if sent:
                # journalled: a settlement lost to a power cut is redone by reconcile
                self.policy.settle(reservation, owner=owner, durable=False)
            else:
                self.policy.release(reservation, "nothing was sent", owner=owner)
        except ReservationResolved as exc:
            status = exc.status or "removed"
            data = {
                "stage": "settle" if sent else "release",
                "reservation_id": reservation,
                "reservation_status": status,
                "message": str(exc),
            }
            self._log(AuditKind.ERROR, cid, data, tool, "resolved_elsewhere")
            return status
        return None

    def _record_label(self, action: CanonicalAction, result: ToolResult, cid: str) -> None:
        """Label provenance: the content hash we computed, checked against the contract's."""
        call = action.transactions[0].actions[0]
        args = call.args if isinstance(call, FunctionCallSpec) else {}
        receipt = result.data.get("receipt") or {}
        ours = label_content_hash(str(args.get("label", "")))
        on_chain = receipt.get("content_hash") if isinstance(receipt, dict) else None
        record_label(
            self.audit,
            task_id=args.get("task_id", ""),
            item_id=args.get("item_id"),
            label=str(args.get("label", "")),
            tx_hash=result.tx_hashes[-1] if result.tx_hashes else "",
            actor=self.actor,
            correlation_id=cid,
            status="submitted" if on_chain in (None, ours) else "hash_mismatch",
        )

    def _log_decision(self, decision: Decision, cid: str, tool: str) -> None:
        self._log(AuditKind.POLICY_DECISION, cid, decision.to_dict(), tool, decision.outcome)

    def _log(
        self,
        kind: AuditKind,
        cid: str,
        data: dict[str, Any],
        tool: str | None = None,
        status: str | None = None,
    ) -> None:
        """Stage one entry of run ``cid``; :meth:`_write` commits the run's staged entries."""
        if self.entry_data:
            data = {**data, **self.entry_data}
        draft = prepare_draft(AuditDraft(kind, self.actor, cid, data, tool, status))
        self._unwritten.setdefault(cid, []).append(draft)

    def _write(self, cid: str) -> None:
        """Commit run ``cid``'s staged entries in one durable transaction (none: no commit)."""
        drafts = self._unwritten.pop(cid, None)
        if drafts:
            self.audit.append_many(drafts)
