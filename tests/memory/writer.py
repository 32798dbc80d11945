"""A child process writing one row to a database through ``memory.db.write_transaction``.

``python -m tests.memory.writer hold PATH`` begins a write transaction, inserts a row, prints
``holding`` and commits only when a line arrives on stdin (then prints ``committed``).
``python -m tests.memory.writer write PATH`` prints ``waiting`` right before it begins its own
write transaction, then ``wrote BEGINS`` with how many times it sent BEGIN IMMEDIATE to SQLite.
"""

from __future__ import annotations

import os
import sys

from memory.db import connect, write_transaction


def main() -> None:
    role, path = sys.argv[1], sys.argv[2]
    conn = connect(path).conn
    conn.execute("CREATE TABLE IF NOT EXISTS rows (who TEXT NOT NULL)")
    begins = 0

    def count(statement: str) -> None:
        nonlocal begins
        begins += statement.strip().upper().startswith("BEGIN IMMEDIATE")

    conn.set_trace_callback(count)
    if role == "hold":
        with write_transaction(conn):
            conn.execute("INSERT INTO rows VALUES (?)", (f"holder {os.getpid()}",))
            print("holding", flush=True)
            sys.stdin.readline()
        print("committed", flush=True)
    else:
        print("waiting", flush=True)
        with write_transaction(conn):
            conn.execute("INSERT INTO rows VALUES (?)", (f"writer {os.getpid()}",))
        print(f"wrote {begins}", flush=True)
    conn.close()


if __name__ == "__main__":
    main()
