"""One-line human descriptions of audit entries, for ``audit show`` and "why did you do that?"."""

from __future__ import annotations

import json
from typing import Any

from memory.audit.log import AuditEntry, AuditKind

# The data fields worth showing first for each kind; anything else is shown compactly after.
_HEADLINE: dict[AuditKind, tuple[str, ...]] = {
    AuditKind.USER_MESSAGE: ("text",),
    AuditKind.PLAN: ("steps", "planner", "error"),
    AuditKind.ACTION_PREPARED: ("preview", "action_hash"),
    AuditKind.POLICY_DECISION: ("decision", "reasons", "grant_version", "reservation"),
    AuditKind.APPROVAL_REQUESTED: ("action_hash", "expires_at"),
    AuditKind.APPROVAL_GRANTED: ("action_hash", "by"),
    AuditKind.APPROVAL_DENIED: ("action_hash", "reason"),
    AuditKind.APPROVAL_EXPIRED: ("action_hash",),
    AuditKind.TX_SUBMITTED: ("tx_hash", "receiver_id"),
    AuditKind.TX_OUTCOME: ("tx_hash", "status", "balance_changes"),
    AuditKind.ERROR: ("error", "message"),
    AuditKind.ANCHOR: ("entries", "head_hash", "tx_hash"),
    AuditKind.LABEL_SUBMITTED: ("task_id", "item_id", "content_hash", "tx_hash"),
}


def _compact(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(entry: AuditEntry, *, limit: int = 160) -> str:
    """``key=value`` pairs from the entry's data, the most telling ones first."""
    first = _HEADLINE.get(entry.kind, ())
    keys = [k for k in first if k in entry.data] + sorted(k for k in entry.data if k not in first)
    parts = [f"{k}={_compact(entry.data[k], limit)}" for k in keys]
    return "  ".join(parts)


def render_story(entries: list[AuditEntry]) -> str:
    """A plain-text account of one intent, one line per step."""
    lines = []
    for e in entries:
        where = " ".join(x for x in (e.tool or "", f"[{e.status}]" if e.status else "") if x)
        lines.append(f"#{e.id} {e.ts} {e.actor:<9} {e.kind.value:<18} {where}".rstrip())
        detail = describe(e)
        if detail:
            lines.append(f"    {detail}")
    return "\n".join(lines)
