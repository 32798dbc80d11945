"""Concurrent `do` runs against one tight rolling window, with SIGKILLs and reconciles between
them: what lands on chain never exceeds the window, and the budget matches the chain.

The interleaving is forced with pause points (a run held right after its reservation commits),
so the race that let payments escape the window (a starting run's reconcile releasing a live
run's reservation) happens every time, not by luck.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.home import Home
from devnet.server import RunningDevnet
from memory.audit import AuditLog
from tests.agent.agent_runs import (
    BOB,
    PAY,
    TENTH,
    finish,
    gate,
    kill,
    near_agent,
    reservations,
    resume,
    start,
    wait_paused,
    write_pay_grant,
)
from tests.devnet.helpers import balance, rpc

WINDOW = 3 * TENTH


def _landed(devnet: RunningDevnet, tx_hash: str) -> bool:
    answer = rpc(
        devnet,
        "tx",
        {"tx_hash": tx_hash, "sender_account_id": "alice.test.near", "wait_until": "FINAL"},
    )
    return "result" in answer and "SuccessValue" in answer["result"]["status"]


@pytest.mark.slow
def test_concurrent_runs_kills_and_reconciles_stay_within_the_window(
    home: Home, devnet: RunningDevnet, tmp_path: Path
) -> None:
    write_pay_grant(home, "0.3")
    # the home's databases exist before the race (opening a new home concurrently is another
    # matter than the one tested here)
    assert near_agent(home, "reconcile").returncode == 0
    bob_before = balance(devnet, BOB)
    outputs: list[tuple[int, str, str]] = []

    # Three runs reserve the whole window and are held right after their reservations commit.
    gates = [gate() for _ in range(3)]
    held = [start(home, "do", PAY, "--yes", pause=("after_reserve", g)) for g in gates]
    for run, g in zip(held, gates, strict=True):
        wait_paused(run, g)
    # Meanwhile two more runs and a reconcile start together (each run reconciles at start).
    racers = [start(home, "do", PAY, "--yes"), start(home, "do", PAY, "--yes")]
    racers.append(start(home, "reconcile"))
    raced = [finish(run) for run in racers]
    outputs += raced
    # One held run dies (SIGKILL); the other two go on. Together with them: a reconcile, and a
    # run that is killed after its payment landed but before it settled.
    kill(held[0])
    gates[0].close()
    resume(gates[1])
    resume(gates[2])
    late = [start(home, "reconcile"), start(home, "do", PAY, "--yes", failpoint="before_settle")]
    finished = [finish(run) for run in [*held[1:], *late]]
    outputs += finished
    # A last run (its start-up reconcile settles the killed run's landed payment), then a reconcile.
    last = near_agent(home, "do", PAY, "--yes")
    final = near_agent(home, "reconcile")
    outputs += [(p.returncode, p.stdout, p.stderr) for p in (last, final)]

    sent = balance(devnet, BOB) - bob_before
    assert sent <= WINDOW, f"{sent / TENTH} payments of 0.1 NEAR landed; the window allows 3"
    rows = dict(reservations(home))
    assert "pending" not in rows.values()
    with AuditLog(home.audit_db) as log:
        assert log.verify().ok
        journal = log.entries(kind="tx_submitted")
    hashes: dict[str, list[str]] = {}
    for entry in journal:
        hashes.setdefault(entry.data["reservation_id"], []).append(entry.data["tx_hash"])
    landed_hashes: list[str] = []
    for reservation_id, status in rows.items():
        landed = [h for h in hashes.get(reservation_id, []) if _landed(devnet, h)]
        # the budget counts exactly what reached the chain
        assert len(landed) == (1 if status == "settled" else 0), (reservation_id, status)
        landed_hashes += landed
    # each settled reservation is its own transaction (nonces are unique across processes)
    assert len(set(landed_hashes)) == len(landed_hashes)
    assert sent == TENTH * len(landed_hashes)

    # What each process said: the racers were denied (the window was the held runs'), the held
    # runs that went on paid, the run killed after landing is reported by the one after it.
    assert [code for code, _, _ in raced] == [1, 1, 0]
    assert all("denied" in out for _, out, _ in raced[:2])
    assert "Nothing to recover." in raced[2][1]
    assert [code for code, _, _ in finished[:2]] == [0, 0]
    assert finished[3][0] == -9
    assert last.returncode == 1 and "denied" in last.stdout
    assert not any("Traceback" in err for _, _, err in outputs)
