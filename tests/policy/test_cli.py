from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from agent.cli_grants import grants_app
from agent.home import Home
from tests.policy.helpers import (
    BOB,
    EVE,
    YOCTO,
    grants_doc,
    near_transfer,
    transfer_grant,
    write_yaml,
)
from tests.support.grants import demo_grant_ids

EXAMPLE = Path(__file__).parents[2] / "policies" / "examples" / "demo-grant.yaml"


@pytest.fixture
def run(tmp_path: Path):
    app = typer.Typer()

    @app.callback()
    def _root(ctx: typer.Context) -> None:
        ctx.obj = Home(tmp_path / "home")

    app.add_typer(grants_app, name="grants")
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, ["grants", *args])

    return invoke


def test_add_list_show_and_versions(run, tmp_path: Path) -> None:
    result = run("add", str(EXAMPLE), "--allow-long-expiry")
    assert result.exit_code == 0, result.output
    assert "demo-transfers: stored as version 1" in result.output
    assert "unchanged at version 1" in run("add", str(EXAMPLE), "--allow-long-expiry").output
    listing = run("list")
    assert listing.exit_code == 0 and "demo-swaps" in listing.output and "active" in listing.output
    shown = run("show", "demo-transfers")
    assert shown.exit_code == 0
    assert "5 NEAR" in shown.output and "bob.test.near" in shown.output
    assert "first-time recipient" in shown.output
    changed = write_yaml(tmp_path / "g.yaml", grants_doc(transfer_grant(id="demo-transfers")))
    assert "stored as version 2" in run("add", str(changed), "--allow-long-expiry").output
    history = run("show", "demo-transfers", "--history")
    assert "v1" in history.output and "v2" in history.output


def test_bad_grant_file_names_the_field_and_stores_nothing(run, tmp_path: Path) -> None:
    doc = grants_doc(transfer_grant(per_action={"NEAR": "5"}, recipents=[BOB]))
    result = run("add", str(write_yaml(tmp_path / "bad.yaml", doc)))
    assert result.exit_code == 2
    assert "recipents" in result.output and "nothing was stored" in result.output
    assert "No grants" in run("list").output
    expired = grants_doc(transfer_grant())
    expired["grants"][0]["expires_at"] = "2020-01-01T00:00:00Z"
    result = run("add", str(write_yaml(tmp_path / "old.yaml", expired)))
    assert result.exit_code == 2 and "already expired" in result.output
    assert "No grants" in run("list").output


def test_revoke_one_and_all(run) -> None:
    run("add", str(EXAMPLE), "--allow-long-expiry")
    assert run("revoke").exit_code == 1
    assert run("revoke", "nope").exit_code == 1
    assert "Revoked: demo-swaps" in run("revoke", "demo-swaps").output
    listing = run("list").output
    assert "revoked" in listing
    assert run("revoke", "--all").exit_code == 0
    assert run("list").output.count("revoked") == len(demo_grant_ids())


def test_check_dry_runs_an_action_file(run, tmp_path: Path) -> None:
    run("add", str(EXAMPLE), "--allow-long-expiry")
    ok = tmp_path / "ok.json"
    ok.write_text(near_transfer(BOB, YOCTO).canonical_json())
    result = run("check", "--action", str(ok), "--json")
    assert result.exit_code == 0, result.output
    decision = json.loads(result.output)
    assert decision["outcome"] == "confirm" and decision["reasons"] == ["first_time_recipient"]
    assert decision["grant_id"] == "demo-transfers" and decision["dry_run"]
    assert any(b["measure"] == "near" for b in decision["budgets"])
    bad = tmp_path / "bad.json"
    bad.write_text(near_transfer(EVE, YOCTO).canonical_json())
    denied = run("check", "--action", str(bad))
    assert denied.exit_code == 2 and "recipient_not_allowed" in denied.output
    assert run("check", "--action", str(tmp_path / "none.json")).exit_code == 1
