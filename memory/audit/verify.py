"""Walking the hash chain: the fast inner loop of ``AuditLog.verify``.

It reads the stored bytes with a plain cursor and hashes them directly (no JSON parsing, no
objects per row), which is what keeps a million-entry verify to a couple of seconds.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass

from memory.audit.canonical import GENESIS_HASH

Checkpoints = dict[int, tuple[str, str]]
"""Entry id -> (hash it must have, what vouches for it: an anchor or a recorded head)."""


@dataclass(frozen=True)
class VerifyReport:
    """The verdict of ``AuditLog.verify``; ``first_bad_id`` names where the chain broke.

    ``count`` is how many entries verified before the break (all of them when ``ok``).
    """

    ok: bool
    count: int
    head_hash: str
    first_bad_id: int | None = None
    reason: str | None = None
    anchors_checked: int = 0


@dataclass(frozen=True)
class Broken:
    entry_id: int
    reason: str


def walk_chain(
    conn: sqlite3.Connection, checkpoints: Checkpoints
) -> tuple[int, str, Broken | None]:
    """Hash every stored entry in id order; stop at the first inconsistency.

    Returns how many entries verified, the last good hash, and what broke (if anything).
    """
    sha256 = hashlib.sha256
    prev = GENESIS_HASH.encode()
    expected = 1
    broken: Broken | None = None
    try:
        cur = conn.execute(
            "SELECT id, CAST(body AS BLOB), CAST(prev_hash AS BLOB), CAST(hash AS BLOB)"
            " FROM entries ORDER BY id"
        )
    except sqlite3.DatabaseError as exc:
        return 0, GENESIS_HASH, Broken(1, f"the entries cannot be read at all: {exc}")
    try:
        for entry_id, body, prev_hash, hash_ in cur:
            if entry_id != expected:
                broken = _out_of_sequence(entry_id, expected)
            elif prev_hash != prev:
                broken = Broken(
                    entry_id,
                    f"entry {entry_id}'s prev_hash does not match entry "
                    f"{expected - 1}'s hash (an entry before it was removed or replaced)",
                )
            elif not body.startswith(b'{"id":%d,' % entry_id):
                broken = Broken(entry_id, f"entry {entry_id}'s contents name another id")
            elif sha256(prev + body).hexdigest().encode() != hash_:
                broken = Broken(
                    entry_id, f"entry {entry_id} was altered: its hash does not match it"
                )
            elif entry_id in checkpoints and checkpoints[entry_id][0].encode() != hash_:
                broken = Broken(
                    entry_id,
                    f"entry {entry_id} does not match {checkpoints[entry_id][1]}: "
                    "the log up to here was rewritten",
                )
            if broken is not None:
                break
            prev = hash_
            expected += 1
    finally:
        cur.close()
    return expected - 1, prev.decode(errors="replace"), broken


def truncation(count: int, checkpoints: Checkpoints) -> Broken | None:
    """A checkpoint beyond the last entry means the tail was cut off."""
    beyond = sorted(p for p in checkpoints if p > count)
    if not beyond:
        return None
    label = checkpoints[beyond[0]][1]
    return Broken(
        count + 1,
        f"the log is truncated: {label} covers {beyond[0]} entries but only {count} remain "
        f"(entry {count + 1} onwards is missing)",
    )


def _out_of_sequence(found: int, expected: int) -> Broken:
    if found > expected:
        return Broken(expected, f"entry {expected} is missing (the next stored entry is {found})")
    return Broken(found, f"entry {found} is out of sequence (expected entry {expected})")
