"""Writers of one database wait for each other asleep, not by trying SQLite's lock again and again;
a writer that dies, a lock file that is not ours, or a writer that takes no turn never stops the
others from writing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from memory.db import connect, write_transaction
from memory.writer_lock import lock_path, writer_turn

REPO = Path(__file__).resolve().parents[2]
HOLD_S = 1.0  # how long a holder keeps the write lock while a waiter is watched
PROMPT_S = 20  # well under the 30 s a writer waits for SQLite's lock before giving up


def _child(role: str, db: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.memory.writer", role, str(db)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _expect(child: subprocess.Popen[str], line: str) -> None:
    assert child.stdout is not None
    got = child.stdout.readline().strip()
    assert got == line, f"{got!r}; stderr: {child.stderr.read() if child.stderr else ''}"


def _begins_of(child: subprocess.Popen[str]) -> int:
    """How many BEGIN IMMEDIATE the writer sent before its transaction was under way."""
    out, err = child.communicate(timeout=PROMPT_S)
    assert child.returncode == 0, err
    word, count = out.splitlines()[-1].split()
    assert word == "wrote", out
    return int(count)


def _rows(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [r[0].split()[0] for r in conn.execute("SELECT who FROM rows ORDER BY rowid")]
    finally:
        conn.close()


def _table(db: Path) -> None:
    conn = connect(db).conn
    conn.execute("CREATE TABLE IF NOT EXISTS rows (who TEXT NOT NULL)")
    conn.close()


def test_a_writer_waits_asleep_for_another_process_and_asks_sqlite_once(tmp_path: Path) -> None:
    db = tmp_path / "policy.db"
    _table(db)
    holder = _child("hold", db)
    _expect(holder, "holding")
    writer = _child("write", db)
    _expect(writer, "waiting")
    time.sleep(HOLD_S)  # the window watched: a polling writer would try hundreds of times
    assert writer.poll() is None  # still waiting: the holder has not committed
    assert holder.stdin is not None
    holder.stdin.write("\n")
    holder.stdin.flush()
    _expect(holder, "committed")
    assert _begins_of(writer) == 1  # it slept until its turn, then began at once
    holder.wait(timeout=PROMPT_S)
    assert _rows(db) == ["holder", "writer"]


def _tickets_drawn(db: Path) -> int:
    """How many writers have queued on the database so far (the lock file's ticket counter)."""
    with open(f"{db}-lock", "rb") as lock_file:
        return int.from_bytes(lock_file.read(8).ljust(8, b"\0"), "little")


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PROMPT_S
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_waiting_writers_get_their_turns_in_the_order_they_came(tmp_path: Path) -> None:
    db = tmp_path / "policy.db"
    _table(db)
    holder = _child("hold", db)
    _expect(holder, "holding")
    writers = []
    for _ in range(5):
        drawn = _tickets_drawn(db)
        writers.append(_child("write", db))
        _expect(writers[-1], "waiting")
        _until(lambda drawn=drawn: _tickets_drawn(db) > drawn)  # it is in the queue
    assert holder.stdin is not None
    holder.stdin.write("\n")
    holder.stdin.flush()
    _expect(holder, "committed")
    assert [_begins_of(w) for w in writers] == [1] * 5
    holder.wait(timeout=PROMPT_S)
    conn = sqlite3.connect(db)
    order = [r[0] for r in conn.execute("SELECT who FROM rows ORDER BY rowid")]
    conn.close()
    assert order == [f"holder {holder.pid}"] + [f"writer {w.pid}" for w in writers]


def test_a_forked_child_does_not_keep_its_parents_turn(tmp_path: Path) -> None:
    path = lock_path(str(tmp_path / "policy.db"))
    read_end, write_end = os.pipe()
    with writer_turn(path, time.monotonic() + PROMPT_S) as held:
        assert held
        child = os.fork()
        if child == 0:  # lives on, holding copies of the parent's descriptors
            os.read(read_end, 1)
            os._exit(0)
    try:
        with writer_turn(path, time.monotonic() + 2) as held:
            assert held  # the parent's turn ended when it closed its file
    finally:
        os.write(write_end, b"x")
        os.waitpid(child, 0)


def test_a_writer_that_dies_holding_the_lock_does_not_wedge_the_others(tmp_path: Path) -> None:
    db = tmp_path / "policy.db"
    _table(db)
    holder = _child("hold", db)
    _expect(holder, "holding")
    waiting = _child("write", db)
    _expect(waiting, "waiting")
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=PROMPT_S)
    assert _begins_of(waiting) == 1
    later = _child("write", db)
    assert _begins_of(later) == 1
    assert _rows(db) == ["writer", "writer"]  # the dead holder's row was never committed


def test_threads_of_one_process_take_turns_like_processes(tmp_path: Path) -> None:
    db = tmp_path / "policy.db"
    _table(db)
    holding = connect(db).conn
    waiting = connect(db).conn
    begins: list[str] = []
    waiting.set_trace_callback(lambda sql: begins.append(sql) if "IMMEDIATE" in sql else None)

    def write() -> None:
        with write_transaction(waiting):
            waiting.execute("INSERT INTO rows VALUES ('writer')")

    with write_transaction(holding):
        holding.execute("INSERT INTO rows VALUES ('holder')")
        thread = threading.Thread(target=write)
        thread.start()
        thread.join(HOLD_S)
        assert thread.is_alive()
    thread.join(PROMPT_S)
    assert not thread.is_alive()
    assert len(begins) == 1
    assert _rows(db) == ["holder", "writer"]
    holding.close()
    waiting.close()


def test_a_wait_ends_at_its_deadline_and_a_turn_granted_late_is_given_back(
    tmp_path: Path,
) -> None:
    path = lock_path(str(tmp_path / "policy.db"))
    release = threading.Event()
    taken = threading.Event()

    def hold() -> None:
        with writer_turn(path, time.monotonic() + PROMPT_S) as held:
            assert held
            taken.set()
            release.wait(PROMPT_S)

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(PROMPT_S)
    with writer_turn(path, time.monotonic() + 0.2) as held:
        assert not held  # gave up at the deadline: the writer goes on without a turn
    release.set()
    holder.join(PROMPT_S)
    # the abandoned wait got the turn once the holder let go, and let go of it at once
    with writer_turn(path, time.monotonic() + PROMPT_S) as held:
        assert held


def test_a_writer_that_takes_no_turn_is_still_waited_for(tmp_path: Path) -> None:
    """An older release or the sqlite3 shell knows nothing of the lock file: SQLite's lock,
    tried again while it is busy, still keeps the two writers apart."""
    db = tmp_path / "policy.db"
    _table(db)
    shell = sqlite3.connect(db, isolation_level=None)
    shell.execute("BEGIN IMMEDIATE")
    shell.execute("INSERT INTO rows VALUES ('shell')")
    thread = threading.Thread(target=_write_one, args=(db,))
    thread.start()
    thread.join(0.3)
    assert thread.is_alive()
    shell.execute("COMMIT")
    shell.close()
    thread.join(PROMPT_S)
    assert _rows(db) == ["shell", "writer"]


def _write_one(db: Path) -> None:
    conn = connect(db).conn
    with write_transaction(conn):
        conn.execute("INSERT INTO rows VALUES ('writer')")
    conn.close()


def test_the_lock_file_is_the_owners_alone(tmp_path: Path) -> None:
    db = tmp_path / "policy.db"
    _write_one_table(db)
    assert (os.stat(f"{db}-lock").st_mode & 0o777) == 0o600


def _write_one_table(db: Path) -> None:
    _table(db)
    _write_one(db)


def test_a_lock_file_that_is_a_link_is_not_followed(tmp_path: Path) -> None:
    db = tmp_path / "policy.db"
    elsewhere = tmp_path / "elsewhere" / "made-through-a-link"
    elsewhere.parent.mkdir()
    os.symlink(elsewhere, f"{db}-lock")
    _write_one_table(db)
    assert not elsewhere.exists()
    assert _rows(db) == ["writer"]


def test_a_lock_file_that_cannot_be_opened_leaves_writers_to_sqlites_lock(tmp_path: Path) -> None:
    """As in a folder the writer may not create files in (root may create files anywhere, so a
    folder in the lock file's place stands for it)."""
    db = tmp_path / "policy.db"
    Path(f"{db}-lock").mkdir()
    _table(db)
    holder = _child("hold", db)
    _expect(holder, "holding")
    writer = _child("write", db)
    _expect(writer, "waiting")
    assert holder.stdin is not None
    holder.stdin.write("\n")
    holder.stdin.flush()
    _expect(holder, "committed")
    assert _begins_of(writer) >= 1  # it tried SQLite's lock until the holder was done
    holder.wait(timeout=PROMPT_S)
    assert _rows(db) == ["holder", "writer"]


@pytest.mark.skipif(os.getuid() != 0, reason="giving a file to another user needs root")
def test_a_lock_file_someone_else_owns_is_not_used(tmp_path: Path) -> None:
    db = tmp_path / "policy.db"
    foreign = Path(f"{db}-lock")
    foreign.touch(mode=0o666)
    os.chown(foreign, 4242, 4242)
    _write_one_table(db)  # its owner could hold it forever: the writer does not queue on it
    assert _rows(db) == ["writer"]
    assert foreign.stat().st_size == 0  # no ticket was drawn in it
    assert foreign.stat().st_uid == 4242
