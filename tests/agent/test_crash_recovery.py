"""SIGKILL at each step of execution; on restart nothing is sent twice and budgets are right."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import pytest

from agent.home import Home
from agent.session import AgentSession
from devnet.server import RunningDevnet
from memory.audit import AuditLog
from tests.support.chain_reads import usdc_and_nonce

INTENT = "swap 1 NEAR to USDC"


def near_agent(home: Home, *args: str, failpoint: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "NEAR_AGENT_FAILPOINT"}
    if failpoint:
        env["NEAR_AGENT_FAILPOINT"] = failpoint
    command = [sys.executable, "-m", "agent", "--home", str(home.root), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


async def _pending(home: Home) -> int:
    session = await AgentSession.open(home)
    try:
        return len(session.policy.pending())
    finally:
        await session.close()


@pytest.mark.slow  # several near-agent processes per case, one killed with SIGKILL
@pytest.mark.parametrize(
    ("failpoint", "landed", "swapped"),
    [
        ("after_reserve", False, False),
        ("after_sign", False, False),
        ("after_submit", True, True),  # the swap's one transaction (wrap, then swap) went through
        ("before_settle", True, True),
    ],
)
def test_kill_9_then_reconcile(
    home: Home, devnet: RunningDevnet, failpoint: str, landed: bool, swapped: bool
) -> None:
    usdc_before, nonce_before = usdc_and_nonce(devnet)
    crashed = near_agent(home, "do", INTENT, "--yes", failpoint=failpoint)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    usdc_mid, nonce_mid = usdc_and_nonce(devnet)
    assert (usdc_mid > usdc_before) is swapped
    assert (nonce_mid > nonce_before) is landed
    assert asyncio.run(_pending(home)) == 1  # the interrupted reservation still counts as spent

    recovered = near_agent(home, "reconcile")
    assert recovered.returncode == 0, recovered.stderr
    usdc_after, nonce_after = usdc_and_nonce(devnet)
    assert usdc_after == usdc_mid  # reconciling never sends anything
    if not landed:
        assert nonce_after == nonce_before  # nothing ever reached the chain
    if failpoint == "after_sign":
        # Signed but unseen: it could still land while its nonce is unused, so it stays reserved
        # until the key moves past that nonce (here: the user's next transaction).
        assert "still able to land" in recovered.stdout
        assert asyncio.run(_pending(home)) == 1
        later = near_agent(home, "do", "label task 2 item 0 as hi", "--yes")
        assert later.returncode == 0, later.stdout + later.stderr
        recovered = near_agent(home, "reconcile")
    assert ("counted against your budget" if landed else "released") in recovered.stdout
    assert asyncio.run(_pending(home)) == 0

    again = near_agent(home, "reconcile")
    assert "Nothing to recover." in again.stdout
    with AuditLog(home.audit_db) as log:
        assert log.verify().ok
        reconciled = log.entries(kind="tx_outcome", status="reconciled")
        assert len(reconciled) == 1
