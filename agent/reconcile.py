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

"Never seen" is only believed from a node that still keeps the time the hash was journalled:
a non-archival node forgets transactions after a few epochs, so the hashes are looked up on the
archival endpoints when agent.yaml names any (rpc.archival_urls), and otherwise a hash older than
the node's history stays pending with a message saying an archival endpoint is needed. An
archival endpoint answers only once it has said it serves this network's chain (its genesis);
when no endpoint of this chain answers, the reservation stays pending, saying why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from memory.audit import AuditEntry, AuditKind, AuditLog
from memory.process_owner import owner_alive
from policies.engine import PolicyEngine
from policies.store import ReservationResolved, ReservationRow
from policies.windows import to_us
from tools.chain import ChainClient
from tools.errors import ToolError, UnknownAccessKeyError, UnknownAccountError

Verdict = Literal["settled", "released", "pending"]
RELEASE_REASON = "reconciled: nothing reached the chain"

NODE_RETENTION_EPOCHS = 3
"""The fewest epochs a non-archival nearcore node keeps transactions for: MIN_GC_NUM_EPOCHS_TO_KEEP
in nearcore's core/chain-configs/src/client_config.rs (the default, DEFAULT_GC_NUM_EPOCHS_TO_KEEP,
is 5, about 2.5 days). The minimum, so that no node's forgetting is read as "never landed"."""
EPOCH_LENGTH_BLOCKS = 43_200  # mainnet and testnet genesis epoch_length
FASTEST_BLOCK_S = 0.5  # below mainnet's block time, so the bound errs towards "cannot tell"
NODE_RETENTION = timedelta(seconds=NODE_RETENTION_EPOCHS * EPOCH_LENGTH_BLOCKS * FASTEST_BLOCK_S)
"""How long any node keeps a transaction, when it does not say (its earliest block) itself."""
CLOCK_MARGIN = timedelta(minutes=10)  # this host's clock against the chain's
NEEDS_ARCHIVAL = (
    "the RPC node does not know them and no longer keeps blocks that old (non-archival nodes "
    "forget transactions after a few epochs), so they may have landed; add an archival endpoint "
    "(rpc.archival_urls in agent.yaml) and run `near-agent reconcile` again"
)


@dataclass
class Reconciled:
    reservation_id: str
    tool: str
    verdict: Verdict
    landed: list[str] = field(default_factory=list)  # hashes the chain has, with their status
    failed: list[str] = field(default_factory=list)
    unseen: list[str] = field(default_factory=list)  # never seen, and can no longer land
    maybe: list[str] = field(default_factory=list)  # never seen yet, but still could land
    forgotten: list[str] = field(default_factory=list)  # unknown to a node that forgot that time
    unanswered: str | None = None  # why the hashes could not be looked up (no endpoint to ask)

    def describe(self) -> str:
        if self.verdict == "pending":
            parts = []
            if self.unanswered:
                parts.append(f"its transactions could not be looked up ({self.unanswered})")
            if self.maybe:
                parts.append(
                    f"{len(self.maybe)} transaction(s) not on chain yet but still able to land "
                    f"({', '.join(self.maybe)})"
                )
            if self.forgotten:
                parts.append(
                    f"{len(self.forgotten)} transaction(s) older than the node's history "
                    f"({', '.join(self.forgotten)}): {NEEDS_ARCHIVAL}"
                )
            return (
                f"{self.tool}: interrupted; " + "; ".join(parts) + "; the budget stays reserved. "
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
        try:
            for entry in journal:
                await _look_up(chain, entry, item)
        except ToolError as exc:
            # no endpoint of this chain answered (one of another chain is never asked): the
            # budget stays reserved, whatever was learned so far
            item.unanswered = exc.message
        if item.unanswered or ((item.maybe or item.forgotten) and not (item.landed or item.failed)):
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


async def _look_up(chain: ChainClient, entry: AuditEntry, item: Reconciled) -> None:
    """Sort one journalled transaction by what the chain (its archival endpoints when there are
    any, each checked to serve this chain before its first answer is believed) says of it."""
    tx_hash, signer = entry.data["tx_hash"], entry.data.get("signer_id", "")
    outcome = await chain.tx_status(tx_hash, signer, archival=True)
    if outcome is None and await _can_still_land(chain, entry.data):
        item.maybe.append(tx_hash)
    elif outcome is None and not await _node_remembers(chain, entry.timestamp):
        item.forgotten.append(tx_hash)
    elif outcome is None:
        item.unseen.append(tx_hash)
    elif outcome.ok:
        item.landed.append(tx_hash)
    else:
        item.failed.append(tx_hash)


def _owner_alive(policy: PolicyEngine, row: ReservationRow) -> bool:
    """Whether the process recorded as the reservation's owner may still be running."""
    return owner_alive(row.owner, created_us=row.created_us, now_us=to_us(policy.clock()))


async def _node_remembers(chain: ChainClient, signed_at: datetime) -> bool:
    """Whether the node that answered "unknown" keeps the time a transaction was signed: an
    archival endpoint always does; another one if its earliest block is older (with a margin for
    clocks), or, when it cannot say, if the transaction is younger than any node keeps."""
    if chain.archival is not None:
        return True
    try:
        start = await chain.history_start()
    except ToolError:
        start = None
    if start is not None:
        return signed_at >= start + CLOCK_MARGIN
    return datetime.now(UTC) - signed_at < NODE_RETENTION - CLOCK_MARGIN


async def _can_still_land(chain: ChainClient, journalled: dict) -> bool:
    """An unseen transaction can still execute until its key's nonce reaches the tx's nonce."""
    nonce, key = journalled.get("nonce"), journalled.get("public_key")
    if not isinstance(nonce, int) or not key:
        return False  # journalled before nonces were recorded: treat as the node says
    try:
        current = await chain.access_key_nonce(journalled.get("signer_id", ""), key)
    except (UnknownAccessKeyError, UnknownAccountError):
        return False  # the key (a removed pool key) or its account is gone: it never can
    except ToolError:
        return True  # cannot tell: keep the budget reserved
    return current < nonce
