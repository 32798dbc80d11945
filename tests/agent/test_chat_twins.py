"""Chat's slash commands say what their CLI twins say: they call the same functions.

Each runs as the user runs it, a separate ``near-agent`` process on a real home. Chat's /grants
once worded grant status itself and called an expired grant "expires 2020-01-01"; `grants list`
called it expired.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from agent.home import Home
from memory.audit import AuditLog
from memory.switch import KillSwitch
from policies.store import GrantBook

REPO = Path(__file__).resolve().parents[2]


def near_agent(home: Home, *args: str, stdin: str = "") -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    command = [sys.executable, "-m", "agent", "--home", str(home.root), *args]
    done = subprocess.run(
        command, env=env, input=stdin, capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout + done.stderr


def expire(home: Home, grant_id: str) -> None:
    """A new version of the grant whose expiry has passed: what time does to a stored grant."""
    book = GrantBook(home.policy_db)
    try:
        [row] = book.grants(grant_id)
        body = json.loads(row.body)
        body["expires_at"] = "2020-01-01T00:00:00Z"
        book.add({grant_id: json.dumps(body)}, None, now_us=time.time_ns() // 1000)
    finally:
        book.close()


def line_of(output: str, grant_id: str) -> str:
    [line] = [line for line in output.splitlines() if grant_id in line]
    return line


def test_grant_status_is_worded_alike_in_chat_and_grants_list(home: Home) -> None:
    expire(home, "demo-tasks")
    listed = near_agent(home, "grants", "list")
    chatted = near_agent(home, "chat", stdin="/grants\n/quit\n")
    for output in (listed, chatted):
        assert "expired" in line_of(output, "demo-tasks")
        assert "active" in line_of(output, "demo-transfers")


def test_chat_audit_shows_the_audit_list_table(home: Home) -> None:
    """`/audit` shows the newest intents as `audit list` does: one row per intent."""
    listed = near_agent(home, "audit", "list", "--limit", "10")
    chatted = near_agent(home, "chat", stdin="/audit\n/quit\n")
    ids = [re.findall(r"│ ([0-9a-f]{8}) │", output) for output in (listed, chatted)]
    assert ids[0] and ids[0] == ids[1], (listed, chatted)
    for output in (listed, chatted):
        assert "when (UTC)" in output and "what happened" in output


def paused(home: Home) -> bool:
    with AuditLog(home.audit_db) as audit:
        switch = KillSwitch(home.memory_db, audit)
        try:
            return switch.is_paused()
        finally:
            switch.close()


def test_chat_pause_and_resume_are_the_kill_switch_the_cli_pulls(home: Home) -> None:
    near_agent(home, "chat", stdin="/pause\n/quit\n")
    assert paused(home)
    chatted = near_agent(home, "chat", stdin="/resume\n/quit\n")
    assert not paused(home)
    assert "Resumed: scheduled strategies run again." in chatted  # as `near-agent resume` says
    with AuditLog(home.audit_db) as audit:
        reasons = [e.data.get("reason") for e in audit.entries(kind="resumed", limit=5)]
    assert reasons == ["chat /resume"]  # audited with its reason, as the CLI's twin is
