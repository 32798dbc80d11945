"""Who may read a home: the folder is the owner's alone (0700), its databases too (0600).

Why: a home holds the audit log, grants, contacts and conversation; other users of the machine
have no business reading them. New files are created owner-only (memory.db.connect); this module
finds, and on request tightens, what an older version or another tool (an editor, a copy) left
looser: every file of the home, not only its databases. A folder that is not a home (a
mistyped ``--home``) is never touched.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from agent.home import Home

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def is_agent_home(home: Home) -> bool:
    """The folder holds what near-agent writes (its config or a database): only then are its
    modes this module's business. A mistyped ``--home`` (``/tmp``, a user's own home folder)
    is never changed."""
    paths = (home.config_file, home.audit_db, home.memory_db, home.policy_db, home.jobs_db)
    return any(p.exists() for p in paths)


def private_files(home: Home) -> list[Path]:
    """Every file and folder inside the home (agent.yaml, grants, keys, databases and their
    SQLite side files, history), without descending into linked folders; none for a folder that
    is not a near-agent home."""
    if not is_agent_home(home):
        return []
    found: list[Path] = []
    for folder, dirs, files in os.walk(home.root):
        found += [Path(folder, name) for name in sorted(dirs) + sorted(files)]
    return found


def _loose(path: Path, allowed: int) -> int | None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    return mode if mode & ~allowed & 0o777 else None


def home_problems(home: Home) -> list[str]:
    """What other users could read, in words with the fix; empty when all is owner-only (a
    link counts as what it points to)."""
    problems = []
    mode = _loose(home.root, FOLDER_MODE)
    if mode is not None:
        problems.append(
            f"the home folder {home.root} is mode {mode:04o}: other users can list it; "
            f"fix it with: chmod 700 {home.root}"
        )
    for path in private_files(home):
        if path.is_dir():
            mode = _loose(path, FOLDER_MODE)
            if mode is not None:
                problems.append(
                    f"{path} is mode {mode:04o}: other users can list it; "
                    f"fix it with: chmod 700 {path}"
                )
            continue
        mode = _loose(path, FILE_MODE)
        if mode is not None:
            problems.append(
                f"{path} is mode {mode:04o}: other users can read it; fix it with: chmod 600 {path}"
            )
    return problems


def tighten_home(home: Home) -> None:
    """Make the home's folders 0700 and its files 0600 (those this user owns; a link, and what
    it points to outside the home, are left alone and reported by :func:`home_problems`)."""
    if not is_agent_home(home):
        return
    for path in [home.root, *private_files(home)]:
        if path.is_symlink():
            continue
        allowed = FOLDER_MODE if path.is_dir() else FILE_MODE
        mode = _loose(path, allowed)
        if mode is not None and path.stat().st_uid == os.getuid():
            os.chmod(path, mode & allowed)
