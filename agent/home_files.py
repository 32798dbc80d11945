"""Who may read a home: the folder is the owner's alone (0700), its databases too (0600).

Why: a home holds the audit log, grants, contacts and conversation; other users of the machine
have no business reading them. New files are created owner-only (memory.db.connect); this module
finds, and on request tightens, what an older version or another tool left looser.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from agent.home import Home

FOLDER_MODE = 0o700
FILE_MODE = 0o600
_SQLITE_SIDE = ("-wal", "-shm", "-journal")


def private_files(home: Home) -> list[Path]:
    """The home's databases and their SQLite side files that exist."""
    found = []
    for db in sorted(home.root.glob("*.db")):
        found.append(db)
        found += [side for s in _SQLITE_SIDE if (side := Path(f"{db}{s}")).exists()]
    return found


def _loose(path: Path, allowed: int) -> int | None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    return mode if mode & ~allowed & 0o777 else None


def home_problems(home: Home) -> list[str]:
    """What other users could read, in words with the fix; empty when all is owner-only."""
    problems = []
    mode = _loose(home.root, FOLDER_MODE)
    if mode is not None:
        problems.append(
            f"the home folder {home.root} is mode {mode:04o}: other users can list it; "
            f"fix it with: chmod 700 {home.root}"
        )
    for path in private_files(home):
        mode = _loose(path, FILE_MODE)
        if mode is not None:
            problems.append(
                f"{path} is mode {mode:04o}: other users can read it; fix it with: chmod 600 {path}"
            )
    return problems


def tighten_home(home: Home) -> None:
    """Make the home folder 0700 and its databases 0600 (the files this user owns)."""
    for path, allowed in [(home.root, FOLDER_MODE)] + [(p, FILE_MODE) for p in private_files(home)]:
        mode = _loose(path, allowed)
        if mode is not None and path.stat().st_uid == os.getuid():
            os.chmod(path, mode & allowed)
