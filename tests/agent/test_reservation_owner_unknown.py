"""A step whose transaction's fate is unknown does not keep its budget hostage to its process.

The executor could not learn what became of a transaction it sent (the node applied it, then
every answer about it was lost). A long-lived process (the daemon; an open chat) would hold such
a reservation as long as it runs, and no reconcile would touch it. The executor lets go of it
instead, so a separate `near-agent reconcile`, run while that process is still alive, resolves it
from the journal and the chain.
"""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from devnet.server import RunningDevnet
from memory.audit import AuditLog
from tests.agent.agent_runs import near_agent
from tests.scheduler.devnet_home import make_home
from tests.support.chain_reads import usdc_and_nonce

DCA = {"id": "dca", "kind": "dca", "sell": "NEAR", "buy": "USDC", "amount": "1", "every": "1h"}
# every answer about a sent transaction is lost, after the node applied it
LOST = ["send_tx", "broadcast_tx_commit", "tx"]


class Lines:
    """The daemon's stdout, line by line, read on a thread so the test can wait for one."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.seen: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        assert proc.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(proc.stdout,), daemon=True)
        self._reader.start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self._lines.put(line)
        self._lines.put(None)

    def wait_for(self, needle: str, timeout_s: float = 120.0) -> str:
        while True:
            line = self._lines.get(timeout=timeout_s)
            if line is None:
                raise AssertionError(f"ended before {needle!r}: {''.join(self.seen)}")
            self.seen.append(line)
            if needle in line:
                return line


def _statuses(home_root: Path) -> list[str]:
    with sqlite3.connect(home_root / "policy.db") as conn:
        return [r[0] for r in conn.execute("SELECT status FROM reservations ORDER BY created_us")]


@pytest.mark.slow
def test_reconcile_resolves_a_live_daemons_unknown_outcome(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    home = make_home(tmp_path / "home", fresh_devnet.state_dir / "manifest.json", strategies=[DCA])
    usdc_before, nonce_before = usdc_and_nonce(fresh_devnet)
    fresh_devnet.faults.lose_response(probability=1.0, methods=LOST)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "agent", "--home", str(home.root), "daemon", "--tick", "0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},  # each line as it is said
    )
    try:
        lines = Lines(daemon)
        fired = lines.wait_for(" dca: ")
        fresh_devnet.faults.clear()
        assert "dca: unknown" in fired, fired
        assert "near-agent reconcile" in fired  # the user is told what resolves it
        usdc_mid, nonce_mid = usdc_and_nonce(fresh_devnet)
        # the swap's one transaction (wrap, then swap, to wrap.near) landed; its answers were lost
        assert nonce_mid == nonce_before + 1 and usdc_mid > usdc_before
        assert _statuses(home.root) == ["pending"]

        reconciled = near_agent(home, "reconcile")  # the daemon is alive and stays so
        assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr
        assert "1 transaction(s) landed" in reconciled.stdout, reconciled.stdout
        assert "counted against your budget" in reconciled.stdout
        assert _statuses(home.root) == ["settled"]
        assert daemon.poll() is None
        again = near_agent(home, "reconcile")
        assert "Nothing to recover." in again.stdout, again.stdout
    finally:
        fresh_devnet.faults.clear()
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, err
    assert "Traceback" not in err
    assert usdc_and_nonce(fresh_devnet) == (usdc_mid, nonce_mid)  # nothing was sent again
    with AuditLog(home.audit_db) as log:
        assert log.verify().ok
        (let_go,) = log.entries(kind="tx_outcome", status="left_to_reconcile")
        (reconciled_entry,) = log.entries(kind="tx_outcome", status="reconciled")
        assert reconciled_entry.data["verdict"] == "settled"
        assert reconciled_entry.data["reservation_id"] == let_go.data["reservation_id"]
