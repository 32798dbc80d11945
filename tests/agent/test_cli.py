"""The CLI's intent commands and the demo, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from agent.cli import app
from agent.home import Home
from tests.support.grants import demo_grant_ids

runner = CliRunner()


def cli(home: Home, *args: str):
    return runner.invoke(app, ["--home", str(home.root), *args])


def test_plan_json_shape_with_a_dry_run_check(home: Home) -> None:
    assert cli(home, "contacts", "add", "bob", "bob.test.near").exit_code == 0
    result = cli(home, "plan", "send 2 NEAR to bob", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["intent"] == "send 2 NEAR to bob"
    assert body["planner"] == "offline"
    assert body["steps"] == [
        {
            "tool": "transfer",
            "args": {"receiver_id": "bob.test.near", "amount": "2", "token": "NEAR"},
        }
    ]
    assert body["checks"][0]["outcome"] in ("allow", "confirm")


def test_plan_json_for_what_is_not_understood(tmp_path: Path) -> None:
    result = cli(Home(tmp_path), "plan", "make me rich", "--json")
    body = json.loads(result.output)
    assert body["steps"] == [] and body["error"]
    assert set(body) == {"intent", "steps", "error"}


def test_do_without_a_terminal_declines_what_needs_confirmation(home: Home) -> None:
    result = cli(home, "do", "send 1 NEAR to carol.test.near", "--yes")
    assert result.exit_code == 1
    assert "declined" in result.output


def test_do_yes_runs_what_the_policy_allows(home: Home) -> None:
    result = cli(home, "do", "what's my balance", "--yes")
    assert result.exit_code == 0, result.output
    assert "NEAR" in result.output


def test_init_writes_a_home_from_the_devnet_manifest(devnet, tmp_path: Path) -> None:
    other = Home(tmp_path / "other")
    manifest = str(devnet.state_dir / "manifest.json")
    args = ["--home", str(other.root), "init", "--account", "bob.test.near", "--manifest", manifest]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "bob.test.near" in other.config_file.read_text()
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "already exists" in again.output


def test_init_names_what_is_wrong(devnet, tmp_path: Path) -> None:
    other = Home(tmp_path / "other")
    result = runner.invoke(app, ["--home", str(other.root), "init", "--account", "x.test.near"])
    assert result.exit_code == 2 and "no devnet manifest" in result.output
    manifest = str(devnet.state_dir / "manifest.json")
    result = runner.invoke(
        app,
        [
            "--home",
            str(other.root),
            "init",
            "--account",
            "nobody.test.near",
            "--manifest",
            manifest,
        ],
    )
    assert result.exit_code == 2 and "has no account 'nobody.test.near'" in result.output
    assert not other.config_file.exists()


def test_demo_runs_and_verifies_its_audit_log(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "policy denied" in result.output
    assert "audit log verified" in result.output


def test_grants_check_dry_runs_an_intent_and_a_tool_call_with_live_prices(home: Home) -> None:
    assert cli(home, "grants", "add", str(home.root / "grants.yaml")).exit_code == 0
    result = cli(home, "grants", "check", "swap 1 NEAR to USDC", "--json")
    assert result.exit_code == 0, result.output
    [step] = json.loads(result.output)
    assert step["outcome"] == "allow" and step["step"].startswith("swap: Swap 1 NEAR")
    assert step["prices"]  # priced from the exchange's pools, fresh
    denied = cli(
        home,
        "grants",
        "check",
        "--tool",
        "transfer",
        "--args",
        '{"receiver_id": "bob.test.near", "amount": "50", "token": "NEAR"}',
        "--json",
    )
    assert denied.exit_code == 2
    assert "per_action_cap" in json.loads(denied.output)[0]["reasons"]
    bad = cli(home, "grants", "check", "--tool", "transfer", "--args", '{"amount": 1.5}')
    assert bad.exit_code == 1 and "missing required field 'receiver_id'" in bad.output


def test_giving_and_revoking_grants_is_audited(home: Home) -> None:
    from memory.audit import AuditLog

    assert cli(home, "grants", "add", str(home.root / "grants.yaml")).exit_code == 0
    assert cli(home, "grants", "revoke", "demo-swaps", "--reason", "done trading").exit_code == 0
    with AuditLog(home.audit_db) as log:
        added = [e.data["grant_id"] for e in log.entries(kind="grant_added")]
        revoked = [e.data for e in log.entries(kind="grant_revoked")]
        assert sorted(added) == sorted(demo_grant_ids())
        assert revoked == [{"grant_id": "demo-swaps", "reason": "done trading"}]
        assert log.verify().ok


def test_chat_answers_slash_commands_and_intents(home: Home) -> None:
    result = runner.invoke(
        app,
        ["--home", str(home.root), "chat"],
        input="/help\nwhat's my balance\n/grants\n/pause\n/resume\n/nope\n/quit\n",
    )
    assert result.exit_code == 0, result.output
    assert "/balance" in result.output  # the help text
    assert "balance: done" in result.output
    assert "demo-transfers v1" in result.output
    assert "Paused" in result.output and "Resumed" in result.output
    assert "Unknown command /nope" in result.output
