"""The approval inbox: what a scheduled fire wanted to do when the policy asked for the user.

Nothing waits for an answer: the fire is declined at once and the tool call (with its preview and
the policy's reasons) waits here until it expires. Approving re-prepares the same call now, shows
the fresh preview, records a policy approval bound to that exact action and runs it as the user;
an expired item can never be approved.

One pending item per strategy: a fire that asks while its strategy already has one pending
refreshes that item (the newest call, preview and reasons, a new expiry) instead of adding
another, and the item counts the fires that asked for it (from the fire ledger). Approving it
runs the call once: the fires it stands for were each declined when they fired, as always.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from memory.audit import Actor, AuditKind, AuditLog, new_correlation_id
from memory.jobs import InboxRow, JobStore, ts

DEFAULT_TTL = timedelta(hours=12)


@dataclass(frozen=True)
class InboxView(InboxRow):
    fires: int = 0  # fires that asked for it (one pending item stands for all of them)


class InboxError(Exception):
    """The item cannot be approved or denied (unknown, already resolved or expired)."""


def _now() -> datetime:
    return datetime.now(UTC)


class Inbox:
    def __init__(
        self,
        store: JobStore,
        audit: AuditLog,
        *,
        ttl: timedelta = DEFAULT_TTL,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.store = store
        self.audit = audit
        self.ttl = ttl
        self.clock = clock

    def ask(
        self,
        *,
        strategy_id: str,
        fire_id: int | None,
        tool: str,
        args: dict[str, Any],
        preview: str,
        reasons: list[str],
        correlation_id: str,
        filed_by: Actor,
    ) -> str:
        """File a request, or refresh the strategy's pending one (see the module docstring);
        the executor has already audited approval_requested under this correlation id.
        ``filed_by`` is who asked (the scheduler for a fire, ``mcp`` for an MCP client's call):
        the actor of the audit entry."""
        now = self.clock()
        self.expire(now)
        item_id = next(
            (
                item.id
                for item in self.store.inbox("pending")
                if item.strategy_id == strategy_id
                and self.store.refresh_inbox(
                    item.id,
                    fire_id=fire_id,
                    args=args,
                    preview=preview,
                    reasons=reasons,
                    expires_at=now + self.ttl,
                )
            ),
            None,
        ) or self.store.add_inbox(
            strategy_id=strategy_id,
            fire_id=fire_id,
            tool=tool,
            args=args,
            preview=preview,
            reasons=reasons,
            now=now,
            expires_at=now + self.ttl,
        )
        self.audit.append(
            AuditKind.APPROVAL_REQUESTED,
            actor=filed_by,
            correlation_id=correlation_id,
            tool=tool,
            status="inbox",
            data={
                "inbox_id": item_id,
                "strategy_id": strategy_id,
                "expires_at": ts(now + self.ttl),
                "preview": preview,
            },
        )
        return item_id

    def expire(self, now: datetime | None = None) -> list[str]:
        """Mark every pending item past its expiry as expired (audited); returns their ids."""
        now = now or self.clock()
        gone: list[str] = []
        for item in self.store.inbox("pending"):
            if item.expires_at <= now and self.store.resolve_inbox(item.id, "expired", now):
                gone.append(item.id)
                self.audit.append(
                    AuditKind.APPROVAL_EXPIRED,
                    actor="system",
                    correlation_id=new_correlation_id(),
                    tool=item.tool,
                    data={"inbox_id": item.id, "strategy_id": item.strategy_id},
                )
        return gone

    def view(self, item: InboxRow) -> InboxView:
        """The item with how many fires asked for it."""
        asked = self.store.fires_asking(item.strategy_id, item.id)
        return InboxView(**{f.name: getattr(item, f.name) for f in fields(item)}, fires=asked)

    def pending(self) -> list[InboxRow]:
        self.expire()
        return self.store.inbox("pending")

    def claim(self, item_id: str) -> InboxRow:
        """Take a pending, unexpired item for approval (no other process can take it too)."""
        self.expire()
        item = self.store.inbox_item(item_id)
        if item is None:
            raise InboxError(f"no approval request {item_id!r}")
        if item.status != "pending":
            raise InboxError(
                f"request {item_id} is {item.status}; only pending ones can be approved"
            )
        if not self.store.resolve_inbox(item_id, "approving", self.clock()):
            raise InboxError(f"request {item_id} was resolved by someone else just now")
        return item

    def finish(self, item_id: str, status: str, detail: str) -> None:
        self.store.resolve_inbox(item_id, status, self.clock(), detail, only_from="approving")
        item = self.store.inbox_item(item_id)
        if item is not None and item.fire_id is not None:
            self.store.note_fire(item.fire_id, {"inbox": f"{status}: {detail}"})

    def pending_for(self, strategy_id: str) -> list[InboxRow]:
        """One strategy's pending, unexpired items, oldest first."""
        return [item for item in self.pending() if item.strategy_id == strategy_id]

    def deny(self, item_id: str, *, actor: Actor = "user") -> None:
        self.expire()
        item = self.store.inbox_item(item_id)
        if item is None:
            raise InboxError(f"no approval request {item_id!r}")
        if not self.store.resolve_inbox(item_id, "denied", self.clock()):
            raise InboxError(f"request {item_id} is {item.status}; only pending ones can be denied")
        self.audit.append(
            AuditKind.APPROVAL_DENIED,
            actor=actor,
            correlation_id=new_correlation_id(),
            tool=item.tool,
            data={"inbox_id": item_id, "strategy_id": item.strategy_id},
        )


async def approve_item(
    session: Any,
    inbox: Inbox,
    item_id: str,
    confirm: Callable[[Any, Any], bool],
    *,
    actor: Actor = "user",
) -> Any:
    """Run an inbox item's tool call now, as the user, after a fresh preview.

    The call is prepared again (today's quote, today's balances); ``confirm`` sees that fresh
    preview and the policy's reasons, and a True answer records a policy approval bound to that
    exact action, which the engine evaluates again in full before anything is signed.
    Returns the executor's RunReport.
    """
    from agent.plan import Plan, PlanStep

    item = inbox.claim(item_id)
    plan = Plan(
        intent=f"approve scheduled request {item_id} ({item.strategy_id})",
        steps=[PlanStep.model_validate({"tool": item.tool, "args": item.args})],
        planner="offline",
    )
    try:
        report = await session.executor(confirm, actor=actor).run(plan)
    except BaseException:
        inbox.finish(item_id, "failed", "interrupted")
        raise
    step = report.steps[0] if report.steps else None
    if step is None:
        inbox.finish(item_id, "failed", report.plan.error or "not run")
    else:
        status = {"done": "approved", "declined": "declined"}.get(step.status, "failed")
        inbox.finish(item_id, status, f"{step.status}: {step.message}")
    return report


@dataclass(frozen=True)
class BulkOutcome:
    """What one item of a bulk approval or denial became."""

    item_id: str
    ok: bool
    message: str
    report: Any = None  # the executor's RunReport when the item was run


async def approve_all(
    session: Any,
    inbox: Inbox,
    strategy_id: str,
    confirm: Callable[[Any, Any], bool],
    *,
    actor: Actor = "user",
) -> list[BulkOutcome]:
    """Approve every pending item of one strategy, oldest first, each exactly as
    ``approve_item`` does: prepared again, previewed to ``confirm``, evaluated again in full.

    An item that fails or is declined does not stop the others (each is its own action).
    """
    outcomes: list[BulkOutcome] = []
    for item in inbox.pending_for(strategy_id):
        try:
            report = await approve_item(session, inbox, item.id, confirm, actor=actor)
        except InboxError as exc:  # resolved by someone else meanwhile
            outcomes.append(BulkOutcome(item.id, False, str(exc)))
            continue
        step = report.steps[0] if report.steps else None
        message = f"{step.status}: {step.message}" if step else (report.plan.error or "not run")
        outcomes.append(BulkOutcome(item.id, bool(report.ok), message, report))
    return outcomes


def deny_all(inbox: Inbox, strategy_id: str, *, actor: Actor = "user") -> list[BulkOutcome]:
    """Deny every pending item of one strategy (each audited as a single ``deny`` is)."""
    outcomes: list[BulkOutcome] = []
    for item in inbox.pending_for(strategy_id):
        try:
            inbox.deny(item.id, actor=actor)
        except InboxError as exc:
            outcomes.append(BulkOutcome(item.id, False, str(exc)))
            continue
        outcomes.append(BulkOutcome(item.id, True, "denied"))
    return outcomes
