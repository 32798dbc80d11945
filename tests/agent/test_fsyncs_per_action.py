"""How often one `near-agent do` waits for the disk: counted with strace on the real command.

Each fsync is a wait of milliseconds on a real disk, so the agent commits only where a crash
needs a record on disk (the journal before each send, the reservation, the run's end); this
counts every fsync and fdatasync the whole process makes, directory syncs included.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent.home import Home
from tests.agent.agent_runs import near_agent

MOST_SYNCS_PER_DO = 8
SWAP = "swap 1 NEAR to USDC"


def _strace() -> str:
    found = shutil.which("strace")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("strace is missing: .ci/run installs it")
        pytest.skip("strace is not installed")
    probe = subprocess.run([found, "-f", "-o", os.devnull, "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"this machine does not allow tracing: {probe.stderr.decode().strip()}")
    return found


def _syncs_of(home: Home, intent: str, trace: Path) -> tuple[subprocess.CompletedProcess, int]:
    command = [sys.executable, "-m", "agent", "--home", str(home.root), "do", intent, "--yes"]
    done = subprocess.run(
        [_strace(), "-f", "-e", "trace=fsync,fdatasync", "-o", str(trace), *command],
        capture_output=True,
        text=True,
        timeout=180,
    )
    calls = re.findall(r"\b(?:fsync|fdatasync)\(", trace.read_text())
    return done, len(calls)


@pytest.mark.slow
def test_a_swap_waits_for_the_disk_at_most_eight_times(home: Home, tmp_path: Path) -> None:
    """A NEAR -> USDC swap: two transactions (wrap, then the exchange's ft_transfer_call)."""
    warm = near_agent(home, "do", SWAP, "--yes")  # every store and log file exists already
    assert warm.returncode == 0, warm.stdout + warm.stderr
    result, syncs = _syncs_of(home, SWAP, tmp_path / "trace.txt")
    assert result.returncode == 0 and "swap: done" in result.stdout, result.stdout + result.stderr
    assert 0 < syncs <= MOST_SYNCS_PER_DO, (syncs, (tmp_path / "trace.txt").read_text())
