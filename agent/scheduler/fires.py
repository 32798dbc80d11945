"""After a crash: settle every fire the ledger shows as started, without ever running it again.

A fire is recorded "started" before it acts, and the executor journals each transaction's hash
(audit tx_submitted, status "signed", under the fire's correlation id) before sending it. So a
started fire tells its own story: no journalled hash means nothing was signed ("abandoned");
a hash the chain knows decides "done" or "failed"; a hash the chain never saw was never accepted
("abandoned"). The scheduled time stays in the ledger, so the fire is not repeated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from memory.audit import AuditKind, AuditLog
from memory.jobs import STARTED, FireRow, JobStore


@dataclass(frozen=True)
class Recovered:
    fire: FireRow
    status: str
    note: str


async def recover_started(
    store: JobStore, audit: AuditLog, chain: Any, now: datetime
) -> list[Recovered]:
    """Resolve fires left "started" by a crash; nothing is ever sent again."""
    out: list[Recovered] = []
    for fire in store.fires(status=STARTED):
        journal = audit.entries(kind=AuditKind.TX_SUBMITTED, correlation_id=fire.correlation_id)
        landed, failed, unseen = [], [], []
        for entry in journal:
            tx_hash, signer = entry.data["tx_hash"], entry.data.get("signer_id", "")
            outcome = await chain.tx_status(tx_hash, signer, archival=True)
            if outcome is None:
                unseen.append(tx_hash)
            elif outcome.ok:
                landed.append(tx_hash)
            else:
                failed.append(tx_hash)
        if failed:
            status, note = "failed", f"interrupted; {len(failed)} transaction(s) failed on chain"
        elif landed:
            status, note = "done", f"interrupted after it landed ({', '.join(landed)})"
        elif unseen:
            status, note = "abandoned", "interrupted; signed but never reached the chain"
        else:
            status, note = "abandoned", "interrupted before anything was signed"
        note += "; not run again"
        store.finish_fire(fire.id, status, now, {"recovered": note, "tx_hashes": landed + failed})
        audit.append(
            AuditKind.SCHEDULE_FIRED,
            actor="system",
            correlation_id=fire.correlation_id,
            status=f"recovered_{status}",
            data={
                "strategy_id": fire.strategy_id,
                "fire_id": fire.id,
                "note": note,
                "landed": landed,
                "failed": failed,
                "unseen": unseen,
            },
        )
        out.append(Recovered(fire, status, note))
    return out
