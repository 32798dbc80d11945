"""Confirmations: a single-use approval bound to one action's hash, valid for a short time.

An approval only ever turns a CONFIRM into an ALLOW; the approved action is evaluated again in
full when it runs, so anything that became a DENY meanwhile (a spent budget, a revoked grant, a
changed action) still denies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from policies.store import ApprovalRow


class ApprovalRefused(Exception):
    """Only an action whose decision is CONFIRM can be approved; ``decision`` says why not."""

    def __init__(self, message: str, decision: object) -> None:
        super().__init__(message)
        self.decision = decision


@dataclass(frozen=True)
class Approval:
    id: str
    action_hash: str
    expires_at: datetime


def approval_problem(row: ApprovalRow | None, action_hash: str, now_us: int) -> str | None:
    """None when the approval may be used for this action now, else a reason code."""
    if row is None:
        return "approval_unknown"
    if row.action_hash != action_hash:
        return "approval_other_action"
    if row.used_us is not None:
        return "approval_used"
    if now_us >= row.expires_us:
        return "approval_expired"
    return None
