"""Writers of one database take turns, first come first served, asleep on a lock file beside it
(``NAME-lock``).

Why: SQLite's writers wait for its write lock by trying again and again. Waiters stay runnable,
take the CPU from the writer that holds the lock (on a machine with fewer cores than writers), and
the lock goes to whichever tries at the right moment, so several processes writing one file (a
scheduler daemon and ``do`` runs of one home) saw long and unfair waits. A plain ``flock`` would
put waiters to sleep but still let whichever runs first win, so one writer could lose its turn
many times in a row.

How: a writer draws a ticket (a counter at the start of the file, read and advanced under a lock
held for three system calls), marks its place by locking the byte of the file that is its
ticket's, and sleeps in a blocking lock on the byte of the ticket before it, which the kernel
grants when the writer ahead closes its file. The locks are Linux's open file description locks:
they belong to the open file, so threads of one process queue like processes do, and the kernel
drops them when their holder closes the file or dies.

The turn only orders writers; SQLite's lock still guards the data. A process that takes no turn
(an older release, the ``sqlite3`` shell) is waited for by the busy retry as before; a lock file
that cannot be used (a read-only folder, a link, a file someone else owns) or a system without
these locks means writing without a turn; a writer that dies in the queue lets the one behind it
go early, which then waits for SQLite's lock. A wait ends at the caller's deadline (the writer then
goes on without a turn; its place is given up once the writer ahead is done), and a thread that
holds a turn never waits for another one, so no two writers can wait for each other.
"""

from __future__ import annotations

import fcntl
import os
import stat
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

SUFFIX = "-lock"
MODE = 0o600

_FLOCK = "hhqqixxxx"  # struct flock on 64-bit Linux: type, whence, start, len, pid (0), padding
_SUPPORTED = (
    sys.platform == "linux" and hasattr(fcntl, "F_OFD_SETLKW") and struct.calcsize("P") == 8
)
_COUNTER = (0, 8)  # the next ticket, little-endian
_PLACES = 1 << 20  # the byte of ticket t is _PLACES + t % _RING
_RING = 1 << 40
_DRAW_PAUSE_S = 0.0001

_held = threading.local()  # how many turns (of any database) this thread holds
_open_turns: set[int] = set()  # descriptors a forked child must not keep (it would hold the turn)
_fork_guard: list[bool] = []


def lock_path(db_path: str) -> str:
    """The lock file of a database, beside the file the path finally names."""
    return os.path.realpath(db_path) + SUFFIX


@contextmanager
def writer_turn(path: str | None, deadline: float) -> Iterator[bool]:
    """Hold this database's writer turn (``path`` is its lock file; None: there is none) for the
    block; yields whether the turn is held. Waits asleep until ``deadline`` at most."""
    fd = _take(path, deadline) if path is not None and _SUPPORTED else None
    _held.count = getattr(_held, "count", 0) + 1
    try:
        yield fd is not None
    finally:
        _held.count -= 1
        if fd is not None:
            _close(fd)  # lets the writer behind go


def _take(path: str, deadline: float) -> int | None:
    """The descriptor holding the turn, or None (no usable lock file, or the wait ran out)."""
    fd = _open(path)
    if fd is None:
        return None
    try:
        ahead = _place(_draw(fd, deadline) - 1)
    except OSError:  # the counter stayed busy past the deadline, or a file system without locks
        _close(fd)
        return None
    try:
        _lock(fd, fcntl.F_RDLCK, ahead)  # granted at once: the writer ahead is done
        return fd
    except BlockingIOError:
        pass
    except OSError:
        _close(fd)
        return None
    if getattr(_held, "count", 0):  # holding another turn: waiting could close a circle
        _close(fd)
        return None
    wait = _Wait(fd, lambda: _lock(fd, fcntl.F_RDLCK, ahead, wait=True))
    return fd if wait.until(deadline) else None


def _open(path: str) -> int | None:
    """A descriptor of the lock file, made owner-only if new; None when it is not ours to use."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, MODE)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid():
            _keep_from_children(fd)
            return fd
    except OSError:
        pass
    os.close(fd)  # someone else's file: they could hold it forever
    return None


def _draw(fd: int, deadline: float) -> int:
    """A ticket, with its place already locked, so the writer drawing the next one queues
    behind it. The counter's lock is held for three system calls, so it is waited for in short
    pauses rather than by a thread that could outlive the deadline."""
    while True:
        try:
            _lock(fd, fcntl.F_WRLCK, *_COUNTER)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(_DRAW_PAUSE_S)
    try:
        ticket = int.from_bytes(os.pread(fd, 8, 0).ljust(8, b"\0")[:8], "little") % _RING
        os.pwrite(fd, ((ticket + 1) % _RING).to_bytes(8, "little"), 0)
        _lock(fd, fcntl.F_WRLCK, _place(ticket))
    finally:
        _lock(fd, fcntl.F_UNLCK, *_COUNTER)
    return ticket


def _place(ticket: int) -> int:
    return _PLACES + ticket % _RING


def _lock(fd: int, kind: int, start: int, length: int = 1, *, wait: bool = False) -> None:
    command = fcntl.F_OFD_SETLKW if wait else fcntl.F_OFD_SETLK
    fcntl.fcntl(fd, command, struct.pack(_FLOCK, kind, os.SEEK_SET, start, length, 0))


def _close(fd: int) -> None:
    _open_turns.discard(fd)
    os.close(fd)  # drops every lock of this open file


def _keep_from_children(fd: int) -> None:
    """A forked child shares the open file and so its locks: it closes its copies at once."""
    _open_turns.add(fd)
    if not _fork_guard:
        _fork_guard.append(True)
        os.register_at_fork(after_in_child=_forget_in_child)


def _forget_in_child() -> None:
    for fd in list(_open_turns):
        with suppress(OSError):
            os.close(fd)
    _open_turns.clear()


class _Wait:
    """A blocking lock taken in a helper thread, so the caller can stop waiting at its deadline.

    Once abandoned, the descriptor is the helper's: it closes it as soon as its lock is granted
    (letting the writer behind go), so a place is never held for nobody longer than the writers
    ahead of it take.
    """

    def __init__(self, fd: int, lock: Callable[[], None]) -> None:
        self.fd, self.lock = fd, lock
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
            self.lock()
            got = True
        except OSError:
            got = False
        with self.guard:
            if self.abandoned or not got:
                _close(self.fd)
            else:
                self.got = True
        self.done.set()
