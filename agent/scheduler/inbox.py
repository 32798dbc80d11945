"""The approval inbox: what a scheduled fire wanted to do when the policy asked for the user.

Nothing waits for an answer: the fire is declined at once and the tool call (with its preview and
the policy's reasons) waits here until it expires. Approving re-prepares the same call now, shows
the fresh preview, records a policy approval bound to that exact action and runs it as the user;
an expired item can never be approved.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from memory.audit import AuditKind, AuditLog, new_correlation_id
from memory.jobs import InboxRow, JobStore, ts

DEFAULT_TTL = timedelta(hours=12)


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
    ) -> str:
        """File a request; the executor has already audited approval_requested under this id."""
        now = self.clock()
        item_id = self.store.add_inbox(
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
            actor="scheduler",
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

    def deny(self, item_id: str) -> None:
        self.expire()
        item = self.store.inbox_item(item_id)
        if item is None:
            raise InboxError(f"no approval request {item_id!r}")
        if not self.store.resolve_inbox(item_id, "denied", self.clock()):
            raise InboxError(f"request {item_id} is {item.status}; only pending ones can be denied")
        self.audit.append(
            AuditKind.APPROVAL_DENIED,
            actor="user",
            correlation_id=new_correlation_id(),
            tool=item.tool,
            data={"inbox_id": item_id, "strategy_id": item.strategy_id},
        )


async def approve_item(
    session: Any, inbox: Inbox, item_id: str, confirm: Callable[[Any, Any], bool]
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
        report = await session.executor(confirm, actor="user").run(plan)
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
