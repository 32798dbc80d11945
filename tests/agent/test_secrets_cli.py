"""Secrets never leave the agent: echoed API keys are redacted everywhere, pasted keys refused.

Each command runs as its own ``near-agent`` process against the devnet over HTTP and a local
OpenAI-compatible endpoint (tests/support/openai_replay.py) that echoes the API key back; then
every file and every byte printed is searched for the secret.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import base58
import pytest

from agent.home import Home
from memory.audit import AuditLog
from tests.support.openai_replay import ModelTurn, ReplayServer, ToolCall
from tools.keypair import KeyPair


def near_agent(home: Home, *args: str, api_key: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENAI_API_KEY": api_key}
    command = [sys.executable, "-m", "agent", "--home", str(home.root), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def _stored_bytes(home: Home) -> bytes:
    """Every byte the agent keeps: its home (databases with their WAL files, exports...) and the
    user's state folder (the nonce ledger)."""
    files = [*sorted(home.root.rglob("*")), *sorted(home.state_dir.rglob("*"))]
    return b"".join(p.read_bytes() for p in files if p.is_file())


@pytest.mark.parametrize(
    "api_key",
    ["p9Xq2LmZ7rTq4vW8yB3nK6dF1hJ5sA0cE4", "sk-proj-9Xq2LmZ7rTq4vW8yB3nK6dF1hJ5sA0cQ"],
    ids=["no-prefix", "sk-prefix"],
)
@pytest.mark.slow
def test_an_echoed_api_key_appears_nowhere(
    llm_home: tuple[Home, ReplayServer], api_key: str
) -> None:
    home, server = llm_home
    server.script(
        ModelTurn(content="Which account? (my key is {api_key})"),
        ModelTurn(
            tool_calls=[
                ToolCall("transfer", {"receiver_id": "{api_key}", "amount": "1", "token": "NEAR"})
            ]
        ),
    )
    export = home.root / "export.jsonl"
    results = [
        near_agent(home, "plan", "send 1 NEAR to bob", api_key=api_key),
        near_agent(home, "do", "--yes", "send 1 NEAR to bob", api_key=api_key),
        near_agent(home, "audit", "export", api_key=api_key),
        near_agent(home, "audit", "export", "-o", str(export), api_key=api_key),
        near_agent(home, "audit", "export", "--format", "csv", api_key=api_key),
        near_agent(home, "audit", "list", api_key=api_key),
    ]
    assert len(server.requests) == 2  # both intents reached the endpoint, which echoed the key
    assert export.exists() and results[2].stdout.strip()
    with AuditLog(home.audit_db) as log:
        story = log.entries(kind="plan")
    assert len(story) == 1 and "[REDACTED]" in str(story[0].data)  # `do` audits; `plan` shows
    assert "[REDACTED]" in results[0].stdout  # what the model said, shown without the key
    for result in results:
        for said in (result.stdout, result.stderr):
            assert api_key.lower() not in said.lower(), result.args  # nor lowercased in a hint
    stored = _stored_bytes(home).lower()
    assert api_key.lower().encode() not in stored
    with sqlite3.connect(home.memory_db) as db:  # the conversation was stored, redacted
        texts = [row[0] for row in db.execute("SELECT text FROM conversation")]
    assert texts and not any(api_key in t for t in texts)


def _secret_key() -> str:
    return KeyPair.generate().secret_key


PASTED = {
    "ed25519-key": lambda: f"here is my key {_secret_key()}",
    "bare-key": lambda: f"key {_secret_key().removeprefix('ed25519:')}",
    "hex-key": lambda: f"key {base58.b58decode(_secret_key()[8:]).hex()}",
    "seed-phrase": lambda: (
        "my words are legal winner thank year wave sausage worth useful legal winner thank yellow"
    ),
    "api-key": lambda: "use sk-live-4f9Q2x7LmZ0aB3cD5eF6gH8iJ",
}


@pytest.mark.parametrize("command", ["do", "plan"])
@pytest.mark.parametrize("kind", sorted(PASTED))
def test_a_pasted_secret_is_refused_before_any_model_or_store(
    llm_home: tuple[Home, ReplayServer], command: str, kind: str
) -> None:
    home, server = llm_home
    pasted = PASTED[kind]()
    secret = pasted.split()[-1] if kind != "seed-phrase" else "legal winner thank"
    result = near_agent(home, command, f"send 1 NEAR to bob.test.near {pasted}", api_key="k" * 40)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Refused" in result.stderr and "Nothing was stored" in result.stderr
    assert "Traceback" not in result.stderr
    assert secret not in result.stdout + result.stderr
    assert server.requests == []  # the model never saw it
    assert secret.encode() not in _stored_bytes(home)
    with AuditLog(home.audit_db) as log:
        assert log.entries(kind="user_message") == [] and log.entries(kind="plan") == []
    if home.memory_db.exists():
        with sqlite3.connect(home.memory_db) as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
            if "conversation" in tables:
                assert db.execute("SELECT COUNT(*) FROM conversation").fetchone()[0] == 0
