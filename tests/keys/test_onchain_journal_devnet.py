"""`near-agent grants onchain` journals each transaction it signs, like the executor does.

Each CreateAccount / AddKey / DeleteKey transaction gets a tx_submitted entry (hash, signer,
receiver, public key, nonce) in the audit log before it leaves, so a run killed after sending
leaves the hash to look up, never a transaction nobody recorded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.home import Home
from memory.audit import AuditKind, AuditLog
from tests.agent.agent_runs import near_agent

from .helpers import ALICE, cli, make_home, run
from .test_onchain_devnet import _ctx

SUB = "trading." + ALICE


@pytest.fixture
def home(fresh_devnet, tmp_path: Path) -> Home:
    home = make_home(fresh_devnet, tmp_path / "home")
    added = cli(home, "grants", "add", str(home.root / "grants.yaml"))
    assert added.exit_code == 0, added.output
    return home


def _entries(home: Home, kind: AuditKind) -> list:
    with AuditLog(home.audit_db) as log:
        return log.entries(kind=kind, limit=None)


def test_each_key_and_account_transaction_is_journalled_before_it_is_sent(home: Home) -> None:
    full_key = _ctx(home).require_credentials().public_key
    done = near_agent(home, "grants", "onchain", "--trading-account", "trading", "--fund", "3")
    assert done.returncode == 0, done.stderr
    revoked = near_agent(home, "grants", "onchain", "--revoke")
    assert revoked.returncode == 0, revoked.stderr

    submitted = _entries(home, AuditKind.TX_SUBMITTED)
    results = [
        e
        for kind in (AuditKind.GRANT_ADDED, AuditKind.GRANT_REVOKED)
        for e in _entries(home, kind)
        if e.data.get("tx_hash")  # the on-chain steps, not the grants file's entries
    ]
    assert len(submitted) == 3 and len(results) == 3
    for entry in submitted:
        (result,) = [r for r in results if r.data.get("tx_hash") == entry.data["tx_hash"]]
        assert entry.id < result.id and entry.correlation_id == result.correlation_id
        assert entry.status == "signed" and entry.tool == "grants onchain"
        assert entry.data["signer_id"] == ALICE and entry.data["public_key"] == full_key
        assert isinstance(entry.data["nonce"], int) and entry.data["nonce"] > 0
    assert [e.data["receiver_id"] for e in submitted] == [ALICE, SUB, ALICE]
    assert len({e.data["nonce"] for e in submitted}) == 3


def test_a_run_killed_after_sending_leaves_the_hash_to_look_up(home: Home) -> None:
    args = ("grants", "onchain", "--no-tasks-key", "--trading-account", "trading", "--fund", "3")
    killed = near_agent(home, *args, failpoint="after_submit")
    assert killed.returncode < 0, killed.stdout  # SIGKILL after the bytes left

    (entry,) = _entries(home, AuditKind.TX_SUBMITTED)
    assert entry.data["receiver_id"] == SUB
    assert not [e for e in _entries(home, AuditKind.GRANT_ADDED) if e.data.get("tx_hash")]
    ctx = _ctx(home)
    outcome = run(ctx.chain.tx_status(entry.data["tx_hash"], ALICE))
    assert outcome is not None and outcome.ok
    run(ctx.aclose())

    again = near_agent(home, *args)
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stdout
