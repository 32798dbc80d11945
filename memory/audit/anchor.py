"""Anchoring the audit log's head on NEAR, so a rewritten or truncated log can be caught.

A local hash chain proves the log is self-consistent, not that nobody rewrote all of it or cut off
its tail. Publishing ``(head_hash, entries)`` to the notary contract puts a copy of the head where
the agent's own machine cannot change it; ``AuditLog.verify(anchored=notary)`` reads every anchor
of the account back from the chain (never from the local ``anchors`` table, which is only a cache
an attacker can edit or empty) and requires each head at its position in the local chain.

The notary is near-agent's own contract: it exists on the devnet, and on testnet or mainnet only
where the user deployed one and named it (agent.yaml ``contracts.notary``). Elsewhere anchoring
is refused before anything is read, signed or recorded, saying so (``agent/cli_audit.py``).
Anchoring through a contract that already runs on mainnet (NEAR Social's key-value store) would
be another ``AnchorNotary``; it is not built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class AnchorNotary(Protocol):
    """The on-chain notary (contract method ``anchor``; views ``get_anchor``, ``get_anchor_count``
    and ``get_anchors``).

    Implementations may also expose ``network``, ``contract_id`` and ``account_id`` attributes;
    they are recorded with each anchor, and name whose anchors ``audit verify`` read.
    """

    def anchor(self, head_hash: str, entries: int) -> str:
        """Publish the head; returns the transaction hash once the transaction is final."""
        ...

    def read_anchor(self, head_hash: str) -> dict[str, Any] | None:
        """``{head_hash, entries, block_height, timestamp_ns}`` as stored on chain, or None."""
        ...

    def read_anchors(self) -> list[dict[str, Any]]:
        """Every anchor this account published, oldest first, as stored on chain."""
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


@dataclass(frozen=True)
class ChainAnchor:
    """An anchor as the chain holds it: the ``index``-th (from 1) this account published."""

    index: int
    head_hash: str
    entries: int
    block_height: int | None
    account: str = ""  # who published it, when several accounts' anchors are read together

    def describe(self, total: int) -> str:
        block = f", block {self.block_height}" if self.block_height is not None else ""
        by = f" by {self.account}" if self.account else ""
        return f"anchor {self.index} of {total} on chain{by} (head {self.head_hash}{block})"


def chain_anchors(notary: AnchorNotary) -> list[ChainAnchor]:
    """The account's anchors read from the chain; ValueError when the chain returns nonsense."""
    out = []
    for index, raw in enumerate(notary.read_anchors(), start=1):
        try:
            head_hash, entries = str(raw["head_hash"]), int(raw["entries"])
            height = raw.get("block_height")
            block = None if height is None else int(height)
            account = str(raw.get("account_id") or "")
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"anchor {index} read from chain is malformed: {raw!r}") from exc
        if entries < 1:
            raise ValueError(f"anchor {index} read from chain covers {entries} entries")
        out.append(ChainAnchor(index, head_hash.lower(), entries, block, account))
    return out


class AccountsNotary:
    """The anchors of several accounts (each on its own notary) read as one account's.

    ``audit verify --anchored`` checks every account that ever anchored the log: each of their
    anchors must be in the local log at its position, and a local anchor must be on chain under
    one of them. Reading only: it publishes nothing.
    """

    def __init__(self, notaries: Sequence[AnchorNotary]) -> None:
        self.notaries = tuple(notaries)

    def anchor(self, head_hash: str, entries: int) -> str:
        raise TypeError("anchors are published by one account's notary, not by several")

    def read_anchor(self, head_hash: str) -> dict[str, Any] | None:
        for notary in self.notaries:
            found = notary.read_anchor(head_hash)
            if found is not None:
                return found
        return None

    def read_anchors(self) -> list[dict[str, Any]]:
        out = []
        for notary in self.notaries:
            account = str(getattr(notary, "account_id", "") or "")
            out += [{"account_id": account, **raw} for raw in notary.read_anchors()]
        return out


def check_in_log(
    anchor: ChainAnchor, total: int, count: int, hash_at: dict[int, str]
) -> AnchorProblem | None:
    """Is the chain's anchor in the local log at its position? ``hash_at``: entry id -> hash.

    ``count`` is how many local entries verified; an anchor beyond them means the log was
    emptied or cut off, another hash at its position means the log was rewritten.
    """
    name = anchor.describe(total)
    if anchor.entries > count:
        return AnchorProblem(
            min(count + 1, anchor.entries),
            f"{name} covers {anchor.entries} entries, but the local log has only {count}: "
            f"entries {count + 1}..{anchor.entries} are missing (the log was emptied or cut off)",
        )
    if hash_at.get(anchor.entries) != anchor.head_hash:
        return AnchorProblem(
            anchor.entries,
            f"{name} is not in the local log at its position: head anchored on chain at "
            f"{anchor.entries} entries, but entry {anchor.entries} has another hash "
            "(the log up to here was rewritten)",
        )
    return None
