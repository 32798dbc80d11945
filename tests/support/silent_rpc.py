"""An RPC endpoint at the edge of the world that accepts connections and never answers.

The kernel completes each TCP handshake into the listening socket's backlog; nothing ever
accepts or reads, so every request sent there waits for an answer that never comes.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def silent_rpc() -> Iterator[str]:
    """The URL of an endpoint that takes connections and never answers (for the block)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        server.bind(("127.0.0.1", 0))
        server.listen(256)
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()
