"""A reservation's owner is committed with it, so reconcile never takes a live run's budget.

Each test runs separate near-agent processes against the devnet over HTTP; a run is held at an
exact step (right after its reservation commits) with a pause point, not a sleep.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from agent.home import Home
from devnet.server import RunningDevnet
from memory import process_owner
from memory.audit import AuditLog
from memory.process_owner import (
    FOREIGN_OWNER_BOUND_US,
    ProcessOwner,
    current_owner,
    host_identity,
    owner_alive,
    process_start,
)
from policies.engine import PolicyEngine
from policies.store import PolicyLedger
from tests.agent.agent_runs import (
    BOB,
    PAY,
    TENTH,
    finish,
    gate,
    near_agent,
    reservations,
    resume,
    start,
    wait_paused,
    write_pay_grant,
)
from tests.devnet.helpers import balance
from tests.policy.helpers import near_transfer
from tests.support.chain_reads import usdc_and_nonce


def test_reconcile_and_a_new_run_leave_a_just_reserved_run_alone(
    home: Home, devnet: RunningDevnet, tmp_path: Path
) -> None:
    """A held right after its reservation commits (before anything else is written); meanwhile
    `reconcile` and another `do` start (and reconcile at start). Neither may take A's budget."""
    write_pay_grant(home, "0.1")  # room for exactly one payment
    bob_before = balance(devnet, BOB)
    held = gate()
    run_a = start(home, "do", PAY, "--yes", pause=("after_reserve", held))
    wait_paused(run_a, held)
    assert [status for _, status in reservations(home)] == ["pending"]

    reconciled = near_agent(home, "reconcile")
    assert reconciled.returncode == 0, reconciled.stderr
    assert "Nothing to recover." in reconciled.stdout
    other = near_agent(home, "do", PAY, "--yes")
    assert other.returncode == 1, other.stdout + other.stderr
    assert "denied" in other.stdout  # the window is A's until A settles or is reconciled
    assert [status for _, status in reservations(home)] == ["pending"]

    resume(held)
    code, out, err = finish(run_a)
    assert code == 0, out + err
    assert "Traceback" not in err
    assert balance(devnet, BOB) - bob_before == TENTH  # one payment, never two
    assert [status for _, status in reservations(home)] == ["settled"]
    with AuditLog(home.audit_db) as log:
        assert log.verify().ok
        assert log.entries(kind="tx_outcome", status="reconciled") == []


def test_a_run_whose_reservation_was_taken_stops_before_sending(
    home: Home, devnet: RunningDevnet, tmp_path: Path
) -> None:
    """If a reconcile that misjudged (an older version, a host past the foreign-owner bound)
    releases a live run's reservation, the run finds out after signing, before its transaction
    is sent."""
    write_pay_grant(home, "1")
    bob_before, (_, nonce_before) = balance(devnet, BOB), usdc_and_nonce(devnet)
    code, out, err = _pay_while_a_misjudging_reconcile_releases(home, "after_reserve")
    assert code == 1, out + err
    assert "transfer: failed: reservation was released by reconcile; nothing was sent" in out
    assert "Traceback" not in err
    assert balance(devnet, BOB) == bob_before
    assert usdc_and_nonce(devnet)[1] == nonce_before  # nothing reached the chain
    with AuditLog(home.audit_db) as log:
        assert log.verify().ok
        assert log.entries(kind="tx_submitted") == []
        (stopped,) = log.entries(kind="tx_outcome", status="failed")
        assert stopped.data["stage"] == "claim"
        assert stopped.data["reservation_status"] == "released"


def test_a_run_whose_reservation_was_resolved_meanwhile_reports_it(
    home: Home, devnet: RunningDevnet, tmp_path: Path
) -> None:
    """Settling a reservation someone else already released is reported, not a traceback."""
    write_pay_grant(home, "1")
    bob_before = balance(devnet, BOB)
    code, out, err = _pay_while_a_misjudging_reconcile_releases(home, "before_settle")
    assert code == 0, out + err  # the payment itself went through
    assert "Traceback" not in err
    assert "reconcile had already released its reservation" in out
    assert balance(devnet, BOB) - bob_before == TENTH
    with AuditLog(home.audit_db) as log:
        (noted,) = log.entries(kind="error", status="resolved_elsewhere")
        assert noted.data["reservation_status"] == "released"


def _reserve_as(home: Home, owner: ProcessOwner) -> str:
    """A pending reservation held by ``owner`` (standing in for a run on that process)."""
    engine = PolicyEngine(home.policy_db, owner=owner)
    try:
        decision = engine.reserve(near_transfer(BOB, TENTH))
    finally:
        engine.close()
    assert decision.reservation_id is not None, decision.reasons
    return decision.reservation_id


def test_a_reused_pid_is_not_the_owner(home: Home, devnet: RunningDevnet) -> None:
    """The recorded pid runs, but it started at another time: the owner is gone (pid reuse),
    so its reservation is resolved. The same pid with its real start time is left alone, and
    so is an owner on another host."""
    write_pay_grant(home, "1")
    assert near_agent(home, "reconcile").returncode == 0  # stores the grant
    here = socket.gethostname()
    live_pid = os.getpid()  # this test process: certainly running
    reused = _reserve_as(home, ProcessOwner(live_pid, "another-boot/1", here))
    live = _reserve_as(home, ProcessOwner(live_pid, process_start(live_pid), here))
    foreign = _reserve_as(home, ProcessOwner(live_pid, "x", "another-host.example"))

    result = near_agent(home, "reconcile")
    assert result.returncode == 0, result.stderr
    assert "interrupted before anything was signed; its budget is released" in result.stdout
    assert dict(reservations(home)) == {reused: "released", live: "pending", foreign: "pending"}


def test_owner_liveness_rule() -> None:
    here, pid = socket.gethostname(), os.getpid()
    me = ProcessOwner(pid, process_start(pid), here)
    assert me.start is not None
    assert owner_alive(me, created_us=0, now_us=1)
    assert not owner_alive(ProcessOwner(pid, "other", here), created_us=0, now_us=1)
    assert not owner_alive(None, created_us=0, now_us=1)  # recorded before owners were
    foreign = ProcessOwner(pid, "x", "another-host.example")
    assert owner_alive(foreign, created_us=0, now_us=FOREIGN_OWNER_BOUND_US - 1)
    assert not owner_alive(foreign, created_us=0, now_us=FOREIGN_OWNER_BOUND_US)


def test_an_owner_is_here_only_in_this_machine_and_pid_namespace(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Our hostname is not enough: a live pid of ours recorded by another machine with the same
    hostname, or by another pid namespace, is foreign (alive up to the bound, never looked up).
    A row from before hosts named their namespace (a plain hostname) is judged as before."""
    me = current_owner()
    hostname, machine, namespace = me.host.split("/")
    assert hostname == socket.gethostname() and machine and namespace.startswith("pid:[")
    assert host_identity() == me.host
    other_machine = tmp_path / "machine-id"
    other_machine.write_text("another-machine\n")
    with monkeypatch.context() as patched:
        patched.setattr(process_owner, "_MACHINE_ID_FILES", (other_machine,))
        elsewhere = host_identity()
    assert elsewhere == f"{hostname}/another-machine/{namespace}"
    other_namespace = f"{hostname}/{machine}/pid:[1]"
    for host in (elsewhere, other_namespace):
        foreign = ProcessOwner(me.pid, me.start, host)  # our very pid and start
        assert owner_alive(foreign, created_us=0, now_us=FOREIGN_OWNER_BOUND_US - 1)
        assert not owner_alive(foreign, created_us=0, now_us=FOREIGN_OWNER_BOUND_US)
    assert owner_alive(me, created_us=0, now_us=FOREIGN_OWNER_BOUND_US)  # here: the pid decides
    assert not owner_alive(ProcessOwner(me.pid, "other", me.host), created_us=0, now_us=1)
    legacy = ProcessOwner(me.pid, "other", hostname)  # plain hostname: looked up here
    assert not owner_alive(legacy, created_us=0, now_us=1)


OLD_RESERVATIONS = """
CREATE TABLE reservations (
    id TEXT PRIMARY KEY, grant_id TEXT NOT NULL, grant_version INTEGER NOT NULL,
    action_hash TEXT NOT NULL, tool TEXT NOT NULL, created_us INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'settled', 'released')),
    closed_us INTEGER, detail TEXT NOT NULL DEFAULT '') WITHOUT ROWID;
"""


def test_a_policy_db_from_before_owners_is_migrated(home: Home, devnet: RunningDevnet) -> None:
    """An existing policy.db gains the owner columns on open; its pending rows have no owner,
    so reconcile resolves them as before."""
    for path in home.policy_db.parent.glob(home.policy_db.name + "*"):
        path.unlink()  # a policy.db as the older version left it
    with sqlite3.connect(home.policy_db) as conn:
        conn.executescript(OLD_RESERVATIONS)
        conn.execute(
            "INSERT INTO reservations VALUES ('old', 'pay-bob', 1, 'h', 'transfer', 1, "
            "'pending', NULL, '{}')"
        )
    write_pay_grant(home, "1")
    ledger = PolicyLedger(home.policy_db)
    try:
        old = ledger.reservation("old")
        assert old is not None and old.owner is None and old.status == "pending"
    finally:
        ledger.close()

    result = near_agent(home, "reconcile")
    assert result.returncode == 0, result.stderr
    assert "its budget is released" in result.stdout
    assert dict(reservations(home)) == {"old": "released"}
    # and new reservations on the migrated file carry their owner
    write_pay_grant(home, "1")
    paid = near_agent(home, "do", PAY, "--yes")
    assert paid.returncode == 0, paid.stdout + paid.stderr
    with sqlite3.connect(home.policy_db) as conn:
        owners = conn.execute(
            "SELECT owner_pid, owner_start, owner_host FROM reservations WHERE id != 'old'"
        ).fetchall()
    assert len(owners) == 1 and all(value is not None for value in owners[0])


def test_a_killed_owner_not_yet_reaped_is_dead() -> None:
    """A SIGKILLed process its parent has not waited for still has its pid (a zombie)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    owner = ProcessOwner(child.pid, process_start(child.pid), socket.gethostname())
    assert owner_alive(owner, created_us=0, now_us=1)
    child.send_signal(signal.SIGKILL)
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # exited, left unreaped
    try:
        assert not owner_alive(owner, created_us=0, now_us=1)
    finally:
        child.wait()
    assert not owner_alive(owner, created_us=0, now_us=1)


def test_without_proc_the_start_time_comes_from_ps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where /proc is absent (macOS, BSD), `ps` tells when a process started."""
    monkeypatch.setattr(process_owner, "_PROC", Path("/no-proc-here"))
    here, pid = socket.gethostname(), os.getpid()
    start = process_start(pid)
    assert start
    assert owner_alive(ProcessOwner(pid, start, here), created_us=0, now_us=1)
    reused = ProcessOwner(pid, "Mon Jan  1 00:00:00 2024", here)
    assert not owner_alive(reused, created_us=0, now_us=1)


def _pay_while_a_misjudging_reconcile_releases(home: Home, point: str) -> tuple[int, str, str]:
    """Run a payment held at ``point`` while its reservation is released behind its back."""
    held = gate()
    run = start(home, "do", PAY, "--yes", pause=(point, held))
    wait_paused(run, held)
    ((reservation_id, _),) = reservations(home)
    misjudging = PolicyEngine(home.policy_db)
    try:
        misjudging.release(reservation_id, "reconciled: nothing reached the chain")
    finally:
        misjudging.close()
    resume(held)
    return finish(run)
