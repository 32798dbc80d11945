"""Who holds a reservation: a process named so that a reused pid is never taken for its owner.

A pid alone is not an identity: once its process dies the kernel hands the number to another one,
and a pid only means something inside the pid namespace that numbered it. An owner is
(pid, start, host):

- ``start`` is the process's start as the kernel reports it (Linux: the boot id and the
  ``starttime`` field of /proc/<pid>/stat; elsewhere ``ps -o lstart=``), so a process that reuses
  the pid, after a restart or a reboot, has another start and is not the owner;
- ``host`` names where the pid can be looked up: the hostname, the machine (/etc/machine-id, else
  /var/lib/dbus/machine-id, else the boot id) and the pid namespace (the inode of
  /proc/self/ns/pid), joined by ``/`` (which no hostname contains).

The rule: an owner whose ``host`` is ours is looked up among our processes. Any other ``host`` is
foreign (another machine that shares the hostname and the home over a network file system, or a
container sharing the home and the hostname in its own pid namespace): its pids cannot be seen
from here, so it is presumed alive until FOREIGN_OWNER_BOUND_US. A row written before ``host``
named the namespace holds a plain hostname; it is treated as before: our hostname means here.
"""

from __future__ import annotations

import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

FOREIGN_OWNER_BOUND_US = 24 * 3600 * 1_000_000
"""How long a reservation owned on another host is presumed alive. A day: far longer than any run
takes (a NEAR transaction expires about a day after the block it names), so only a host that
died for good leaves one behind that long."""

_PROC = Path("/proc")
_MACHINE_ID_FILES = (
    Path("/etc/machine-id"),
    Path("/var/lib/dbus/machine-id"),
    _PROC / "sys/kernel/random/boot_id",  # no machine id: this boot stands in for the machine
)
HOST_SEPARATOR = "/"


@dataclass(frozen=True)
class ProcessOwner:
    pid: int
    start: str | None  # None: this platform could not tell when the process started
    host: str


_current: ProcessOwner | None = None


def current_owner() -> ProcessOwner:
    """This process (computed once per process; a forked child computes its own)."""
    global _current
    if _current is None or _current.pid != os.getpid():
        pid = os.getpid()
        _current = ProcessOwner(pid, process_start(pid), host_identity())
    return _current


def host_identity() -> str:
    """Where this process's pid means something: hostname/machine/pid namespace (see above)."""
    machine = _first_line(_MACHINE_ID_FILES)
    try:
        namespace = os.readlink(_PROC / "self/ns/pid")  # e.g. "pid:[4026531836]"
    except OSError:
        namespace = ""  # no /proc (macOS, BSD): the machine alone
    return HOST_SEPARATOR.join((socket.gethostname(), machine, namespace))


def _is_here(host: str) -> bool:
    """Whether pids recorded with ``host`` are this process's to look up."""
    if HOST_SEPARATOR not in host:  # written before hosts named their namespace
        return host == socket.gethostname()
    return host == current_owner().host


def _first_line(paths: tuple[Path, ...]) -> str:
    for path in paths:
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text:
            return text
    return ""


def process_start(pid: int) -> str | None:
    """When the process ``pid`` started, as an opaque text; None if it cannot be told."""
    if _PROC.is_dir():
        stat = _linux_stat(pid)
        return None if stat is None else stat[1]
    try:
        found = subprocess.run(
            ["ps", "-o", "lstart=", "-p", str(pid)], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return found.stdout.strip() or None


def owner_alive(owner: ProcessOwner | None, *, created_us: int, now_us: int) -> bool:
    """Whether the owner of a reservation made at ``created_us`` may still be running.

    The rule, in order:
    - no owner (made before owners were recorded, or let go by its owner when its step ended
      unresolved): not alive, resolvable;
    - a foreign host (another machine or pid namespace, see the module's rule): alive, since its
      processes cannot be seen from here, until the reservation is older than
      FOREIGN_OWNER_BOUND_US;
    - here: alive when the pid exists, is not a zombie, and started when the recorded owner
      did. If either start time is unknown, the pid's existence decides: a process that may be
      the owner is never taken for dead.
    """
    if owner is None:
        return False
    if not _is_here(owner.host):
        return now_us - created_us < FOREIGN_OWNER_BOUND_US
    if not _pid_exists(owner.pid):
        return False
    if _PROC.is_dir():
        stat = _linux_stat(owner.pid)
        if stat is not None and stat[0] in ("Z", "X"):
            return False  # killed, not yet reaped by its parent
        start = None if stat is None else stat[1]
    else:
        start = process_start(owner.pid)
    return owner.start is None or start is None or start == owner.start


def _pid_exists(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def _linux_stat(pid: int) -> tuple[str, str] | None:
    """(state, start) from /proc: start is the boot id and the start in clock ticks since boot."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()  # the name in parentheses may hold spaces
    if len(fields) < 20:
        return None
    try:
        boot = (_PROC / "sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot = ""
    return fields[0], f"{boot}/{fields[19]}"
