"""Grants the user gives or takes back, stored and written to the audit log in one place.

Only the user's own commands call ``give_grants`` (``grants add FILE``, ``init --grants FILE``);
nothing at start-up does, so a revoked grant stays revoked until the user adds it again.
"""

from __future__ import annotations

from pathlib import Path

from agent.config import AgentConfig
from agent.home import Home
from memory.audit import Actor, AuditKind, AuditLog, new_correlation_id
from policies.store_grants import store_grants_file

_NOTICE_MARK = ".grants_file_ignored"  # in HOME: the notice below was shown once


def give_grants(
    home: Home,
    path: Path,
    audit: AuditLog,
    *,
    allow_long_expiry: bool = False,
    wrapped_near: frozenset[str] = frozenset(),
) -> list[tuple[str, int, bool]]:
    """Store the user's grants file; each new version is audited as ``grant_added``.

    Raises policies.store_grants.GrantsRefused (nothing stored) for an invalid or expired file,
    or one that expires more than a year ahead without ``allow_long_expiry``.
    """
    results = store_grants_file(
        home.policy_db, path, allow_long_expiry=allow_long_expiry, wrapped_near=wrapped_near
    )
    for grant_id, version, written in results:
        if written:
            audit.append(
                AuditKind.GRANT_ADDED,
                actor="user",
                correlation_id=new_correlation_id(),
                data={"grant_id": grant_id, "version": version, "source": str(path)},
            )
    return results


class UnknownGrant(LookupError):
    """Revoking a grant id the grant book does not hold: nothing was revoked."""


def revoke_grants(
    home: Home, grant_id: str | None, reason: str, *, now_us: int, actor: Actor = "user"
) -> list[str]:
    """End one grant (every version so far) or, with ``grant_id`` None, every grant; audited.

    The one way grants are revoked (``grants revoke`` and the console). UnknownGrant when
    ``grant_id`` names no grant (nothing revoked).
    """
    from policies.store import GrantBook

    with AuditLog(home.audit_db) as audit:  # opened first: a damaged log stops all of it
        book = GrantBook(home.policy_db)
        try:
            if grant_id is not None and not book.grants(grant_id):
                raise UnknownGrant(f"No grant {grant_id!r}; nothing was revoked.")
            revoked = book.revoke(grant_id, now_us=now_us, reason=reason)
        finally:
            book.close()
        record_revocation(audit, revoked, reason, actor=actor)
    return revoked


def record_revocation(
    audit: AuditLog, revoked: list[str], reason: str, *, actor: Actor = "user"
) -> None:
    """Audit each revoked grant as ``grant_revoked``."""
    for grant_id in revoked:
        audit.append(
            AuditKind.GRANT_REVOKED,
            actor=actor,
            correlation_id=new_correlation_id(),
            data={"grant_id": grant_id, "reason": reason},
        )


def ignored_grants_file_notice(home: Home, config: AgentConfig) -> str | None:
    """Once per home: agent.yaml still names a ``grants_file``, which is no longer applied.

    Older homes have the line `init` used to write; re-storing that file at every start brought
    revoked grants back, so it is ignored, and the user is told so (and how to apply it).
    """
    if config.grants_file is None:
        return None
    mark = home.root / _NOTICE_MARK
    if mark.exists():
        return None
    mark.write_text("agent.yaml's grants_file is ignored; the user was told once.\n")
    return (
        f"Note: {home.config_file} names grants_file: {config.grants_file}. It is ignored: "
        "grants change only when you run `near-agent grants add FILE` (applying it at every "
        "start brought back grants you had revoked). Your grants are those `near-agent grants "
        "list` shows; to apply that file run `near-agent grants add "
        f"{config.grants_file}`, and delete the grants_file line from agent.yaml. "
        "(Shown once.)"
    )
