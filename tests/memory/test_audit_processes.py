"""Several processes, and processes killed mid-append, never break or fork the chain."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest

from memory.audit import AuditLog

REPO = Path(__file__).resolve().parents[2]


def _spawn(path: Path, name: str, count: int | None = None) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "tests.memory.appender", str(path), name]
    if count is not None:
        args.append(str(count))
    return subprocess.Popen(
        args,
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _committed(output: str) -> dict[int, str]:
    """``id hash`` per printed line; a half-printed last line (no newline yet) is ignored."""
    pairs = [line.split() for line in output.split("\n")[:-1]]
    return {int(p[0]): p[1] for p in pairs if len(p) == 2}


def _rest_of(child: subprocess.Popen[str]) -> tuple[str, str]:
    """What a killed child printed after the lines already read, through the same buffered
    reader (``communicate`` reads the raw pipe and would skip what ``readline`` buffered)."""
    child.stdin.close()
    out, err = child.stdout.read(), child.stderr.read()
    child.wait(timeout=30)
    return out, err


@pytest.mark.parametrize("seed", range(4))
def test_sigkill_mid_append_loses_no_committed_entry(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "audit.db"
    rng = random.Random(seed)
    children = [_spawn(path, f"killed-{seed}-{i}") for i in range(2)]
    # Wait until both are appending, then kill them mid-stream, each after a random number of
    # commits (they keep appending while their lines are read).
    first_lines = [
        "".join(child.stdout.readline() for _ in range(rng.randint(1, 100))) for child in children
    ]
    for child in children:
        os.kill(child.pid, signal.SIGKILL)
    printed: dict[int, str] = {}
    for child, first in zip(children, first_lines, strict=True):
        out, err = _rest_of(child)
        assert child.returncode == -signal.SIGKILL, err
        printed |= _committed(first + out)
    assert printed, "the children committed nothing before being killed"
    with AuditLog(path) as log:
        report = log.verify()
        assert report.ok, report.reason
        for entry_id, digest in printed.items():
            stored = log.get(entry_id)
            assert stored is not None and stored.hash == digest
        # The log stays writable after the crash.
        after = log.append("resumed", actor="system", correlation_id="after-crash")
        assert after.id == report.count + 1
        assert log.verify().ok


def test_concurrent_appenders_never_fork_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    AuditLog(path).close()
    per_child = 300
    children = [_spawn(path, f"writer-{i}", per_child) for i in range(4)]
    for child in children:  # every child has opened the log: start them together
        assert child.stdout.readline() == "ready\n", child.stderr.read()
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    printed: dict[int, str] = {}
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        ids = _committed(out)
        assert not (ids.keys() & printed.keys()), "two processes were given the same entry id"
        printed |= ids
    with AuditLog(path) as log:
        report = log.verify()
        assert report.ok, report.reason
        assert report.count >= 4 * per_child
        assert report.count == len(printed)
        for i in range(4):
            assert len(log.story(f"writer-{i}")) >= per_child
        entries = list(log.iter_all())
        parents = [e.prev_hash for e in entries]
        assert len(set(parents)) == len(parents)  # no two entries share a parent
        switches = sum(a.correlation_id != b.correlation_id for a, b in pairwise(entries))
        assert switches > 4, "the writers never interleaved; the test proved nothing"
