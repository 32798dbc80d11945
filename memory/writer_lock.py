"""Writers of one database take turns by sleeping on a lock file beside it (``NAME-lock``).

Why: SQLite's writers wait for its write lock by trying again and again. Waiters stay runnable,
take the CPU from the writer that holds the lock (on a machine with fewer cores than writers), and
the lock goes to whichever tries at the right moment, so several processes writing one file (a
scheduler daemon and ``do`` runs of one home) saw long and unfair waits. Waiting in a blocking
``flock(2)`` on a file beside the database instead puts waiters to sleep in the kernel until the
holder is done, and the holder keeps the CPU.

The turn only orders writers; SQLite's lock still guards the data. A process that does not take
the turn (an older release, the ``sqlite3`` shell) is waited for by the busy retry as before, and
a lock file that cannot be used (a read-only folder, a file someone else owns) means writing
without a turn. The kernel releases a flock when its holder dies. A flock belongs to the open
file, so each turn opens its own and threads of one process exclude each other as processes do.
A wait ends at the caller's deadline (the writer then goes on without the turn), and a thread
already holding a turn never waits for another one, so no two writers can wait for each other.
"""

from __future__ import annotations

import fcntl
import os
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

SUFFIX = "-lock"
MODE = 0o600

_held = threading.local()  # how many turns (of any database) this thread holds


def lock_path(db_path: str) -> str:
    """The lock file of a database, beside the file the path finally names."""
    return os.path.realpath(db_path) + SUFFIX


@contextmanager
def writer_turn(path: str | None, deadline: float) -> Iterator[bool]:
    """Hold this database's writer turn (``path`` is its lock file; None: there is none) for the
    block; yields whether the turn is held. Waits asleep until ``deadline`` at most."""
    fd = None if path is None else _take(path, deadline)
    _held.count = getattr(_held, "count", 0) + 1
    try:
        yield fd is not None
    finally:
        _held.count -= 1
        if fd is not None:
            os.close(fd)  # closing the only descriptor of the open file releases its flock


def _open(path: str) -> int | None:
    """A descriptor of the lock file, made owner-only if new; None when it is not ours to use."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, MODE)
    except OSError:
        try:  # an existing file in a read-only folder: a flock needs no write access
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return None
    try:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid():
            return fd
    except OSError:
        pass
    os.close(fd)  # someone else's file could be held forever by them: write without it
    return None


def _take(path: str, deadline: float) -> int | None:
    """The descriptor holding the turn, or None (no usable lock file, or the wait ran out)."""
    fd = _open(path)
    if fd is None:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        pass
    except OSError:  # a file system without flock
        os.close(fd)
        return None
    if getattr(_held, "count", 0):  # holding another turn: waiting could close a circle
        os.close(fd)
        return None
    return fd if _Wait(fd).until(deadline) else None


class _Wait:
    """A blocking flock in a helper thread, so the caller can stop waiting at its deadline.

    Once abandoned, the descriptor is the helper's: it closes it (letting go of the turn if it
    got it late), so the turn is never held for nobody longer than it takes to be granted.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.done = threading.Event()
        self.guard = threading.Lock()
        self.got = self.abandoned = False

    def until(self, deadline: float) -> bool:
        threading.Thread(target=self._wait, name="writer-turn", daemon=True).start()
        self.done.wait(max(0.0, deadline - time.monotonic()))
        with self.guard:
            if not self.got:
                self.abandoned = True
            return self.got

    def _wait(self) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            got = True
        except OSError:
            got = False
        with self.guard:
            if self.abandoned or not got:
                os.close(self.fd)
            else:
                self.got = True
        self.done.set()
