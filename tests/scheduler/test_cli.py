"""The schedule / approvals / pause commands, on a Typer app wired the way agent/cli.py is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from typer.testing import CliRunner

from agent.cli_schedule import approvals_app, daemon, pause, resume, schedule_app
from agent.home import Home
from agent.scheduler.daemon import jobs_db, sync_config_strategies
from memory.audit import AuditLog
from memory.jobs import JobStore
from memory.switch import KillSwitch


def app_for(home: Home) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root(ctx: typer.Context) -> None:
        ctx.obj = home

    app.add_typer(schedule_app, name="schedule")
    app.add_typer(approvals_app, name="approvals")
    app.command()(daemon)
    app.command()(pause)
    app.command()(resume)
    return app


def run(home: Home, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app_for(home), list(args))
    return result.exit_code, result.output


def test_add_list_show_pause_resume_remove(tmp_path: Path) -> None:
    home = Home(tmp_path)
    code, out = run(
        home,
        "schedule",
        "add",
        "kind=dca",
        "id=d1",
        "sell=USDC",
        "buy=NEAR",
        "amount=10",
        "every=1d",
        "guards.max_trades=1",
        "coalesce=false",
    )
    assert code == 0, out
    assert "every 1d: swap 10 USDC to NEAR" in out
    code, out = run(
        home,
        "schedule",
        "add",
        "kind=dca",
        "id=d1",
        "sell=USDC",
        "buy=NEAR",
        "amount=10",
        "every=1d",
    )
    assert code == 1 and "exists already" in out
    code, out = run(home, "schedule", "add", "kind=dca", "id=bad", "amount=1.5.5")
    assert code == 2 and "Not a valid strategy" in out
    code, out = run(home, "schedule", "list")
    assert "d1" in out and "active" in out
    code, out = run(home, "schedule", "show", "d1")
    assert code == 0
    assert "no coalescing" in out and "0 of 1 trades used per 24h" in out
    assert "later than 5m is missed" in out
    assert run(home, "schedule", "pause", "d1")[0] == 0
    with JobStore(jobs_db(home)) as store:
        assert store.strategy("d1").status == "paused"
    assert run(home, "schedule", "resume", "d1")[0] == 0
    assert run(home, "schedule", "remove", "d1")[0] == 0
    code, out = run(
        home,
        "schedule",
        "add",
        "kind=claim_rewards",
        "id=c",
        "every=1d",
        "--start",
        "2030-01-01T09:00:00Z",
    )
    assert code == 0 and "first fire 2030-01-01 09:00:00 UTC" in out
    assert run(home, "schedule", "add", "kind=claim_rewards", "id=e", "--start", "9am")[0] == 2
    assert run(home, "schedule", "show", "d1")[0] == 1


def test_kill_switch_commands_are_audited(tmp_path: Path) -> None:
    home = Home(tmp_path)
    assert run(home, "pause", "--reason", "holiday")[0] == 0
    with AuditLog(home.audit_db) as audit:
        switch = KillSwitch(home.memory_db, audit)
        assert switch.is_paused()
        switch.close()
    assert run(home, "resume")[0] == 0
    with AuditLog(home.audit_db) as audit:
        switch = KillSwitch(home.memory_db, audit)
        assert not switch.is_paused()
        switch.close()
        assert [e.kind for e in audit.entries()] == ["paused", "resumed"]


def test_approvals_list_and_deny_and_expiry(tmp_path: Path) -> None:
    home = Home(tmp_path)
    now = datetime.now(UTC)
    with JobStore(jobs_db(home)) as store:
        keep = store.add_inbox(
            strategy_id="d",
            fire_id=None,
            tool="swap",
            args={"token_in": "NEAR", "token_out": "USDC", "amount_in": "2"},
            preview="Swap 2 NEAR",
            reasons=["above"],
            now=now,
            expires_at=now + timedelta(hours=1),
        )
        old = store.add_inbox(
            strategy_id="d",
            fire_id=None,
            tool="swap",
            args={},
            preview="old",
            reasons=["above"],
            now=now - timedelta(hours=2),
            expires_at=now - timedelta(hours=1),
        )
    code, out = run(home, "approvals", "list")
    assert keep in out and old not in out
    code, out = run(home, "approvals", "approve", old)
    assert code != 0
    assert run(home, "approvals", "deny", keep)[0] == 0
    code, out = run(home, "approvals", "deny", keep)
    assert code == 1 and "denied" in out
    with AuditLog(home.audit_db) as audit:
        assert audit.entries(kind="approval_expired", data_match={"inbox_id": old})


def test_agent_yaml_strategies_are_validated_and_synced(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with JobStore(tmp_path / "jobs.db") as store:
        items = [{"id": "c", "kind": "claim_rewards", "every": "6h"}]
        assert sync_config_strategies(store, items, now) == ["added c from agent.yaml"]
        assert sync_config_strategies(store, items, now) == []
        assert sync_config_strategies(store, [], now) == ["removed c (no longer in agent.yaml)"]
        try:
            sync_config_strategies(store, [{"id": "x", "kind": "dca"}], now)
        except ValueError as exc:
            assert "sell" in str(exc)
        else:
            raise AssertionError("an invalid strategy was accepted")
