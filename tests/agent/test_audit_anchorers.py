"""`audit verify --anchored` reads the anchors of every account that anchored this home's log.

Which accounts those are is recorded by `audit anchor` in the user's state folder, outside the
home: editing agent.yaml (the account, its key file) after emptying the log cannot hide an anchor.
Each command runs as its own near-agent process against the devnet over HTTP.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agent.home import Home
from memory.audit import AuditLog
from memory.audit.anchorers import Anchorer, AnchorerRecord
from tests.agent.test_grants_source import near_agent, ok
from tests.support.anchoring_home import anchoring_home

__all__ = ["anchoring_home"]


@pytest.fixture
def home(anchoring_home: Home) -> Home:
    """alice's home on a devnet of its own (anchors stay on chain for the next test)."""
    return anchoring_home


def _act_as(home: Home, account: str) -> None:
    """Point agent.yaml at another devnet account (and its key file, beside alice's)."""
    config = yaml.safe_load(home.config_file.read_text())
    config["account_id"] = account
    config["key_file"] = str(Path(config["key_file"]).with_name(f"{account}.json"))
    home.config_file.write_text(yaml.safe_dump(config))


def _empty_the_log(home: Home) -> None:
    for suffix in ("", "-wal", "-shm"):
        home.audit_db.with_name(home.audit_db.name + suffix).unlink(missing_ok=True)


def test_every_account_that_anchored_is_checked_and_named(home: Home) -> None:
    ok(near_agent(home, "audit", "anchor"))  # as alice
    _act_as(home, "bob.test.near")
    ok(near_agent(home, "audit", "anchor"))
    both = ok(near_agent(home, "audit", "verify", "--anchored"))
    assert "alice.test.near on notary.test.near (devnet)" in both.stdout
    assert "bob.test.near on notary.test.near (devnet)" in both.stdout
    assert "2 anchor(s) checked on chain" in both.stdout

    _empty_the_log(home)
    _act_as(home, "carol.test.near")  # never anchored
    emptied = near_agent(home, "audit", "verify", "--anchored")
    assert emptied.returncode == 1, emptied.stdout + emptied.stderr
    assert "the log was emptied or cut off" in emptied.stderr
    for account in ("alice", "bob", "carol"):
        assert f"{account}.test.near on notary.test.near" in emptied.stdout, account


def test_account_pins_whose_anchors_are_read(home: Home) -> None:
    ok(near_agent(home, "audit", "anchor"))
    _empty_the_log(home)
    pinned = near_agent(home, "audit", "verify", "--anchored", "--account", "alice.test.near")
    assert pinned.returncode == 1 and "by alice.test.near" in pinned.stderr, pinned.stderr
    other = ok(near_agent(home, "audit", "verify", "--anchored", "--account", "carol.test.near"))
    assert "Anchors read from chain: carol.test.near on notary.test.near" in other.stdout
    assert "alice.test.near" not in other.stdout
    assert "0 anchor(s) checked on chain" in other.stdout


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--account", "alice.test.near"], "only with --anchored"),
        (["--anchored", "--account", "Alice.near"], "--account"),
    ],
)
def test_a_misused_account_option_changes_nothing(home: Home, args: list[str], said: str) -> None:
    result = near_agent(home, "audit", "verify", *args)
    assert result.returncode == 2 and said in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_the_record_is_kept_outside_the_home(home: Home) -> None:
    ok(near_agent(home, "audit", "anchor"))
    assert not home.anchorers_db.is_relative_to(home.root)
    with AnchorerRecord(home.anchorers_db) as record:
        recorded = record.for_home(home.root)
    assert [(a.account, a.network, a.contract) for a in recorded] == [
        ("alice.test.near", "devnet", "notary.test.near")
    ]
    assert all(isinstance(a, Anchorer) and a.rpc_url.startswith("http") for a in recorded)


def test_a_damaged_record_stops_anchor_and_verify_with_exit_2(home: Home) -> None:
    home.anchorers_db.parent.mkdir(parents=True, exist_ok=True)
    home.anchorers_db.write_bytes(b"not a database " * 300)
    for args in (("audit", "verify", "--anchored"), ("audit", "anchor")):
        result = near_agent(home, *args)
        assert result.returncode == 2, result.stdout + result.stderr
        assert str(home.anchorers_db) in result.stderr and "damaged" in result.stderr
        assert "Traceback" not in result.stderr
    with AuditLog(home.audit_db) as log:
        assert log.anchors() == []  # nothing was published
