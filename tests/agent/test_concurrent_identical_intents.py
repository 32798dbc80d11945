"""The same intent run by separate `near-agent` processes at the same moment.

Every run that reports "done" must name a transaction that it alone sent: bob is paid once per
"done", each run names its own hash, and the audit log journals each hash once, under its run.
The runs are held at a barrier just before signing and released together; the node answers
``send_tx`` after a delay, as a real node does (finality takes a second or two), so every run
reads the key's nonce before the first transfer lands.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from agent.demo import demo_grants
from agent.home import Home
from agent.setup_home import write_config
from devnet.server import RunningDevnet
from memory.audit import AuditKind, AuditLog
from tests.devnet.helpers import balance, rpc
from tests.support.gate import Gate, release_together
from tests.support.grants import give_home_grants
from tools.failpoints import ENV, WAIT_ENV

INTENT = "send 0.1 NEAR to bob"
TENTH = 10**23
BOB = "bob.test.near"
ALICE = "alice.test.near"
NODE_LATENCY_S = 1.0
CORRELATION = re.compile(r"\(audit: near-agent audit show (\S+)\)")


def _agent_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (ENV, WAIT_ENV)}
    return {**env, **(extra or {})}


def _command(home: Home, *args: str) -> list[str]:
    return [sys.executable, "-m", "agent", "--home", str(home.root), *args]


def _agent(home: Home, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(home, *args), env=_agent_env(), capture_output=True, text=True, timeout=120
    )


def _grants_without_first_time_confirmation() -> str:
    """The demo grants, except that paying bob for the first time needs no confirmation."""
    body = yaml.safe_load(demo_grants(datetime.now(UTC) + timedelta(days=1)))
    for grant in body["grants"]:
        grant.get("confirm", {}).pop("first_time_recipient", None)
    return yaml.safe_dump(body, sort_keys=False)


@pytest.fixture
def payer_home(fresh_devnet: RunningDevnet, tmp_path: Path) -> Home:
    home = Home(tmp_path / "home")
    manifest = fresh_devnet.state_dir / "manifest.json"
    write_config(home, network="devnet", account_id=ALICE, devnet_manifest=manifest)
    (home.root / "grants.yaml").write_text(_grants_without_first_time_confirmation())
    give_home_grants(home)
    added = _agent(home, "contacts", "add", "bob", BOB)
    assert added.returncode == 0, added.stdout + added.stderr
    planned = _agent(home, "plan", INTENT)  # the policy lets it run unasked
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "policy: allow" in planned.stdout, planned.stdout
    return home


def _run_together(home: Home, devnet: RunningDevnet, runs: int) -> list[str]:
    """Start ``runs`` processes, release them together at the send; their stdouts."""
    with Gate() as gate:
        processes = [
            subprocess.Popen(
                _command(home, "do", INTENT, "--yes"),
                env=_agent_env(gate.env("before_send")),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(runs)
        ]
        outputs = release_together(gate, processes, devnet, latency_s=NODE_LATENCY_S, timeout_s=180)
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, out + err
        assert "transfer: done" in out, out + err
    return [out for out, _ in outputs]


@pytest.mark.slow
@pytest.mark.parametrize("runs", [2, 4])
def test_each_done_names_a_transfer_that_run_alone_sent(
    payer_home: Home, fresh_devnet: RunningDevnet, runs: int
) -> None:
    bob_before = balance(fresh_devnet, BOB)

    outputs = _run_together(payer_home, fresh_devnet, runs)

    assert balance(fresh_devnet, BOB) - bob_before == runs * TENTH  # one payment per "done"
    runs_cids = [CORRELATION.search(out).group(1) for out in outputs]  # type: ignore[union-attr]
    with AuditLog(payer_home.audit_db) as log:
        assert log.verify().ok
        done_hashes = {}
        for cid in runs_cids:
            (outcome,) = log.entries(kind=AuditKind.TX_OUTCOME, correlation_id=cid, status="ok")
            (tx_hash,) = outcome.data["result"]["tx_hashes"]
            done_hashes[cid] = tx_hash
        journalled = log.entries(kind=AuditKind.TX_SUBMITTED)
    assert len(set(done_hashes.values())) == runs  # each "done" names its own transaction
    per_hash = Counter(e.data["tx_hash"] for e in journalled)
    for cid, tx_hash in done_hashes.items():
        assert per_hash[tx_hash] == 1  # journalled once, under one intent...
        (entry,) = [e for e in journalled if e.data["tx_hash"] == tx_hash]
        assert entry.correlation_id == cid  # ...the one that reports it done
        status = rpc(fresh_devnet, "tx", {"tx_hash": tx_hash, "sender_account_id": ALICE})
        assert status["result"]["transaction"]["receiver_id"] == BOB
        assert "SuccessValue" in status["result"]["status"]
