"""Round-2 attacks on "A damaged file changes nothing": one message naming the file, what is
wrong and what to do, exit 2, no traceback, nothing sent. Each command is its own `near-agent`
process on a real home, with its state folder (the nonce ledger) given by NEAR_AGENT_STATE."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from agent.home import STATE_ENV, Home
from devnet.server import RunningDevnet
from tests.agent.agent_runs import BOB, PAY, write_pay_grant
from tests.devnet.helpers import balance
from tools.nonce_ledger import LEDGER_FILE, LOCKS_DIR


def near_agent(home: Home, state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NEAR_AGENT_FAILPOINT"}
    env[STATE_ENV] = str(state)
    command = [sys.executable, "-m", "agent", "--home", str(home.root), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def assert_refused_naming(result: subprocess.CompletedProcess[str], path: Path) -> None:
    said = result.stdout + result.stderr
    assert "Traceback" not in said, said
    assert result.returncode == 2, said
    assert str(path) in said, said


@pytest.fixture
def paying(home: Home) -> Home:
    """The home with one grant that lets PAY run without a question."""
    write_pay_grant(home, "5")
    return home


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database, it was damaged\n" * 200)


def _folder(path: Path) -> None:
    path.mkdir()


@pytest.mark.parametrize(
    ("name", "how"),
    [(LEDGER_FILE, _garbage), (LEDGER_FILE, _folder), (LOCKS_DIR, _garbage)],
    ids=["ledger-garbage", "ledger-a-folder", "locks-a-file"],
)
def test_damaged_nonce_ledger_stops_with_exit_2(
    paying: Home, devnet: RunningDevnet, tmp_path: Path, name: str, how: Callable[[Path], None]
) -> None:
    """A damaged nonces.db in the state folder: README promises exit 2 naming the file. The
    ledger is opened inside the send (tools/nonce_ledger.py), where the executor turns the
    sqlite3.DatabaseError into a step failure ("transfer: failed: DatabaseError: file is not a
    database", exit 1) with neither the file's name nor what to do."""
    state = tmp_path / "state"
    state.mkdir()
    how(state / name)
    before = balance(devnet, BOB)
    result = near_agent(paying, state, "do", PAY, "--yes")
    assert balance(devnet, BOB) == before
    assert_refused_naming(result, state / name)


def test_key_file_that_is_a_directory_stops_with_exit_2(home: Home, tmp_path: Path) -> None:
    """agent.yaml's key_file naming a folder: a file the agent needs that it cannot use."""
    folder = tmp_path / "key.json"
    folder.mkdir()
    config = yaml.safe_load(home.config_file.read_text())
    config["key_file"] = str(folder)
    home.config_file.write_text(yaml.safe_dump(config))
    result = near_agent(home, tmp_path / "state", "do", PAY, "--yes")
    assert_refused_naming(result, folder)


def test_damaged_devnet_manifest_stops_with_exit_2(home: Home, tmp_path: Path) -> None:
    config = yaml.safe_load(home.config_file.read_text())
    manifest = tmp_path / "manifest.json"
    manifest.write_text('{"rpc_url": ')
    config["devnet_manifest"] = str(manifest)
    home.config_file.write_text(yaml.safe_dump(config))
    result = near_agent(home, tmp_path / "state", "do", PAY, "--yes")
    assert_refused_naming(result, manifest)


def test_agent_yaml_with_a_leap_second_stops_with_exit_2(home: Home, tmp_path: Path) -> None:
    """A malformed agent.yaml: PyYAML's timestamp constructor raises a bare ValueError for
    second 60, and load_config (agent/config.py) catches only OSError, RecursionError and
    YAMLError, so the command dies with a traceback instead of naming the file."""
    text = home.config_file.read_text()
    home.config_file.write_text(text + "rpc_url: 2027-06-30T23:59:60Z\n")
    result = near_agent(home, tmp_path / "state", "do", "what's my balance")
    assert_refused_naming(result, home.config_file)
