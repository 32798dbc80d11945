"""Damaged databases and malformed YAML: one message naming the file, what is wrong and what to
do, exit 2, no traceback, and nothing changed. Each command runs as its own `near-agent` process
on a real home whose file was truncated, overwritten or mis-written."""

from __future__ import annotations

import contextlib
import random
import shutil
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.demo import demo_grants
from agent.home import Home
from devnet.server import RunningDevnet
from tests.agent.test_grants_source import grant_rows, near_agent, ok
from tests.support.chain_reads import usdc_and_nonce

SWAP = "swap 0.1 NEAR to USDC"


@pytest.fixture(scope="module")
def pristine(devnet: RunningDevnet, tmp_path_factory: pytest.TempPathFactory) -> Home:
    """A home that has been used: grants, a contact, a swap, a schedule; every database exists."""
    home = Home(tmp_path_factory.mktemp("pristine") / "home")
    manifest = devnet.state_dir / "manifest.json"
    ok(near_agent(home, "init", "--account", "alice.test.near", "--manifest", str(manifest)))
    grants = home.root / "grants.yaml"
    grants.write_text(demo_grants(datetime.now(UTC) + timedelta(days=1)))
    ok(near_agent(home, "grants", "add", str(grants)))
    ok(near_agent(home, "contacts", "add", "bob", "bob.test.near"))
    ok(near_agent(home, "do", SWAP, "--yes"))
    ok(near_agent(home, "schedule", "add", "kind=claim_rewards", "id=claims", "every=1d"))
    for name in ("audit.db", "policy.db", "memory.db", "jobs.db", "pools.db"):
        assert (home.root / name).exists(), name
    return home


@pytest.fixture
def home(pristine: Home, tmp_path: Path) -> Home:
    copy = Home(tmp_path / "home")
    shutil.copytree(pristine.root, copy.root)
    return copy


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:300])


def overwrite(path: Path) -> None:
    path.write_bytes(random.Random(7).randbytes(8192))


def damage(path: Path, how: Callable[[Path], None]) -> None:
    # the stores leave their log beside the file: move it all into the file first, since the
    # damage is in the file itself, not a journal
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    how(path)


def assert_clear_refusal(result, path: Path, *words: str) -> None:
    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert "Traceback" not in out, out
    assert str(path) in result.stderr, out
    for word in words:
        assert word in result.stderr, out


DB_COMMANDS = {
    "audit.db": [
        ["do", SWAP, "--yes"],
        ["plan", "send 1 NEAR to bob"],
        ["reconcile"],
        ["audit", "verify"],
        ["audit", "list"],
        ["grants", "add", "grants.yaml"],
        ["grants", "revoke", "--all"],
    ],
    "policy.db": [
        ["do", SWAP, "--yes"],
        ["grants", "list"],
        ["grants", "add", "grants.yaml"],
        ["grants", "check", SWAP],
    ],
    "memory.db": [["do", SWAP, "--yes"], ["contacts", "list"], ["prefs", "show"], ["pause"]],
    "jobs.db": [["schedule", "list"], ["daemon", "--run-for", "0.2"]],
    "pools.db": [["do", SWAP, "--yes"], ["plan", SWAP]],
}
CASES = [
    (name, command, how)
    for name, commands in DB_COMMANDS.items()
    for command in commands
    for how in (truncate, overwrite)
]


@pytest.mark.parametrize(
    ("name", "command", "how"),
    CASES,
    ids=[f"{n}-{'-'.join(c[:2])}-{h.__name__}" for n, c, h in CASES],
)
@pytest.mark.slow
def test_a_damaged_database_is_one_clear_message(
    home: Home, devnet: RunningDevnet, name: str, command: list[str], how: Callable
) -> None:
    path = home.root / name
    damage(path, how)
    args = [str(home.root / a) if a == "grants.yaml" else a for a in command]
    grants_before = grant_rows(home) if name != "policy.db" else None
    chain_before = usdc_and_nonce(devnet)
    result = near_agent(home, *args)
    assert_clear_refusal(result, path, "damaged", "Restore it from a backup", "move it aside")
    if name == "pools.db":
        assert "loses nothing" in result.stderr
    assert usdc_and_nonce(devnet) == chain_before  # nothing was signed
    if grants_before is not None:
        assert grant_rows(home) == grants_before  # nothing was stored or revoked


CONFIGS = {
    "bad-syntax": b"network: devnet\naccount_id: [alice.test.near\n",
    "wrong-type": b"network: devnet\naccount_id: alice.test.near\nrpc: {retries: many}\n",
    "not-a-mapping": b"- network\n- devnet\n",
    "bad-encoding": b"network: devnet\naccount_id: alice\xff.test.near\n",
    "duplicate-key": b"network: devnet\naccount_id: alice.test.near\naccount_id: bob.test.near\n",
}


@pytest.mark.parametrize("kind", sorted(CONFIGS))
@pytest.mark.parametrize(
    "command",
    [
        ["do", SWAP, "--yes"],
        ["plan", "send 1 NEAR to bob"],
        ["daemon", "--run-for", "0.2"],
        ["grants", "check", SWAP],
    ],
    ids=["do", "plan", "daemon", "grants-check"],
)
def test_a_malformed_agent_yaml_is_one_clear_message(
    home: Home, devnet: RunningDevnet, kind: str, command: list[str]
) -> None:
    home.config_file.write_bytes(CONFIGS[kind])
    chain_before = usdc_and_nonce(devnet)
    result = near_agent(home, *command)
    assert_clear_refusal(result, home.config_file, "near-agent init --force")
    assert usdc_and_nonce(devnet) == chain_before


GRANT_FILES = {
    "bad-syntax": (b"grants:\n  - id: [pay\n", "not readable YAML"),
    "wrong-type": (b"grants:\n  - id: pay\n    kinds: 5\n    expires_at: 2027-01-01\n", "kinds"),
    "bad-encoding": (b"grants:\n  - id: p\xe9y\n", "not UTF-8"),
    "duplicate-key": (
        b"grants:\n  - id: pay\n    kinds: [transfer]\n    kinds: [swap]\n",
        "'kinds' appears twice (lines 3 and 4)",
    ),
    "missing": (None, "does not exist"),
}


@pytest.mark.parametrize("kind", sorted(GRANT_FILES))
def test_a_malformed_grants_file_is_one_clear_message(home: Home, kind: str) -> None:
    body, says = GRANT_FILES[kind]
    path = home.root / "mine.yaml"
    if body is not None:
        path.write_bytes(body)
    before = grant_rows(home)
    result = near_agent(home, "grants", "add", str(path))
    assert_clear_refusal(result, path, says, "nothing was stored", "near-agent grants add FILE")
    assert grant_rows(home) == before


def test_expiry_beyond_a_year_needs_the_flag(home: Home) -> None:
    path = home.root / "long.yaml"
    path.write_text(demo_grants(datetime.now(UTC) + timedelta(days=400)))
    refused = near_agent(home, "grants", "add", str(path))
    assert_clear_refusal(refused, path, "more than 365 days", "--allow-long-expiry")
    added = ok(near_agent(home, "grants", "add", str(path), "--allow-long-expiry"))
    assert "stored as version 2" in added.stdout


@pytest.mark.parametrize(
    "command", [["do", SWAP, "--yes"], ["grants", "check", SWAP]], ids=["do", "grants-check"]
)
def test_native_near_as_the_stablecoin_is_one_clear_message(
    home: Home, devnet: RunningDevnet, command: list[str]
) -> None:
    """USD limits are priced against a fungible token's pools; native NEAR has none to name."""
    with home.config_file.open("a") as config:
        config.write("defaults: {stablecoin: near}\n")
    chain_before = usdc_and_nonce(devnet)
    result = near_agent(home, *command)
    assert_clear_refusal(result, home.config_file, "defaults.stablecoin", "USDC")
    assert usdc_and_nonce(devnet) == chain_before
