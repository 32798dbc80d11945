"""A cross-process barrier for separate agent processes (see tools/failpoints.py, waitpoints).

Each process held at the waitpoint connects here and blocks; once all N have arrived the test
releases them together, so they reach the next step at the same moment. No sleeps.
"""

from __future__ import annotations

import socket
from types import TracebackType

from tools.failpoints import WAIT_ENV


class Gate:
    """Listens on 127.0.0.1; ``env(point)`` is what a process needs to wait at ``point``."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self._waiting: list[socket.socket] = []

    def env(self, point: str) -> dict[str, str]:
        host, port = self._server.getsockname()[:2]
        return {WAIT_ENV: f"{point}@{host}:{port}"}

    def wait_for(self, parties: int, timeout_s: float = 120.0) -> None:
        """Block until ``parties`` processes are held at the point (TimeoutError otherwise)."""
        self._server.settimeout(timeout_s)
        while len(self._waiting) < parties:
            conn, _ = self._server.accept()
            self._waiting.append(conn)

    def release(self) -> None:
        """Let every held process go on (all at once)."""
        for conn in self._waiting:
            conn.sendall(b"g")
        for conn in self._waiting:
            conn.close()
        self._waiting.clear()

    def close(self) -> None:
        self.release()
        self._server.close()

    def __enter__(self) -> Gate:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
