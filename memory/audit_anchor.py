"""Anchoring the audit log's head on NEAR, so a rewritten or truncated log can be caught.

A local hash chain proves the log is self-consistent, not that nobody rewrote all of it or cut off
its tail. Publishing ``(head_hash, entries)`` to the notary contract puts a copy of the head where
the agent's own machine cannot change it; ``AuditLog.verify(anchored=notary)`` reads it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class AnchorNotary(Protocol):
    """The on-chain notary (contract methods ``anchor`` and view ``get_anchor``).

    Implementations may also expose ``network`` and ``contract_id`` attributes; they are recorded
    with each anchor.
    """

    def anchor(self, head_hash: str, entries: int) -> str:
        """Publish the head; returns the transaction hash once the transaction is final."""
        ...

    def read_anchor(self, head_hash: str) -> dict[str, Any] | None:
        """``{head_hash, entries, block_height, timestamp_ns}`` as stored on chain, or None."""
        ...


@dataclass(frozen=True)
class Anchor:
    """A published head: the first ``entries`` entries of the log end in ``head_hash``."""

    head_hash: str
    entries: int
    tx_hash: str
    network: str
    contract: str
    ts: str


@dataclass(frozen=True)
class AnchorProblem:
    """Why an anchor does not vouch for the log; ``entry_id`` is the entry it points at."""

    entry_id: int
    reason: str


def check_on_chain(anchor: Anchor, notary: AnchorNotary) -> AnchorProblem | None:
    """Compare one local anchor with what the notary contract holds for its head hash."""
    found = notary.read_anchor(anchor.head_hash)
    if found is None:
        return AnchorProblem(
            anchor.entries,
            f"anchor of entry {anchor.entries} (tx {anchor.tx_hash}) is not on chain "
            f"for head {anchor.head_hash}",
        )
    if found.get("head_hash", anchor.head_hash) != anchor.head_hash:
        return AnchorProblem(
            anchor.entries, f"the chain returned another head for tx {anchor.tx_hash}"
        )
    on_chain = found.get("entries")
    if on_chain is None or int(on_chain) != anchor.entries:
        return AnchorProblem(
            anchor.entries,
            f"head {anchor.head_hash} was anchored on chain at {on_chain} entries, "
            f"but the local record says {anchor.entries}",
        )
    return None
