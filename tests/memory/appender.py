"""A child process that appends to an audit log forever, printing each committed entry.

``python -m tests.memory.appender PATH NAME [COUNT]`` prints ``id hash`` after each commit. With
COUNT it first prints ``ready`` once the log is open and waits for a line on stdin, so that
several children can be started together.
"""

from __future__ import annotations

import random
import sys
import time

from memory.audit import AuditDraft, AuditKind, AuditLog


def main() -> None:
    path, name = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else None
    rng = random.Random(name)
    written = 0
    with AuditLog(path) as log:
        if count is not None:
            print("ready", flush=True)
            sys.stdin.readline()
        while count is None or written < count:
            size = rng.choice((1, 1, 2, 5))
            drafts = [
                AuditDraft(
                    AuditKind.TX_OUTCOME,
                    "scheduler",
                    name,
                    {"n": written + i, "amount": str(rng.randrange(10**30))},
                )
                for i in range(size)
            ]
            for entry in log.append_many(drafts):
                print(entry.id, entry.hash, flush=True)
            written += size
            if count is not None:
                time.sleep(rng.random() / 500)  # real writers pause; SQLite's lock isn't fair


if __name__ == "__main__":
    main()
