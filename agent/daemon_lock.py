"""One daemon per home: an ``fcntl.flock`` on HOME/daemon.lock, held while the daemon runs.

The lock file holds the running daemon's pid (and its modification time says since when). The
kernel drops the lock when the process ends, however it ends, so a crashed daemon never leaves a
stale lock: a file whose lock can be taken belongs to no running daemon.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from agent.home import Home

LOCK_NAME = "daemon.lock"


class DaemonRunning(Exception):
    """Another daemon holds this home's lock."""

    def __init__(self, pid: int | None) -> None:
        who = f"pid {pid}" if pid else "another process"
        super().__init__(f"a daemon already runs for this home ({who})")
        self.pid = pid


def lock_path(home: Home) -> Path:
    return home.root / LOCK_NAME


def _read_pid(fd: int) -> int | None:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 64).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


def daemon_pid(home: Home) -> int | None:
    """The pid of the daemon running for ``home``, None when none runs (creates nothing)."""
    path = lock_path(home)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(fd) or None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def daemon_since(home: Home) -> datetime | None:
    """When the running daemon took the lock (None when none runs)."""
    if daemon_pid(home) is None:
        return None
    with contextlib.suppress(FileNotFoundError):
        return datetime.fromtimestamp(lock_path(home).stat().st_mtime, UTC)
    return None


@contextlib.contextmanager
def hold_daemon_lock(home: Home) -> Iterator[None]:
    """Hold the home's daemon lock for the block; DaemonRunning if another daemon has it."""
    home.root.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(home), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DaemonRunning(_read_pid(fd)) from None
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        os.fsync(fd)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)  # a clean exit leaves no pid behind
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
