"""Attacks on nonce uniqueness: "a 'done' names a transaction that run alone sent".

Two agent homes for the same account and key (a user with an interactive home and a scheduler
home, or two shells with different --home) each run the same intent at the same moment. Each
home's nonce ledger only knows its own processes, so both allocate the chain nonce + 1, sign the
same transaction byte for byte, and both report "done" for the one transfer the node executed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from agent.home import Home
from agent.setup_home import write_config
from devnet.server import RunningDevnet
from memory.audit import AuditKind, AuditLog
from tests.agent.test_concurrent_identical_intents import (
    ALICE,
    BOB,
    CORRELATION,
    INTENT,
    NODE_LATENCY_S,
    TENTH,
    _agent,
    _agent_env,
    _command,
    _grants_without_first_time_confirmation,
)
from tests.devnet.helpers import balance
from tests.support.gate import Gate


def _payer_home(devnet: RunningDevnet, root: Path) -> Home:
    home = Home(root)
    manifest = devnet.state_dir / "manifest.json"
    write_config(home, network="devnet", account_id=ALICE, devnet_manifest=manifest)
    (home.root / "grants.yaml").write_text(_grants_without_first_time_confirmation())
    added = _agent(home, "contacts", "add", "bob", BOB)
    assert added.returncode == 0, added.stdout + added.stderr
    planned = _agent(home, "plan", INTENT)
    assert planned.returncode == 0 and "policy: allow" in planned.stdout, planned.stdout
    return home


def _done_hash(home: Home, out: str) -> str:
    cid = CORRELATION.search(out).group(1)  # type: ignore[union-attr]
    with AuditLog(home.audit_db) as log:
        (outcome,) = log.entries(kind=AuditKind.TX_OUTCOME, correlation_id=cid, status="ok")
    (tx_hash,) = outcome.data["result"]["tx_hashes"]
    return tx_hash


def test_two_homes_with_one_key_never_report_one_transfer_done_twice(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    homes = [_payer_home(fresh_devnet, tmp_path / name) for name in ("home-a", "home-b")]
    bob_before = balance(fresh_devnet, BOB)
    with Gate() as gate:
        processes = [
            subprocess.Popen(
                _command(home, "do", INTENT, "--yes"),
                env=_agent_env(gate.env("before_send")),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for home in homes
        ]
        try:
            gate.wait_for(2)
            fresh_devnet.faults.latency(NODE_LATENCY_S, methods=["send_tx"], probability=1.0)
            gate.release()
            outputs = [p.communicate(timeout=60) for p in processes]
        finally:
            fresh_devnet.faults.clear()
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
    done = [
        (home, out)
        for home, (out, _) in zip(homes, outputs, strict=True)
        if "transfer: done" in out
    ]
    paid = balance(fresh_devnet, BOB) - bob_before
    hashes = [_done_hash(home, out) for home, out in done]
    # every "done" is a payment bob received, each under its own transaction
    assert paid == len(done) * TENTH, (paid, hashes, outputs)
    assert len(set(hashes)) == len(hashes), (hashes, outputs)
