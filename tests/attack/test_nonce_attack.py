"""Attacks on nonce uniqueness: "a 'done' names a transaction that run alone sent".

A long-running process (a chat, the daemon) whose ledger files are removed under it (a cleanup
of ~/.local/state) keeps sending: the ledger makes them again on each send.

Two agent homes for the same account and key (a user with an interactive home and a scheduler
home, or two shells with different --home) each run the same intent at the same moment. Each
home's nonce ledger only knows its own processes, so both allocate the chain nonce + 1, sign the
same transaction byte for byte, and both report "done" for the one transfer the node executed.
The ledger belongs to the key: it lives in the user's state folder, which every home of the user
shares (here the test's NEAR_AGENT_STATE, inherited by both homes' processes).
"""

from __future__ import annotations

import os
import pty
import select
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from agent.home import Home
from agent.setup_home import write_config
from devnet.server import RunningDevnet
from memory.audit import AuditKind, AuditLog
from tests.agent.test_concurrent_identical_intents import (
    ALICE,
    BOB,
    CORRELATION,
    INTENT,
    NODE_LATENCY_S,
    TENTH,
    _agent,
    _agent_env,
    _command,
    _grants_without_first_time_confirmation,
)
from tests.devnet.helpers import balance
from tests.support.gate import Gate, release_together
from tests.support.grants import give_home_grants
from tools.nonce_ledger import LEDGER_FILE, LOCKS_DIR


def _payer_home(devnet: RunningDevnet, root: Path) -> Home:
    home = Home(root)
    manifest = devnet.state_dir / "manifest.json"
    write_config(home, network="devnet", account_id=ALICE, devnet_manifest=manifest)
    (home.root / "grants.yaml").write_text(_grants_without_first_time_confirmation())
    give_home_grants(home)
    added = _agent(home, "contacts", "add", "bob", BOB)
    assert added.returncode == 0, added.stdout + added.stderr
    planned = _agent(home, "plan", INTENT)
    assert planned.returncode == 0 and "policy: allow" in planned.stdout, planned.stdout
    return home


def _done_hash(home: Home, out: str) -> str:
    cid = CORRELATION.search(out).group(1)  # type: ignore[union-attr]
    with AuditLog(home.audit_db) as log:
        (outcome,) = log.entries(kind=AuditKind.TX_OUTCOME, correlation_id=cid, status="ok")
    (tx_hash,) = outcome.data["result"]["tx_hashes"]
    return tx_hash


@pytest.mark.slow
def test_two_homes_with_one_key_never_report_one_transfer_done_twice(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    homes = [_payer_home(fresh_devnet, tmp_path / name) for name in ("home-a", "home-b")]
    bob_before = balance(fresh_devnet, BOB)
    with Gate() as gate:
        processes = [
            subprocess.Popen(
                _command(home, "do", INTENT, "--yes"),
                env=_agent_env(gate.env("before_send")),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for home in homes
        ]
        outputs = release_together(gate, processes, fresh_devnet, latency_s=NODE_LATENCY_S)
    done = [
        (home, out)
        for home, (out, _) in zip(homes, outputs, strict=True)
        if "transfer: done" in out
    ]
    paid = balance(fresh_devnet, BOB) - bob_before
    hashes = [_done_hash(home, out) for home, out in done]
    # every "done" is a payment bob received, each under its own transaction
    assert paid == len(done) * TENTH, (paid, hashes, outputs)
    assert len(set(hashes)) == len(hashes), (hashes, outputs)
    with sqlite3.connect(homes[0].state_dir / LEDGER_FILE) as conn:
        signed = conn.execute("SELECT tx_hash, nonce FROM signatures").fetchall()
    assert len({nonce for _, nonce in signed}) == len(signed) >= len(done) == 2, (signed, outputs)
    assert not any((home.root / LEDGER_FILE).exists() for home in homes)


class _Terminal:
    """A near-agent process on a pseudo-terminal of its own, as a user runs ``chat``."""

    def __init__(self, command: list[str]) -> None:
        self.master, follower = pty.openpty()
        env = {**_agent_env(), "TERM": "dumb", "NO_COLOR": "1", "COLUMNS": "200"}
        self.process = subprocess.Popen(
            command, env=env, stdin=follower, stdout=follower, stderr=follower, close_fds=True
        )
        os.close(follower)
        self.seen = ""

    def expect(self, *patterns: str, timeout_s: float = 60) -> str:
        """Everything printed until one of ``patterns`` (AssertionError if it ends first)."""
        deadline = time.monotonic() + timeout_s
        while not any(p in self.seen for p in patterns):
            ready, _, _ = select.select([self.master], [], [], deadline - time.monotonic())
            try:
                chunk = os.read(self.master, 4096).decode(errors="replace") if ready else ""
            except OSError:  # the process ended and closed the terminal
                chunk = ""
            if not chunk:
                raise AssertionError(f"no {patterns} in: {self.seen}")
            self.seen += chunk
        hit = min(self.seen.index(p) + len(p) for p in patterns if p in self.seen)
        said, self.seen = self.seen[:hit], self.seen[hit:]
        return said

    def say(self, text: str) -> None:
        os.write(self.master, (text + "\n").encode())

    def close(self) -> int:
        try:
            return self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            os.close(self.master)


def test_a_long_running_chat_keeps_sending_after_the_ledger_files_are_removed(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    home = _payer_home(fresh_devnet, tmp_path / "home")
    state = home.state_dir
    removals = {
        "nothing": lambda: None,
        "the locks folder": lambda: shutil.rmtree(state / LOCKS_DIR),
        "the ledger database": lambda: (state / LEDGER_FILE).unlink(),
        "the whole state folder": lambda: shutil.rmtree(state),
    }
    bob_before = balance(fresh_devnet, BOB)
    chat = _Terminal(_command(home, "chat"))
    try:
        chat.expect("you>")
        for removed, remove in removals.items():
            remove()
            chat.say(INTENT)
            chat.expect("Go ahead?")
            chat.say("y")
            answer = chat.expect("(audit: near-agent audit show")
            assert "transfer: done" in answer, (removed, answer)
            chat.expect("you>")
        chat.say("/quit")
    finally:
        code = chat.close()
    assert code == 0
    assert balance(fresh_devnet, BOB) - bob_before == len(removals) * TENTH
    assert (state / LOCKS_DIR).is_dir() and (state / LEDGER_FILE).is_file()  # made again
