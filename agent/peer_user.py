"""Which local user is on the other end of a loopback TCP connection (Linux's /proc/net/tcp).

A loopback server (the console, ``mcp --http``) is reachable by every user of the machine, and
its secret can reach another user: a browser sends the console's cookie to every port of
127.0.0.1, so a page another user serves there receives it. So a connection from this machine
is served only when the process that opened it runs as the server's own user.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))


def _port(field: str) -> int:
    return int(field.rsplit(":", 1)[1], 16)


def peer_uid(client_port: int, server_port: int) -> int | None:
    """The uid owning the client end of a connection from ``client_port`` to ``server_port``
    on this machine; None when the kernel lists no such connection."""
    for table in TABLES:
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 8:
                continue
            if _port(fields[1]) == client_port and _port(fields[2]) == server_port:
                return int(fields[7])
    return None


def can_tell() -> bool:
    """This system lists its connections' owners (Linux)."""
    return TABLES[0].exists()


def foreign_local_peer(client: tuple[str, int] | None, server: tuple[str, int] | None) -> bool:
    """True when the connection comes from this machine but not from this process's user.

    A peer on another machine (``--allow-remote``) has no owner here and is not refused by this
    check; a loopback peer whose owner cannot be found is refused (fail closed)."""
    if client is None or server is None or not can_tell():
        return False
    uid = peer_uid(int(client[1]), int(server[1]))
    if uid is not None:
        # root can read this user's files and memory anyway (and relays such as WSL's
        # localhost forwarding run as root): only another ordinary user is refused
        return uid not in (os.geteuid(), 0)
    return _is_loopback(client[0])


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback
