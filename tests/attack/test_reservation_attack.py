"""Attacks on reservation ownership: "reconcile never touches a reservation whose owner is
alive (pid reuse handled)".

An owner is (pid, start, host). A pid is only a name inside one pid namespace: a run started in
a container (or any ``unshare --pid``) that shares the agent's home and the host's name (host
networking, ``--uts=host``) records its namespace pid. A ``reconcile`` on the host looks that
number up among its own processes, finds another process (or none) there and takes the live
run's reservation.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from agent.home import Home
from devnet.server import RunningDevnet
from tests.agent.agent_runs import (
    PAY,
    _env,
    finish,
    gate,
    near_agent,
    reservations,
    resume,
    wait_paused,
    write_pay_grant,
)


def _can_unshare() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", "true"], capture_output=True, timeout=10
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _can_unshare(), reason="needs unshare --pid (root or user namespaces)")
def test_reconcile_leaves_a_live_run_in_another_pid_namespace_alone(
    home: Home, devnet: RunningDevnet
) -> None:
    write_pay_grant(home, "1")
    held = gate()
    command = ["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-m", "agent"]
    run = subprocess.Popen(
        [*command, "--home", str(home.root), "do", PAY, "--yes"],
        env=_env(None, ("after_reserve", held)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_paused(run, held)
        assert [status for _, status in reservations(home)] == ["pending"]

        reconciled = near_agent(home, "reconcile")  # on the host, while the run is alive
        assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr
        assert [status for _, status in reservations(home)] == ["pending"], reconciled.stdout
    finally:
        resume(held)
        code, out, err = finish(run)
    assert code == 0 and "transfer: done" in out, out + err
