"""`near-agent chat` driven through a pseudo-terminal, keys as a user presses them.

Before: Ctrl-C on a half-typed line left the next intent to die after its plan (exit 130);
Ctrl-C on an empty prompt printed ^C and no prompt; Ctrl-D left without a newline; arrow keys
typed escape codes; a spinner overwrote the y/N question; a pasted block ran line by line.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from agent.home import Home
from memory.audit import AuditLog

REPO = Path(__file__).resolve().parents[2]
PROMPT = "you>"
LEFT, RIGHT, UP = "\x1b[D", "\x1b[C", "\x1b[A"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def chat(home: Home) -> Iterator[pexpect.spawn]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TERM": "xterm", "COLUMNS": "200"}
    env.pop("NO_COLOR", None)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "agent", "--home", str(home.root), "chat"],
        env=env,
        encoding="utf-8",
        timeout=90,
        dimensions=(40, 200),
    )
    child.expect(PROMPT)
    try:
        yield child
    finally:
        if child.isalive():
            child.terminate(force=True)


def intents(home: Home) -> list[str]:
    """What reached the audit log as the user's words."""
    with AuditLog(home.audit_db) as log:
        return [e.data["text"] for e in log.entries(kind="user_message")]


def quit_cleanly(child: pexpect.spawn) -> None:
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_ctrl_c_on_a_half_typed_line_discards_it_and_the_next_intent_runs(
    chat: pexpect.spawn, home: Home
) -> None:
    chat.send("send 1 NEAR to bo")
    chat.sendintr()
    chat.expect(PROMPT, timeout=60)
    chat.sendline("what's my balance")
    chat.expect("balance: done")
    chat.expect(PROMPT)
    assert intents(home) == ["what's my balance"]
    quit_cleanly(chat)


def test_ctrl_c_on_an_empty_prompt_gives_a_fresh_prompt(chat: pexpect.spawn) -> None:
    chat.sendintr()
    chat.expect(PROMPT, timeout=60)
    chat.sendintr()
    chat.expect(PROMPT, timeout=60)
    quit_cleanly(chat)


def test_ctrl_d_prints_a_newline_and_exits_0(chat: pexpect.spawn) -> None:
    chat.sendeof()
    chat.expect(pexpect.EOF)
    assert chat.before.endswith("\r\n")
    chat.close()
    assert chat.exitstatus == 0


def test_arrow_keys_edit_the_line_and_recall_history(chat: pexpect.spawn, home: Home) -> None:
    chat.send(f"list open task{LEFT}{RIGHT}s\r")
    chat.expect("list_tasks: done")
    chat.expect(PROMPT)
    chat.send(f"{UP}\r")  # the line before, again
    chat.expect("list_tasks: done")
    chat.expect(PROMPT)
    assert intents(home) == ["list open tasks", "list open tasks"]
    quit_cleanly(chat)
    history = home.root / "chat_history"
    assert stat.S_IMODE(history.stat().st_mode) == 0o600
    assert "list open tasks" in history.read_text()


def test_a_line_refused_at_the_door_is_not_kept_in_the_history(
    chat: pexpect.spawn, home: Home
) -> None:
    chat.sendline("send 1 NEAR to bob\u200b.test.near")
    chat.expect("Refused")
    chat.expect(PROMPT)
    quit_cleanly(chat)
    history = home.root / "chat_history"
    assert not history.exists() or "bob" not in history.read_text()


def test_the_spinner_stops_before_the_question_and_stays_off_while_it_waits(
    chat: pexpect.spawn,
) -> None:
    chat.sendline("send 3 NEAR to bob.test.near")  # above 2 NEAR: the grant asks
    chat.expect(r"Go ahead\? \[y/N\]: ")
    # nothing is drawn while the answer is awaited: no spinner frame overwrites the question
    assert chat.expect(["working", pexpect.TIMEOUT], timeout=2) == 1
    chat.send("n")
    chat.expect("n")  # the typed answer is shown
    chat.send("\r")
    chat.expect("transfer: not sent: you declined")
    chat.expect(PROMPT)
    quit_cleanly(chat)


def test_ctrl_c_at_the_question_answers_no_and_the_chat_goes_on(chat: pexpect.spawn) -> None:
    chat.sendline("send 3 NEAR to bob.test.near")
    chat.expect(r"Go ahead\? \[y/N\]: ")
    chat.sendintr()
    chat.expect("transfer: not sent: you declined")
    chat.expect(PROMPT)
    chat.sendline("what's my balance")
    chat.expect("balance: done")
    chat.expect(PROMPT)
    quit_cleanly(chat)


def test_a_paste_is_shown_and_runs_as_one_request_only_on_yes(
    chat: pexpect.spawn, home: Home
) -> None:
    chat.send("what's my balance\nlist open tasks\n")  # arrives together: a paste
    chat.expect("You pasted 2 lines")
    chat.expect(r"Go ahead\? \[y/N\]: ")
    chat.sendline("n")
    chat.expect(PROMPT)
    assert intents(home) == []
    chat.send("what's my balance\nlist open tasks\n")
    chat.expect(r"Go ahead\? \[y/N\]: ")
    chat.sendline("y")
    chat.expect("balance: done")
    chat.expect("list_tasks: done")
    chat.expect(PROMPT)
    assert intents(home) == ["what's my balance; list open tasks"]
    quit_cleanly(chat)


def test_replies_in_chat_follow_the_users_language(chat: pexpect.spawn) -> None:
    chat.sendline("残高を教えて")
    chat.expect("balance: 完了: 残高")
    chat.expect(PROMPT)
    chat.sendline("我的余额")
    chat.expect("balance: 完成: 余额")
    chat.expect(PROMPT)
    quit_cleanly(chat)


def test_escape_codes_without_a_line_editor_are_rejected_and_never_logged(home: Home) -> None:
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "agent", "--home", str(home.root), "chat"],
        input=f"list open task{LEFT}s\n/quit\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "terminal control codes (list open task\\u001b[Ds)" in done.stdout
    assert intents(home) == []
