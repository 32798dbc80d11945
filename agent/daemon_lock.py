"""One scheduler daemon per home: HOME/daemon.lock, held with ``fcntl.flock`` while it runs.

Why a lock rather than a pid file alone: a pid file outlives a crash and its pid may be reused by
another process; an flock is released by the kernel when the holder dies, so "is it locked" is
the truth about whether a daemon runs. The file holds the holder's pid, for people and ``status``.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_NAME = "daemon.lock"


class DaemonRunning(Exception):
    """Another daemon holds this home's lock; ``pid`` is the one it wrote (None if unreadable)."""

    def __init__(self, path: Path, pid: int | None) -> None:
        who = f"pid {pid}" if pid is not None else "another process"
        super().__init__(f"a daemon already runs for this home ({who}, lock {path})")
        self.path = path
        self.pid = pid


def lock_path(home_root: Path) -> Path:
    return Path(home_root) / LOCK_NAME


def _written_pid(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def daemon_pid(home_root: Path) -> int | None:
    """The pid of the daemon running for this home, or None when none holds its lock (0: one
    holds it but has not written its pid yet).

    Reads only: never creates the lock file (or the home)."""
    path = lock_path(home_root)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _written_pid(path) or 0  # held; 0 while the holder has not written its pid
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


class DaemonLock:
    """Held by the running daemon: ``acquire`` raises DaemonRunning when another holds it."""

    def __init__(self, home_root: Path) -> None:
        self.path = lock_path(home_root)
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DaemonRunning(self.path, _written_pid(self.path)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DaemonLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
