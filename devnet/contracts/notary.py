"""Anchors of audit-log head hashes, recorded per account with the block that saw them.

An anchor proves that an account's audit log had a given head hash (covering ``entries``
entries) no later than the block it was recorded in: rewriting the log afterwards cannot change
what the chain holds. Anchoring the same hash again is idempotent, so a retried transaction never
creates a second record.
"""

from __future__ import annotations

import re
from typing import Any

from devnet.contract import Context, Contract, call, ensure, view
from devnet.contracts.common import DESERIALIZE_ERROR, get, page, u64

STANDARD = "near-agent-notary"
VERSION = "1.0.0"
MAX_NOTE = 256
_HEX64 = re.compile(r"[0-9a-f]{64}")


def _list_key(account: str) -> str:
    return f"anchors:{account}"


def _hash_key(account: str, head_hash: str) -> str:
    return f"anchor:{account}:{head_hash}"


class Notary(Contract):
    """Records ``{head_hash, entries, block_height, timestamp_ns, note}`` under the caller."""

    code_name = "notary"

    @call
    def anchor(
        self, ctx: Context, head_hash: str, entries: int, note: str | None = None
    ) -> dict[str, Any]:
        """Record ``head_hash`` for the caller; returns the (possibly earlier) record."""
        ensure(isinstance(head_hash, str), DESERIALIZE_ERROR)
        digest = head_hash.lower()
        ensure(_HEX64.fullmatch(digest) is not None, "head_hash must be 64 hexadecimal characters")
        count = u64(entries)
        ensure(note is None or isinstance(note, str), DESERIALIZE_ERROR)
        ensure(note is None or len(note) <= MAX_NOTE, f"note is longer than {MAX_NOTE} characters")
        account = ctx.predecessor_account_id
        existing = ctx.storage.get(_hash_key(account, digest))
        if existing is not None:
            record = ctx.storage[_list_key(account)][existing]
            ensure(
                record["entries"] == count,
                f"head_hash {digest} is already anchored with {record['entries']} entries",
            )
            return dict(record)
        anchors = get(ctx.storage, _list_key(account), [])
        record = {
            "head_hash": digest,
            "entries": count,
            "block_height": ctx.block_height,
            "timestamp_ns": ctx.block_timestamp,
            "note": note,
        }
        ctx.storage[_hash_key(account, digest)] = len(anchors)
        anchors.append(record)
        ctx.storage[_list_key(account)] = anchors
        ctx.emit_event(
            STANDARD,
            VERSION,
            "anchored",
            [{"account_id": account, "head_hash": digest, "entries": count}],
        )
        return dict(record)

    @view
    def get_anchor(self, ctx: Context, account_id: str, head_hash: str) -> dict[str, Any] | None:
        ensure(isinstance(head_hash, str), DESERIALIZE_ERROR)
        index = ctx.storage.get(_hash_key(account_id, head_hash.lower()))
        return None if index is None else dict(ctx.storage[_list_key(account_id)][index])

    @view
    def get_anchors(
        self, ctx: Context, account_id: str, from_index: int | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """The account's anchors, oldest first."""
        return page(get(ctx.storage, _list_key(account_id), []), from_index, limit)

    @view
    def get_latest_anchor(self, ctx: Context, account_id: str) -> dict[str, Any] | None:
        anchors = ctx.storage.get(_list_key(account_id), [])
        return dict(anchors[-1]) if anchors else None

    @view
    def get_anchor_count(self, ctx: Context, account_id: str) -> int:
        return len(ctx.storage.get(_list_key(account_id), []))
