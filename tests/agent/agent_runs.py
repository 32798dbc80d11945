"""Separate near-agent processes for tests: run one, or start one paused at a named point.

A paused process (tools/failpoints.py, NEAR_AGENT_PAUSE) says so on stderr and waits on a named
pipe, so a test can act while it is held at an exact step and then let it go: no sleeps.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from agent.home import Home

BOB = "bob.test.near"
YOCTO = 10**24
PAY = "send 0.1 NEAR to bob.test.near"
TENTH = YOCTO // 10


def _env(failpoint: str | None, pause: tuple[str, Path] | None) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("NEAR_AGENT_FAILPOINT", "NEAR_AGENT_PAUSE")
    }
    if failpoint:
        env["NEAR_AGENT_FAILPOINT"] = failpoint
    if pause:
        env["NEAR_AGENT_PAUSE"] = f"{pause[0]}:{pause[1]}"
    return env


def _command(home: Home, args: tuple[str, ...]) -> list[str]:
    return [sys.executable, "-m", "agent", "--home", str(home.root), *args]


def near_agent(
    home: Home, *args: str, failpoint: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(home, args),
        env=_env(failpoint, None),
        capture_output=True,
        text=True,
        timeout=120,
    )


def start(
    home: Home, *args: str, failpoint: str | None = None, pause: tuple[str, Path] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        _command(home, args),
        env=_env(failpoint, pause),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def gate(directory: Path, name: str) -> Path:
    """A named pipe a paused process waits on."""
    path = directory / f"{name}.fifo"
    os.mkfifo(path)
    return path


def wait_paused(proc: subprocess.Popen[str], point: str) -> None:
    """Block until the process reports it is held at ``point`` (fails if it ends first)."""
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        if line.strip() == f"paused at {point}":
            return
        seen.append(line)
    out = proc.stdout.read() if proc.stdout else ""
    raise AssertionError(f"ended before pausing at {point}: {out}{''.join(seen)}")


def resume(fifo: Path) -> None:
    """Let the process held on ``fifo`` go on (fails at once if nobody is waiting on it)."""
    os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL, then reap it (a zombie would still look like a running owner to `ps`)."""
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def write_pay_grant(home: Home, window_near: str) -> None:
    """One grant: NEAR to bob, at most ``window_near`` NEAR per rolling hour, no confirmation."""
    expires = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc = {
        "grants": [
            {
                "id": "pay-bob",
                "expires_at": expires,
                "kinds": ["transfer"],
                "tokens": ["NEAR"],
                "recipients": [BOB],
                "per_action": {"NEAR": "1"},
                "windows": [{"token": "NEAR", "amount": window_near, "period": "1h"}],
            }
        ]
    }
    (home.root / "grants.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def reservations(home: Home) -> list[tuple[str, str]]:
    """(id, status) of every reservation, read straight from the file."""
    with sqlite3.connect(home.policy_db) as conn:
        return conn.execute("SELECT id, status FROM reservations ORDER BY created_us").fetchall()
