"""Grants the user gives or takes back, stored and written to the audit log in one place."""

from __future__ import annotations

from pathlib import Path

from agent.home import Home
from memory.audit import AuditKind, AuditLog, new_correlation_id
from policies.store_grants import store_grants_file


def give_grants(home: Home, path: Path, audit: AuditLog) -> list[tuple[str, int, bool]]:
    """Store the user's grants file; each new version is audited as ``grant_added``.

    Raises policies.store_grants.GrantsRefused (nothing stored) for an invalid or expired file.
    """
    results = store_grants_file(home.policy_db, path)
    for grant_id, version, written in results:
        if written:
            audit.append(
                AuditKind.GRANT_ADDED,
                actor="user",
                correlation_id=new_correlation_id(),
                data={"grant_id": grant_id, "version": version, "source": str(path)},
            )
    return results


def record_revocation(audit: AuditLog, revoked: list[str], reason: str) -> None:
    """Audit each revoked grant as ``grant_revoked``."""
    for grant_id in revoked:
        audit.append(
            AuditKind.GRANT_REVOKED,
            actor="user",
            correlation_id=new_correlation_id(),
            data={"grant_id": grant_id, "reason": reason},
        )
