"""After a crash: settle or release every reservation an interrupted run left pending.

A journalled transaction the chain has not seen may still land while its nonce is unused, so its
reservation stays pending until the key's nonce has moved past it (then it never can).

A reservation whose owner process is still alive is left alone (it may be waiting on the chain);
only those whose owner is gone are resolved. The owner is read from the reservation row, where it
was committed with the reservation (see memory.process_owner for when an owner counts as alive),
and every settle or release here is conditional on the row still being pending and still that
owner's, so a run starting up, another reconcile or the owner itself racing this one is harmless.

The executor journals each transaction's hash in the audit log before sending it, so a pending
reservation tells its own story: no journalled hash means nothing was signed (release); a hash
the chain knows means it landed (settle, whatever the outcome); a hash the chain has never seen
was never accepted (release). Nothing is ever sent again: the user decides what to do next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from memory.audit import AuditKind, AuditLog
from memory.process_owner import owner_alive
from policies.engine import PolicyEngine
from policies.store import ReservationResolved, ReservationRow
from policies.windows import to_us
from tools.chain import ChainClient
from tools.errors import ToolError

Verdict = Literal["settled", "released", "pending"]
RELEASE_REASON = "reconciled: nothing reached the chain"


@dataclass
class Reconciled:
    reservation_id: str
    tool: str
    verdict: Verdict
    landed: list[str] = field(default_factory=list)  # hashes the chain has, with their status
    failed: list[str] = field(default_factory=list)
    unseen: list[str] = field(default_factory=list)  # never seen, and can no longer land
    maybe: list[str] = field(default_factory=list)  # never seen yet, but still could land

    def describe(self) -> str:
        if self.verdict == "pending":
            return (
                f"{self.tool}: interrupted; {len(self.maybe)} transaction(s) not on chain yet "
                f"but still able to land ({', '.join(self.maybe)}); the budget stays reserved. "
                "Run `near-agent reconcile` again later."
            )
        if not (self.landed or self.failed or self.unseen):
            return f"{self.tool}: interrupted before anything was signed; its budget is released"
        parts = []
        if self.landed:
            parts.append(f"{len(self.landed)} transaction(s) landed ({', '.join(self.landed)})")
        if self.failed:
            parts.append(f"{len(self.failed)} landed but failed ({', '.join(self.failed)})")
        if self.unseen:
            parts.append(f"{len(self.unseen)} never reached the chain")
        verdict = "counted against your budget" if self.verdict == "settled" else "released"
        return (
            f"{self.tool}: interrupted; " + "; ".join(parts) + f"; {verdict}. Nothing was resent."
        )


async def reconcile_pending(
    policy: PolicyEngine,
    audit: AuditLog,
    chain: ChainClient,
    *,
    older_than: timedelta = timedelta(0),
    alive: Callable[[ReservationRow], bool] | None = None,
) -> list[Reconciled]:
    """Resolve pending reservations whose owner process has gone (``alive`` tells; by default
    the owner recorded in the row is looked up among this host's processes)."""
    alive = alive or (lambda row: _owner_alive(policy, row))
    results: list[Reconciled] = []
    for row in policy.pending(older_than):
        if alive(row):
            continue
        journal = audit.entries(kind=AuditKind.TX_SUBMITTED, data_match={"reservation_id": row.id})
        item = Reconciled(row.id, row.tool, "released")
        for entry in journal:
            tx_hash, signer = entry.data["tx_hash"], entry.data.get("signer_id", "")
            outcome = await chain.tx_status(tx_hash, signer)
            if outcome is None and await _can_still_land(chain, entry.data):
                item.maybe.append(tx_hash)
            elif outcome is None:
                item.unseen.append(tx_hash)
            elif outcome.ok:
                item.landed.append(tx_hash)
            else:
                item.failed.append(tx_hash)
        if item.maybe and not (item.landed or item.failed):
            item.verdict = "pending"
            results.append(item)
            continue
        try:
            if item.landed or item.failed:
                item.verdict = "settled"
                policy.settle(row.id, owner=row.owner)
            else:
                policy.release(row.id, RELEASE_REASON, owner=row.owner)
        except ReservationResolved:
            continue  # its owner or another reconcile resolved it meanwhile: nothing to add
        correlation = journal[0].correlation_id if journal else row.id
        audit.append(
            AuditKind.TX_OUTCOME,
            actor="system",
            correlation_id=correlation,
            tool=row.tool,
            status="reconciled",
            data={
                "reservation_id": row.id,
                "verdict": item.verdict,
                "landed": item.landed,
                "failed": item.failed,
                "unseen": item.unseen,
            },
        )
        results.append(item)
    return results


def _owner_alive(policy: PolicyEngine, row: ReservationRow) -> bool:
    """Whether the process recorded as the reservation's owner may still be running."""
    return owner_alive(row.owner, created_us=row.created_us, now_us=to_us(policy.clock()))


async def _can_still_land(chain: ChainClient, journalled: dict) -> bool:
    """An unseen transaction can still execute until its key's nonce reaches the tx's nonce."""
    nonce, key = journalled.get("nonce"), journalled.get("public_key")
    if not isinstance(nonce, int) or not key:
        return False  # journalled before nonces were recorded: treat as the node says
    try:
        current = await chain.access_key_nonce(journalled.get("signer_id", ""), key)
    except ToolError:
        return True  # cannot tell: keep the budget reserved
    return current < nonce
