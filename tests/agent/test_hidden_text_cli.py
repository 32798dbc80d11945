"""Text that lies to the eye is refused where the user types it, and shown to them escaped.

``near-agent plan`` and ``do`` run as their own processes on the devnet. An account written with
a right-to-left override displays as ``bob.test.near`` but reads ``raen.tset.bob``; ``¹`` looks
like a 1. Neither may reach a planner, a plan or a store.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from agent.home import Home
from memory.audit import AuditLog

RLO = "\u202e"


def near_agent(home: Home, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "agent", "--home", str(home.root), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


HIDDEN = {
    "right-to-left override": (
        f"send 1 NEAR to {RLO}raen.tset.bob",
        "\\u202eraen.tset.bob",
        "U+202E RIGHT-TO-LEFT OVERRIDE",
    ),
    "zero-width space": (
        "send 1 NEAR to bob\u200b.test.near",
        "bob\\u200b.test.near",
        "U+200B ZERO WIDTH SPACE",
    ),
    "first-strong isolate": (
        "send 1 NEAR to \u2068bob.test.near\u2069",
        "\\u2068bob.test.near\\u2069",
        "U+2068 FIRST STRONG ISOLATE",
    ),
    "byte-order mark": ("\ufeffsend 1 NEAR to bob.test.near", "\\ufeffsend", "U+FEFF"),
}


@pytest.mark.parametrize("command", ["plan", "do"])
@pytest.mark.parametrize("case", sorted(HIDDEN))
def test_hidden_characters_in_an_intent_are_refused_and_shown(
    home: Home, command: str, case: str
) -> None:
    intent, shown, named = HIDDEN[case]
    result = near_agent(home, command, intent)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert shown in result.stderr and named in result.stderr
    assert "Nothing was stored" in result.stderr and "Traceback" not in result.stderr
    assert "raen.tset.bob" not in result.stdout  # never planned as what it really says
    with AuditLog(home.audit_db) as log:
        assert log.entries(kind="user_message") == [] and log.entries(kind="plan") == []


@pytest.mark.parametrize("command", ["plan", "do"])
@pytest.mark.parametrize(
    ("amount", "named"),
    [("¹", "U+00B9 SUPERSCRIPT ONE"), ("①", "U+2460 CIRCLED DIGIT ONE"), ("١", "U+0661")],
)
def test_a_look_alike_digit_is_not_a_digit(
    home: Home, command: str, amount: str, named: str
) -> None:
    result = near_agent(home, command, f"send {amount} NEAR to bob.test.near")
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert named in result.stderr and "not read as a digit" in result.stderr
    assert "Send 1 NEAR" not in result.stdout
    with AuditLog(home.audit_db) as log:
        assert log.entries(kind="user_message") == []


def test_full_width_digits_still_are_digits(home: Home) -> None:
    result = near_agent(home, "plan", "--json", "--no-check", "１０ NEARをbob.test.nearに送って")
    body = json.loads(result.stdout)
    assert body["steps"][0]["args"]["amount"] == "10", body


@pytest.mark.parametrize(
    ("account", "shown"),
    [(f"{RLO}raen.tset.bob", "\\u202eraen.tset.bob"), ("bob\u200d.test.near", "bob\\u200d")],
)
def test_hidden_characters_in_a_contact_are_refused_and_shown(
    home: Home, account: str, shown: str
) -> None:
    result = near_agent(home, "contacts", "add", "bob", account)
    assert result.returncode != 0
    assert shown in result.stdout + result.stderr
    assert "invisible or direction-changing" in result.stdout + result.stderr
    listed = near_agent(home, "contacts", "list")
    assert "No contacts" in listed.stdout


def test_plan_without_a_configured_home_refuses_too(tmp_path) -> None:
    home = Home(tmp_path / "unconfigured")
    home.root.mkdir()  # a home with no agent.yaml (a folder that is no home is refused first)
    result = near_agent(home, "plan", f"send 1 NEAR to {RLO}raen.tset.bob")
    assert result.returncode == 2 and "\\u202eraen.tset.bob" in result.stderr, result.stderr
    assert "raen.tset.bob" not in result.stdout


def test_chat_refuses_the_line_and_carries_on(home: Home) -> None:
    lines = f"send 1 NEAR to {RLO}raen.tset.bob\n/help\n/quit\n"
    command = [sys.executable, "-m", "agent", "--home", str(home.root), "chat"]
    result = subprocess.run(command, input=lines, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "\\u202eraen.tset.bob" in result.stdout and "Nothing was stored" in result.stdout
    assert "/balance" in result.stdout  # the /help after the refused line was answered
    with AuditLog(home.audit_db) as log:
        assert log.entries(kind="user_message") == []
