"""Storing a grants file the user wrote: the one way grants enter the policy database.

Called by ``near-agent grants add FILE`` and, once, by ``near-agent init --grants FILE``; both
are the user's own acts. Nothing the agent plans or executes, and nothing that runs at start-up,
reaches this module: a grant the user revoked stays revoked until the user adds it again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from memory.user_files import UnusableFile
from policies.grants import GrantFileError, PolicyFile, load_grants_file
from policies.store import GrantBook
from policies.windows import to_us

LONG_EXPIRY = timedelta(days=365)  # a grant meant to last longer must say so when added
LONG_EXPIRY_FLAG = "--allow-long-expiry"


class GrantsRefused(UnusableFile, ValueError):
    """The file is invalid or a grant in it has already expired; nothing was stored."""


def check_grants_file(
    path: Path,
    now: datetime | None = None,
    *,
    allow_long_expiry: bool = False,
    wrapped_near: frozenset[str] = frozenset(),
) -> PolicyFile:
    """The file's grants, ready to store; GrantsRefused (naming the file and the fix) if not."""
    now = now or datetime.now(UTC)
    try:
        policy = load_grants_file(path, wrapped_near)
    except GrantFileError as exc:
        problems = "\n".join(f"  - {p}" for p in exc.problems)
        raise GrantsRefused(
            exc.source,
            f"not a valid grants file; nothing was stored:\n{problems}",
            "Fix the file, then run `near-agent grants add FILE` again.",
        ) from exc
    past = [g.id for g in policy.grants if g.expires_at <= now]
    if past:
        raise GrantsRefused(
            path,
            f"grant(s) {', '.join(past)} already expired (expires_at must be in the future); "
            "nothing was stored.",
            "Give each grant a future expires_at.",
        )
    far = [g.id for g in policy.grants if g.expires_at > now + LONG_EXPIRY]
    if far and not allow_long_expiry:
        raise GrantsRefused(
            path,
            f"grant(s) {', '.join(far)} expire more than {LONG_EXPIRY.days} days from now; "
            "nothing was stored.",
            f"Give an earlier expires_at, or pass {LONG_EXPIRY_FLAG} if you mean it to last "
            "that long.",
        )
    return policy


def store_grants_file(
    policy_db: Path,
    path: Path,
    now: datetime | None = None,
    *,
    allow_long_expiry: bool = False,
    wrapped_near: frozenset[str] = frozenset(),
) -> list[tuple[str, int, bool]]:
    """(grant id, version, whether a new version was written) for every grant in the file."""
    now = now or datetime.now(UTC)
    policy = check_grants_file(
        path, now, allow_long_expiry=allow_long_expiry, wrapped_near=wrapped_near
    )
    book = GrantBook(policy_db)
    try:
        return book.add(
            {g.id: g.body_json() for g in policy.grants},
            policy.ceiling.model_dump_json() if policy.ceiling else None,
            now_us=to_us(now),
            source=str(path),
        )
    finally:
        book.close()
