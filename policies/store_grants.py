"""Storing a grants file the user wrote: the one way grants enter the policy database.

Called by ``near-agent grants add FILE`` and for the grants file agent.yaml names. Nothing the
agent plans or executes reaches this module.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from memory.policy_store import GrantBook
from policies.grants import GrantFileError, load_grants_file
from policies.windows import to_us


class GrantsRefused(ValueError):
    """The file is invalid or a grant in it has already expired; nothing was stored."""


def store_grants_file(
    policy_db: Path, path: Path, now: datetime | None = None
) -> list[tuple[str, int, bool]]:
    """(grant id, version, whether a new version was written) for every grant in the file."""
    now = now or datetime.now(UTC)
    try:
        policy = load_grants_file(path)
    except GrantFileError as exc:
        problems = "\n".join(f"  - {p}" for p in exc.problems)
        raise GrantsRefused(
            f"{exc.source} is not a valid grants file; nothing was stored:\n{problems}"
        ) from exc
    past = [g.id for g in policy.grants if g.expires_at <= now]
    if past:
        raise GrantsRefused(
            f"{path}: grant(s) {', '.join(past)} already expired (expires_at must be in the "
            "future); nothing was stored."
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
