"""The audit log and what reads it: one package, so the log's parts sit together.

``memory.audit`` names the log itself (``AuditLog``, ``AuditKind``, ...); the parts live in
``log`` (the chain), ``canonical`` (the hashed bytes), ``verify``, ``anchor`` (onchain anchors),
``labels``, ``story`` and ``export`` (what the CLI shows).
"""

from memory.audit.log import (
    MAX_ENTRY_BYTES,
    Actor,
    AuditDraft,
    AuditEntry,
    AuditKind,
    AuditLog,
    AuditPayloadError,
    AuditReadError,
    Head,
    PreparedDraft,
    new_correlation_id,
    prepare_draft,
)
from memory.audit.verify import VerifyReport

__all__ = [
    "MAX_ENTRY_BYTES",
    "Actor",
    "AuditDraft",
    "AuditEntry",
    "AuditKind",
    "AuditLog",
    "AuditPayloadError",
    "AuditReadError",
    "Head",
    "PreparedDraft",
    "VerifyReport",
    "new_correlation_id",
    "prepare_draft",
]
