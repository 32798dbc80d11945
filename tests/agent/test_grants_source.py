"""The grant store is the one source of truth: a revoked grant never comes back by itself.

Every step is the user's own command in a separate `near-agent` process, on real files and the
devnet over HTTP; what the chain saw is read straight from the node.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from agent.demo import demo_grants
from agent.home import Home
from devnet.server import RunningDevnet
from memory.audit import AuditLog
from policies.store import GrantBook
from tests.policy.helpers import grants_doc, transfer_grant
from tests.support.chain_reads import usdc_and_nonce
from tests.support.grants import demo_grant_ids

SWAP = "swap 1 NEAR to USDC"  # allowed outright under the demo grants


def near_agent(home: Home, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "agent", "--home", str(home.root), *args]
    env = {k: v for k, v in os.environ.items() if k != "NEAR_AGENT_FAILPOINT"}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def grant_rows(home: Home) -> list[tuple[str, int, bool]]:
    book = GrantBook(home.policy_db)
    try:
        return [(r.grant_id, r.version, r.revoked) for r in book.grants(history=True)]
    finally:
        book.close()


def grant_audit(home: Home) -> list[str]:
    with AuditLog(home.audit_db) as log:
        return [str(e.kind) for e in log.entries(limit=None) if "grant" in str(e.kind)]


def write_demo_grants(path: Path) -> Path:
    path.write_text(demo_grants(datetime.now(UTC) + timedelta(days=1)))
    return path


@pytest.fixture
def new_home(devnet: RunningDevnet, tmp_path: Path) -> Home:
    """A home made by `init` alone; the user then adds HOME/grants.yaml with `grants add`."""
    home = Home(tmp_path / "home")
    manifest = devnet.state_dir / "manifest.json"
    ok(near_agent(home, "init", "--account", "alice.test.near", "--manifest", str(manifest)))
    ok(near_agent(home, "grants", "add", str(write_demo_grants(home.root / "grants.yaml"))))
    return home


def assert_revocation_holds(home: Home, devnet: RunningDevnet) -> None:
    """Revoke everything, then `do` and a daemon restart: nothing signed, nothing re-added."""
    before_rows = grant_rows(home)
    ok(near_agent(home, "grants", "revoke", "--all", "--reason", "stop"))
    chain_before = usdc_and_nonce(devnet)

    denied = near_agent(home, "do", SWAP, "--yes")
    assert denied.returncode == 1, denied.stdout + denied.stderr
    assert "denied" in denied.stdout
    ok(near_agent(home, "daemon", "--run-for", "0.5"))
    again = near_agent(home, "do", SWAP, "--yes")
    assert again.returncode == 1, again.stdout + again.stderr

    assert usdc_and_nonce(devnet) == chain_before  # nothing was signed
    rows = grant_rows(home)
    assert [(g, v) for g, v, _ in rows] == [(g, v) for g, v, _ in before_rows]  # no new version
    assert all(revoked for _, _, revoked in rows)
    assert "active" not in ok(near_agent(home, "grants", "list")).stdout
    assert "grant_added" not in grant_audit(home)[len(before_rows) :]


@pytest.mark.slow
def test_revoke_all_holds_for_a_home_made_by_init(new_home: Home, devnet: RunningDevnet) -> None:
    assert_revocation_holds(new_home, devnet)
    assert "grants_file" not in new_home.config_file.read_text()


@pytest.mark.slow
def test_revoke_all_holds_for_an_agent_yaml_naming_a_grants_file(
    new_home: Home, devnet: RunningDevnet
) -> None:
    """The shape `init` used to write: `grants_file: grants.yaml` is ignored, said once."""
    config = yaml.safe_load(new_home.config_file.read_text())
    config["grants_file"] = "grants.yaml"
    new_home.config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    assert_revocation_holds(new_home, devnet)
    notices = [
        near_agent(new_home, "do", SWAP, "--yes").stderr for _ in range(2)
    ]  # the notice was already given by the first `do` inside assert_revocation_holds
    assert not any("grants_file" in n for n in notices)


def test_the_ignored_grants_file_is_named_once(new_home: Home) -> None:
    config = yaml.safe_load(new_home.config_file.read_text())
    config["grants_file"] = "grants.yaml"
    new_home.config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    first = near_agent(new_home, "plan", "send 1 NEAR to bob.test.near")
    assert "grants_file" in first.stderr and "grants add" in first.stderr, first.stderr
    second = near_agent(new_home, "plan", "send 1 NEAR to bob.test.near")
    assert "grants_file" not in second.stderr


def test_adding_another_file_leaves_a_revoked_grant_revoked(new_home: Home) -> None:
    ok(near_agent(new_home, "grants", "revoke", "demo-swaps"))
    other = new_home.root / "other.yaml"
    doc = grants_doc(transfer_grant(id="pay-bob"))
    doc["grants"][0]["expires_at"] = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    other.write_text(yaml.safe_dump(doc))
    ok(near_agent(new_home, "grants", "add", str(other)))
    state = {g: revoked for g, _, revoked in grant_rows(new_home)}
    assert state["demo-swaps"] is True and state["pay-bob"] is False
    # The user adding the same grant again is the one way it returns: a new, audited version.
    readded = ok(near_agent(new_home, "grants", "add", str(new_home.root / "grants.yaml")))
    assert "demo-swaps: stored as version 2" in readded.stdout
    assert ("demo-swaps", 2, False) in grant_rows(new_home)


def test_init_applies_a_grants_file_once_and_audits_it(
    devnet: RunningDevnet, tmp_path: Path
) -> None:
    home = Home(tmp_path / "home")
    manifest = devnet.state_dir / "manifest.json"
    grants = write_demo_grants(tmp_path / "mine.yaml")
    made = near_agent(
        home, "init", "--account", "alice.test.near", "--manifest", str(manifest), "--grants",
        str(grants),
    )  # fmt: skip
    assert "demo-swaps: stored as version 1" in ok(made).stdout
    assert "grants_file" not in home.config_file.read_text()
    assert grant_audit(home).count("grant_added") == len(demo_grant_ids())
    ok(near_agent(home, "grants", "revoke", "--all"))
    near_agent(home, "do", SWAP, "--yes")
    assert all(revoked for _, _, revoked in grant_rows(home))
    assert len(grant_rows(home)) == len(demo_grant_ids())


def test_init_with_a_bad_grants_file_writes_nothing(devnet: RunningDevnet, tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    bad = tmp_path / "bad.yaml"
    bad.write_text("grants:\n  - id: a\n    id: b\n")
    made = near_agent(
        home, "init", "--account", "alice.test.near", "--manifest",
        str(devnet.state_dir / "manifest.json"), "--grants", str(bad),
    )  # fmt: skip
    assert made.returncode == 2, made.stdout + made.stderr
    assert str(bad) in made.stderr and "'id' appears twice" in made.stderr
    assert "Traceback" not in made.stderr
    assert not home.config_file.exists()
