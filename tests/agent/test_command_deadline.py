"""One deadline bounds a whole command: against an RPC node that accepts connections and never
answers, ``do`` and ``status`` end within ``rpc.deadline_s``, every retry and failover included,
and say what happened and what to do (on a devnet: how to start it)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import yaml

from agent.home import Home
from devnet.server import RunningDevnet
from tests.support.silent_rpc import silent_rpc

DEADLINE_S = 3
TIMEOUT_S = 30  # one request alone would outlast what the test allows
STARTUP_S = 15  # the interpreter and the agent's own start, generously (a loaded machine)


def _point_at(home: Home, url: str) -> None:
    body = yaml.safe_load(home.config_file.read_text())
    body["rpc_url"] = url
    body["rpc"] = {"timeout_s": TIMEOUT_S, "retries": 3, "deadline_s": DEADLINE_S}
    home.config_file.write_text(yaml.safe_dump(body))


@pytest.mark.parametrize(
    "args",
    [
        ("do", "what's my balance", "--yes"),
        ("status",),
        ("grants", "check", "send 1 NEAR to x.near"),
    ],
)
def test_a_silent_node_ends_the_command_at_its_deadline(
    home: Home, devnet: RunningDevnet, args: tuple[str, ...]
) -> None:
    with silent_rpc() as url:
        _point_at(home, url)
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "agent", "--home", str(home.root), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        took = time.monotonic() - started
    said = done.stdout + done.stderr
    assert done.returncode != 0 and "Traceback" not in said, said
    assert took < DEADLINE_S + STARTUP_S < TIMEOUT_S, f"took {took:.1f} s: {said}"
    assert f"did not answer within this command's {DEADLINE_S} s" in said, said
    assert "near-agent devnet" in said  # a devnet that does not answer: how to start it
