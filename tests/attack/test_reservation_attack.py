"""Attacks on reservation ownership: "reconcile never touches a reservation whose owner is
alive (pid reuse handled)".

An owner is (pid, start, host). A pid is only a name inside one pid namespace: a run started in
a container (or any ``unshare --pid``) that shares the agent's home and the host's name (host
networking, ``--uts=host``) records its namespace pid. A ``reconcile`` on the host looks that
number up among its own processes, finds another process (or none) there and takes the live
run's reservation. Two machines that share a hostname and the home (over a network file system)
are the same case: the other machine's pids mean nothing here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent.home import Home
from devnet.server import RunningDevnet
from tests.agent.agent_runs import (
    PAY,
    _command,
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


MACHINE_ID = Path("/etc/machine-id")


def _can_bind_machine_id() -> bool:
    """Whether a process can be given another /etc/machine-id (a mount namespace of its own)."""
    if shutil.which("unshare") is None or not MACHINE_ID.is_file():
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "--fork", "mount", "--bind", "/dev/null", str(MACHINE_ID)],
        capture_output=True,
        timeout=10,
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _can_bind_machine_id(), reason="needs unshare --mount (root)")
def test_reconcile_leaves_a_run_on_another_machine_with_our_hostname_alone(
    home: Home, devnet: RunningDevnet, tmp_path: Path
) -> None:
    """A run on another machine (another machine id, same hostname, same home) is killed after
    its reservation commits. Its pid means nothing here (no process here has it), so reconcile
    here must not judge it from this machine's processes: it stays reserved, up to the foreign
    bound, like any owner this machine cannot see."""
    write_pay_grant(home, "1")
    other = tmp_path / "machine-id"
    other.write_text("0123456789abcdef0123456789abcdef\n")
    on_other_machine = [
        "unshare",
        "--mount",
        "--fork",
        "sh",
        "-c",
        'mount --bind "$0" /etc/machine-id && exec "$@"',
        str(other),
        *_command(home, ("do", PAY, "--yes")),
    ]
    crashed = subprocess.run(
        on_other_machine,
        env=_env("after_reserve", None),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "transfer: done" not in crashed.stdout, crashed.stdout + crashed.stderr
    assert [status for _, status in reservations(home)] == ["pending"]

    reconciled = near_agent(home, "reconcile")
    assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr
    assert "Nothing to recover." in reconciled.stdout
    assert [status for _, status in reservations(home)] == ["pending"]
