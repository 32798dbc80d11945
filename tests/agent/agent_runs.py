"""Separate near-agent processes for tests: run one, or start one paused at a named point.

A paused process is held at a waitpoint (tools/failpoints.py) on its own Gate
(tests/support/gate.py), so a test can act while it is held at an exact step and then let it go:
no sleeps.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import yaml

from agent.home import Home
from policies.store import GrantBook
from tests.support.gate import Gate
from tests.support.grants import give_home_grants
from tools import failpoints

BOB = "bob.test.near"
YOCTO = 10**24
PAY = "send 0.1 NEAR to bob.test.near"
TENTH = YOCTO // 10


def _env(failpoint: str | None, pause: tuple[str, Gate] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (failpoints.ENV, failpoints.WAIT_ENV)}
    if failpoint:
        env[failpoints.ENV] = failpoint
    if pause:
        env.update(pause[1].env(pause[0]))
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
    home: Home, *args: str, failpoint: str | None = None, pause: tuple[str, Gate] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        _command(home, args),
        env=_env(failpoint, pause),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def gate() -> Gate:
    """A gate one paused process waits at (close it, or ``resume``, to let it go)."""
    return Gate()


def wait_paused(proc: subprocess.Popen[str], held: Gate) -> None:
    """Block until the process is held at its gate (fails if it ends first)."""
    try:
        held.wait_for(1, timeout_s=60)
    except TimeoutError:
        out, err = proc.communicate(timeout=60)
        raise AssertionError(f"ended before pausing: {out}{err}") from None


def resume(held: Gate) -> None:
    """Let the process held at ``held`` go on."""
    held.close()


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL, then reap it (a zombie would still look like a running owner to `ps`)."""
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def write_pay_grant(home: Home, window_near: str) -> None:
    """The home's only grant, as `grants revoke --all` then `grants add` leave it: NEAR to bob, at
    most ``window_near`` NEAR per rolling hour, no confirmation."""
    book = GrantBook(home.policy_db)
    try:
        book.revoke(None, now_us=time.time_ns() // 1000, reason="test: one grant only")
    finally:
        book.close()
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
    give_home_grants(home)


def reservations(home: Home) -> list[tuple[str, str]]:
    """(id, status) of every reservation, read straight from the file."""
    with sqlite3.connect(home.policy_db) as conn:
        return conn.execute("SELECT id, status FROM reservations ORDER BY created_us").fetchall()
