"""Several processes opening a brand-new home at the same moment (a daemon, a `do`, a `chat`).

Each store creates its schema on first open; two processes doing so together must both wait their
turn, not fail with "database is locked" (a deferred read-then-write cannot wait for a writer).
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from agent.home import Home

PROCESSES = 6


def _open_every_store(root: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    from memory.audit import AuditLog
    from memory.contacts import AddressBook
    from memory.conversation import Conversation
    from memory.jobs import JobStore
    from memory.preferences import PreferencesStore
    from policies.store import GrantBook, PolicyLedger

    home = Home(Path(root))
    barrier.wait(timeout=60)
    stores = [
        AuditLog(home.audit_db),
        AddressBook(home.memory_db),
        Conversation(home.memory_db),
        PreferencesStore(home.memory_db),
        GrantBook(home.policy_db),
        PolicyLedger(home.policy_db),
        JobStore(home.root / "jobs.db"),
    ]
    for store in stores:
        store.close()


@pytest.mark.slow
def test_processes_opening_a_new_home_together_all_succeed(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    for trial in range(3):
        root = tmp_path / f"home{trial}"
        barrier = context.Barrier(PROCESSES)
        workers = [
            context.Process(target=_open_every_store, args=(str(root), barrier))
            for _ in range(PROCESSES)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        assert [worker.exitcode for worker in workers] == [0] * PROCESSES
