"""A cross-process barrier for separate agent processes (see tools/failpoints.py, waitpoints).

Each process held at the waitpoint connects here and blocks; once all N have arrived the test
releases them together, so they reach the next step at the same moment. No sleeps.
"""

from __future__ import annotations

import socket
import subprocess
from types import TracebackType

from devnet.server import RunningDevnet
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


def release_together(
    gate: Gate,
    processes: list[subprocess.Popen[str]],
    devnet: RunningDevnet,
    *,
    latency_s: float,
    timeout_s: float = 60.0,
) -> list[tuple[str, str]]:
    """Once every process waits at ``gate``, let them go on together while the node answers
    sends slowly (so their sends overlap, as on a node waiting for finality); each one's
    (stdout, stderr). A process still running at the end is killed."""
    try:
        gate.wait_for(len(processes))
        devnet.faults.latency(latency_s, methods=["send_tx"], probability=1.0)
        gate.release()
        return [process.communicate(timeout=timeout_s) for process in processes]
    finally:
        devnet.faults.clear()
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
