"""Files the agent refuses to use, each through the user's own `near-agent` process: one message
naming the file, what is wrong and what to do, exit 2, no traceback, nothing changed or sent.

These close the classes behind tests/attack/test_round2_*.py: the demo's folder, token names in
a grants file, YAML values no constructor can build, a strategy file, the nonce ledger."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.demo import DEMO_MARK
from agent.home import STATE_ENV, Home
from agent.scheduler.daemon import jobs_db
from devnet.server import RunningDevnet
from memory.jobs import JobStore
from tests.agent.agent_runs import BOB, PAY, write_pay_grant
from tests.agent.test_grants_source import grant_rows, near_agent, ok
from tests.devnet.helpers import balance
from tests.support.grants import demo_grant_ids
from tools.nonce_ledger import LEDGER_FILE


def refused(result: subprocess.CompletedProcess[str], *named: object) -> str:
    said = result.stdout + result.stderr
    assert "Traceback" not in said, said
    assert result.returncode == 2, said
    for name in named:
        assert str(name) in said, said
    return said


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def demo(folder: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NEAR_AGENT_FAILPOINT"}
    command = [sys.executable, "-m", "agent", "demo", "--dir", str(folder)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


# --------------------------------------------------------------------------- the demo's folder


def test_demo_runs_again_in_the_folder_it_made(tmp_path: Path) -> None:
    """A second `demo --dir` on the demo's own folder starts its session again, and its own
    grants are the only ones there."""
    folder = tmp_path / "demo"
    ok(demo(folder))
    assert (folder / DEMO_MARK).is_file()
    again = ok(demo(folder))
    assert "audit log verified" in again.stdout
    ids = {grant_id for grant_id, _, _ in grant_rows(Home(folder))}
    assert ids == demo_grant_ids()


@pytest.mark.parametrize(
    "made",
    [
        lambda root: (root / "notes.txt").write_text("mine\n"),
        lambda root: (root / ".hidden").mkdir(),
    ],
    ids=["a-file", "a-hidden-folder"],
)
def test_demo_refuses_a_folder_holding_anything_it_did_not_make(
    tmp_path: Path, made: Callable[[Path], object]
) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    made(folder)
    before = snapshot(folder)
    said = refused(demo(folder), folder)
    assert "near-agent init" in said  # what to do instead
    assert snapshot(folder) == before and not (folder / DEMO_MARK).exists()


def test_demo_refuses_a_file(tmp_path: Path) -> None:
    file = tmp_path / "demo"
    file.write_text("not a folder\n")
    refused(demo(file), file)
    assert file.read_text() == "not a folder\n"


# --------------------------------------------------------------------------- token names


def _grants_with_tokens(home: Home, tokens: str, symbol: str) -> Path:
    expires = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    path = home.root / "tokens.yaml"
    path.write_text(
        f"""tokens:
{tokens}
grants:
- id: pay-tokens
  expires_at: "{expires}"
  kinds: [transfer]
  tokens: [{symbol}]
  recipients: [{BOB}]
  per_action: {{{symbol}: "5"}}
"""
    )
    return path


@pytest.mark.parametrize(
    ("tokens", "symbol", "both"),
    [
        (
            "  Usdc: {contract_id: usdc.test.near, decimals: 6}\n"
            "  uSDC: {contract_id: evil.test.near, decimals: 6}",
            "Usdc",
            ("Usdc", "uSDC"),
        ),
        ("  near: {contract_id: evil.test.near, decimals: 24}", "near", ("near",)),
        ("  Near: {contract_id: evil.test.near, decimals: 24}", "NEAR", ("Near",)),
        (
            "  USDC: {contract_id: usdc.test.near, decimals: 6}\n"
            "  usdc.test.near: {contract_id: evil.test.near, decimals: 6}",
            "usdc.test.near",
            ("USDC", "usdc.test.near"),
        ),
        (
            "  USDC: {contract_id: usdc.test.near, decimals: 6}\n"
            "  BIG: {contract_id: usdc.test.near, decimals: 18}",
            "BIG",
            ("USDC", "BIG"),
        ),
    ],
    ids=["case-only", "native-near", "native-near-other-case", "a-contract-id", "two-decimals"],
)
def test_a_token_name_that_could_mean_two_tokens_is_refused(
    home: Home, tokens: str, symbol: str, both: tuple[str, ...]
) -> None:
    """Each name under `tokens:` means one token whichever entry comes last; otherwise the
    whole file is refused, naming both entries, and nothing is stored."""
    before = grant_rows(home)
    grants = _grants_with_tokens(home, tokens, symbol)
    refused(near_agent(home, "grants", "add", str(grants)), grants, *both)
    assert grant_rows(home) == before


def test_a_token_under_two_names_with_the_same_pin_is_accepted(home: Home) -> None:
    """Two names for one contract with one number of decimals mean the same thing: an alias."""
    grants = _grants_with_tokens(
        home,
        "  USDC: {contract_id: usdc.test.near, decimals: 6}\n"
        "  dollars: {contract_id: usdc.test.near, decimals: 6}",
        "dollars",
    )
    ok(near_agent(home, "grants", "add", str(grants)))
    assert ("pay-tokens", 1, False) in grant_rows(home)


# --------------------------------------------------------------------------- YAML values


@pytest.mark.parametrize(
    "value",
    ["2027-06-30T23:59:60Z", "2027-02-30", "2027-13-01T00:00:00Z"],
    ids=["second-60", "february-30", "month-13"],
)
def test_a_yaml_value_no_constructor_can_build_names_the_file_and_line(
    home: Home, value: str
) -> None:
    """PyYAML builds timestamps itself and raises a bare ValueError for impossible ones; every
    file read through load_yaml reports it as a YAML error at its line instead."""
    before = home.config_file.read_text()
    lines = before.count("\n")
    home.config_file.write_text(before + f"written_at: {value}\n")  # a key not yet there
    said = refused(near_agent(home, "do", "what's my balance"), home.config_file)
    assert f"line {lines + 1}" in said


# --------------------------------------------------------------------------- strategy files


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("kind: claim_rewards\nid: claims\nevery: 1d\nevery: 1h\n", "appears twice"),
        ("kind: claim_rewards\nid: claims\nevery: 1d\nstart: 2027-06-30T23:59:60Z\n", "line 4"),
        ("- kind: claim_rewards\n", "one strategy"),
    ],
    ids=["key-twice", "leap-second", "a-list"],
)
def test_schedule_add_file_is_read_like_every_user_file(
    home: Home, text: str, problem: str
) -> None:
    strategy = home.root / "strategy.yaml"
    strategy.write_text(text)
    said = refused(near_agent(home, "schedule", "add", "--file", str(strategy)), strategy)
    assert problem in said
    with JobStore(jobs_db(home)) as store:
        assert store.strategies() == []


# --------------------------------------------------------------------------- the nonce ledger


def _state_a_file(state: Path) -> Path:
    state.rmdir()
    state.write_text("not a folder\n")
    return state


def _ledger_unreadable(state: Path) -> Path:
    ledger = state / LEDGER_FILE
    ledger.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4080)  # a header, then garbage
    return ledger


@pytest.mark.parametrize(
    "damage",
    [_state_a_file, _ledger_unreadable],
    ids=["state-folder-a-file", "ledger-bad-header"],
)
def test_a_damaged_ledger_stops_the_send_and_its_remedy_works(
    home: Home, devnet: RunningDevnet, tmp_path: Path, damage: Callable[[Path], Path]
) -> None:
    """Nothing is sent and the reservation is released: after the remedy the message gives
    (delete the ledger), the same transfer goes through under the same one-transfer budget."""
    write_pay_grant(home, "0.1")  # room for exactly one PAY in the window
    state = tmp_path / "state"
    state.mkdir()
    damaged = damage(state)
    env = {k: v for k, v in os.environ.items() if k != "NEAR_AGENT_FAILPOINT"}
    env[STATE_ENV] = str(state)
    command = [sys.executable, "-m", "agent", "--home", str(home.root), "do", PAY, "--yes"]
    before = balance(devnet, BOB)
    said = refused(subprocess.run(command, env=env, capture_output=True, text=True), damaged)
    assert "safe to delete when no near-agent process is running" in said
    assert balance(devnet, BOB) == before
    if damaged.is_dir():
        for child in sorted(damaged.rglob("*"), reverse=True):
            child.unlink() if child.is_file() else child.rmdir()
        damaged.rmdir()
    else:
        damaged.unlink()
    ok(subprocess.run(command, env=env, capture_output=True, text=True))
    assert balance(devnet, BOB) > before
