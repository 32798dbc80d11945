"""The due query reads an index, also in a jobs.db made before the index existed."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from memory.jobs import JobStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DUE = (
    "SELECT * FROM strategies WHERE status = 'active' AND next_fire_at IS NOT NULL"
    " AND next_fire_at <= ? ORDER BY next_fire_at"
)


def test_an_existing_home_gains_the_due_index_and_due_times_read_back_exactly(
    tmp_path: Path,
) -> None:
    path = tmp_path / "jobs.db"
    with JobStore(path) as store:
        store.add_strategies(
            [(f"s{i}", "dca", {"id": f"s{i}"}, T0 + timedelta(microseconds=i)) for i in range(3)],
            source="cli",
            now=T0,
        )
    conn = sqlite3.connect(path)  # as an older version left it: no such index
    conn.execute("DROP INDEX strategies_due")
    conn.commit()
    conn.close()

    with JobStore(path) as store:  # opening it is the migration
        plan = " ".join(row[-1] for row in store.conn.execute("EXPLAIN QUERY PLAN " + DUE, ("",)))
        assert "strategies_due" in plan
        due = store.due(T0 + timedelta(microseconds=1))
        assert [(r.id, r.next_fire_at) for r in due] == [
            ("s0", T0),
            ("s1", T0 + timedelta(microseconds=1)),
        ]
        assert due[0].next_fire_at.tzinfo == UTC and due[0].config_text == '{"id": "s0"}'
