"""A daemon killed with SIGKILL during a fire, then restarted, runs that fire at most once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from agent.home import Home
from devnet.server import RunningDevnet
from memory.audit import AuditLog
from memory.jobs import JobStore
from tests.scheduler.devnet_home import make_home
from tests.support.chain_reads import usdc_and_nonce

DCA = {"id": "dca", "kind": "dca", "sell": "NEAR", "buy": "USDC", "amount": "1", "every": "1h"}


def daemon(
    home: Home, *, run_for: float, failpoint: str | None = None
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "NEAR_AGENT_FAILPOINT"}
    if failpoint:
        env["NEAR_AGENT_FAILPOINT"] = failpoint
    command = [
        sys.executable,
        "-m",
        "agent.scheduler.daemon",
        "--home",
        str(home.root),
        "--run-for",
        str(run_for),
        "--tick",
        "0.1",
    ]
    return subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )


@pytest.mark.slow  # two daemon processes per case, one killed with SIGKILL
@pytest.mark.parametrize(
    ("failpoint", "landed", "verdict"),
    [
        ("after_reserve", False, "abandoned"),
        ("after_sign", False, "abandoned"),
        ("before_settle", True, "done"),
    ],
)
def test_sigkill_during_a_fire_then_restart_runs_it_at_most_once(
    fresh_devnet: RunningDevnet, tmp_path: Path, failpoint: str, landed: bool, verdict: str
) -> None:
    home = make_home(tmp_path / "home", fresh_devnet.state_dir / "manifest.json", strategies=[DCA])
    usdc_before, nonce_before = usdc_and_nonce(fresh_devnet)
    crashed = daemon(home, run_for=30, failpoint=failpoint)
    assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
    usdc_mid, nonce_mid = usdc_and_nonce(fresh_devnet)
    assert (usdc_mid > usdc_before) is landed
    with JobStore(home.root / "jobs.db") as store:
        (fire,) = store.fires("dca")
        assert fire.status == "started"  # recorded before it acted

    restarted = daemon(home, run_for=0.5)  # recovery runs before the first tick; then a few ticks
    assert restarted.returncode == 0, restarted.stderr
    assert f"fire {fire.id} of dca: {verdict}" in restarted.stdout

    usdc_after, nonce_after = usdc_and_nonce(fresh_devnet)
    assert (usdc_after, nonce_after) == (usdc_mid, nonce_mid)  # nothing was sent again
    if not landed:
        assert nonce_after == nonce_before
    with JobStore(home.root / "jobs.db") as store:
        fires = store.fires("dca")
        assert [(f.id, f.status) for f in fires] == [(fire.id, verdict)]
        assert "not run again" in fires[0].detail["recovered"]
    with AuditLog(home.audit_db) as log:
        assert log.verify().ok
        story = log.entries(correlation_id=fire.correlation_id)
        signed = [e for e in story if e.kind == "tx_submitted"]
        # killed before the first signature, at it, or after all of a swap's transactions
        expected = {"after_reserve": 0, "after_sign": 1}.get(failpoint)
        assert len(signed) == expected if expected is not None else len(signed) >= 1
        assert [e.status for e in story if e.kind == "schedule_fired"] == [
            "started",
            f"recovered_{verdict}",
        ]
