"""Provenance of submitted labels: which content went into which task item, in which tx.

NEAR Tasks labels become training data; recording the sha256 of each submitted label with its
transaction lets anyone later trace a data point back to the submission and the chain.
"""

from __future__ import annotations

import hashlib

from memory.audit.log import Actor, AuditEntry, AuditKind, AuditLog


def label_content_hash(label: str) -> str:
    """sha256 hex of the label's UTF-8 bytes (what is recorded, never the label itself)."""
    return hashlib.sha256(label.encode("utf-8")).hexdigest()


def record_label(
    log: AuditLog,
    *,
    task_id: str | int,
    item_id: str | int | None,
    label: str,
    tx_hash: str,
    actor: Actor,
    correlation_id: str,
    status: str = "submitted",
) -> AuditEntry:
    """Append a ``label_submitted`` entry with the label's content hash and its tx hash."""
    return log.append(
        AuditKind.LABEL_SUBMITTED,
        actor=actor,
        correlation_id=correlation_id,
        tool="submit_label",
        status=status,
        data={
            "task_id": str(task_id),
            "item_id": None if item_id is None else str(item_id),
            "content_hash": label_content_hash(label),
            "tx_hash": tx_hash,
        },
    )


def trace_label(
    log: AuditLog,
    *,
    content_hash: str | None = None,
    label: str | None = None,
    task_id: str | int | None = None,
    item_id: str | int | None = None,
    tx_hash: str | None = None,
) -> list[AuditEntry]:
    """Submissions matching every given key (pass the label itself or its content hash)."""
    match: dict[str, str | int] = {}
    if label is not None:
        match["content_hash"] = label_content_hash(label)
    if content_hash is not None:
        match["content_hash"] = content_hash.lower()
    if task_id is not None:
        match["task_id"] = str(task_id)
    if item_id is not None:
        match["item_id"] = str(item_id)
    if tx_hash is not None:
        match["tx_hash"] = tx_hash
    return log.entries(kind=AuditKind.LABEL_SUBMITTED, data_match=match)
