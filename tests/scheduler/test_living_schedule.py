"""`schedule add` and the approval inbox as a user meets them: `near-agent` processes on a real
home against a devnet over HTTP.

Bad strategies are refused with the setting named and nothing stored; agent.yaml's strategies are
listed before any daemon ran; one pending request per strategy, approved or denied all at once.
"""

from __future__ import annotations

import json
from pathlib import Path

from agent.home import Home
from devnet.server import RunningDevnet
from memory.audit import AuditLog
from tests.agent.agent_runs import near_agent
from tests.scheduler.devnet_home import make_home

DCA_1D = ("kind=dca", "sell=NEAR", "buy=USDC", "amount=1", "every=1d")
LIMIT = ("sell=USDC", "buy=NEAR", "amount=3", "below=0.5", "price_of=NEAR", "price_in=USDC")


def home_on(devnet: RunningDevnet, root: Path, **kwargs: object) -> Home:
    return make_home(root, devnet.state_dir / "manifest.json", **kwargs)  # type: ignore[arg-type]


def stored_ids(home: Home) -> list[str]:
    listed = near_agent(home, "schedule", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return [s["id"] for s in json.loads(listed.stdout)["strategies"]]


def refused(home: Home, *args: str) -> str:
    """Run `schedule add` expecting a refusal (exit 2, one line, no traceback); its message."""
    ran = near_agent(home, "schedule", "add", *args)
    assert ran.returncode == 2, ran.stdout + ran.stderr
    assert "Traceback" not in ran.stderr and len(ran.stderr.strip().splitlines()) == 1
    return ran.stderr


def test_add_refuses_what_could_never_run_and_stores_nothing(
    devnet: RunningDevnet, tmp_path: Path
) -> None:
    home = home_on(devnet, tmp_path / "home")  # the grant: 3 NEAR per swap, 5 NEAR a day

    error = refused(home, "kind=dca", "id=d", "sell=NEAR", "buy=FOO", "amount=1", "every=1d")
    assert "unknown token 'FOO'" in error and "USDC" in error  # says which tokens exist

    error = refused(home, "kind=dca", "id=d", "sell=NEAR", "buy=USDC", "amount=10", "every=1d")
    assert "no grant in force can ever allow" in error
    assert "auto-swaps: 10 NEAR exceeds 3 NEAR per action (per_action_cap)" in error
    assert "grants add" in error

    error = refused(home, "kind=dca", "id=d", "sell=NEAR", "buy=USDC", "amount=1")
    assert "every: required for a dca strategy" in error and "every=1d" in error

    error = refused(home, "kind=teleport", "id=t")
    assert "kind: 'teleport' is not a strategy kind" in error and "Input tag" not in error
    error = refused(home, "kind=dca", "id=d", "sell=NEAR", "buy=USDC", "amount=1", "evry=1d")
    assert "evry: not a setting of a dca strategy" in error
    assert stored_ids(home) == []

    # the README's own wording of a kind, and the interval default said aloud
    added = near_agent(home, "schedule", "add", "kind=stop-loss", "id=sl", *LIMIT)
    assert added.returncode == 0, added.stderr
    assert "every 30s: the default for stop_loss; set every= to change" in added.stdout
    ok = near_agent(
        home, "schedule", "add", "kind=dca", "id=d", "sell=NEAR", "buy=USDC", "amount=1", "every=1d"
    )
    assert ok.returncode == 0, ok.stderr
    assert stored_ids(home) == ["d", "sl"]


def test_yaml_numbers_are_taken_when_exact_and_refused_with_the_fix_when_not(
    devnet: RunningDevnet, tmp_path: Path
) -> None:
    home = home_on(devnet, tmp_path / "home")
    exact = tmp_path / "exact.yaml"
    exact.write_text("kind: dca\nid: y\nsell: NEAR\nbuy: USDC\namount: 2\nevery: 1d\n")
    ran = near_agent(home, "schedule", "add", "--file", str(exact))
    assert ran.returncode == 0, ran.stderr
    shown = json.loads(near_agent(home, "schedule", "show", "y", "--json").stdout)
    assert shown["config"]["amount"] == "2"

    inexact = tmp_path / "inexact.yaml"
    inexact.write_text("kind: dca\nid: z\nsell: NEAR\nbuy: USDC\namount: 0.1\nevery: 1d\n")
    error = refused(home, "--file", str(inexact))
    assert 'amount: 0.1 is a YAML float, which is not exact money: quote it, e.g. "0.1"' in error
    assert stored_ids(home) == ["y"]

    # the same rule in agent.yaml: the file is named, with the fix
    float_home = home_on(devnet, tmp_path / "float", strategies=[{"id": "f", **_dca(0.5)}])
    listed = near_agent(float_home, "schedule", "list")
    assert listed.returncode == 2 and "agent.yaml" in listed.stderr
    assert 'amount: 0.5 is a YAML float, which is not exact money: quote it, e.g. "0.5"' in (
        listed.stderr
    )


def _dca(amount: object) -> dict[str, object]:
    return {"kind": "dca", "sell": "NEAR", "buy": "USDC", "amount": amount, "every": "1d"}


def test_agent_yaml_strategies_are_listed_before_any_daemon_ran(
    devnet: RunningDevnet, tmp_path: Path
) -> None:
    declared = {
        "id": "weekly",
        "kind": "stop-loss",
        "sell": "NEAR",
        "buy": "USDC",
        "amount": 1,
        "below": 1,
        "price_of": "NEAR",
        "price_in": "USDC",
    }
    home = home_on(devnet, tmp_path / "home", strategies=[declared])
    listed = json.loads(near_agent(home, "schedule", "list", "--json").stdout)
    (row,) = listed["strategies"]
    assert row["id"] == "weekly" and row["kind"] == "stop_loss" and row["source"] == "config"
    assert row["config"]["amount"] == "1" and row["held_by_kill_switch"] is False
    shown = near_agent(home, "schedule", "show", "weekly")
    assert shown.returncode == 0 and "from config" in shown.stdout
    # one declaration: the file's strategy is changed in the file, not shadowed by the CLI
    removed = near_agent(home, "schedule", "remove", "weekly")
    assert removed.returncode == 1 and "declared in agent.yaml" in removed.stderr
    replaced = near_agent(home, "schedule", "add", "--replace", "--no-check", "id=weekly", *DCA_1D)
    assert replaced.returncode == 1 and "declared in agent.yaml" in replaced.stderr
    assert stored_ids(home) == ["weekly"]


def confirm_dca(strategy_id: str) -> dict[str, str]:
    return {
        "id": strategy_id,
        "kind": "dca",
        "sell": "NEAR",
        "buy": "USDC",
        "amount": "2",
        "every": "1s",
    }


def test_one_pending_request_per_strategy_approved_or_denied_all_at_once(
    devnet: RunningDevnet, tmp_path: Path
) -> None:
    # each 2 NEAR swap wants confirmation (above 1 NEAR): every fire goes to the inbox
    home = home_on(
        devnet,
        tmp_path / "home",
        confirm_above="1",
        strategies=[confirm_dca("a"), confirm_dca("b")],
    )
    ran = near_agent(home, "daemon", "--run-for", "3.5", "--tick", "0.1")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.count("a: awaiting_approval") >= 2, ran.stdout

    items = json.loads(near_agent(home, "approvals", "list", "--json").stdout)
    by_strategy = {i["strategy_id"]: i for i in items}
    assert len(items) == 2 and set(by_strategy) == {"a", "b"}  # one each, however many fires
    assert by_strategy["a"]["fires"] >= 2 and by_strategy["a"]["status"] == "pending"
    assert "2 NEAR" in by_strategy["a"]["preview"]
    listed = near_agent(home, "approvals", "list")
    assert f"({by_strategy['a']['fires']} fires asked for it)" in listed.stdout

    denied = near_agent(home, "approvals", "deny", "--strategy", "b")
    assert denied.returncode == 0, denied.stderr
    assert f"{by_strategy['b']['id']}: denied" in denied.stdout

    approved = near_agent(home, "approvals", "approve", "--strategy", "a", "--yes")
    assert approved.returncode == 0, approved.stdout + approved.stderr
    assert "now: " in approved.stdout and f"{by_strategy['a']['id']}: done" in approved.stdout

    after = {
        i["id"]: i["status"]
        for i in json.loads(near_agent(home, "approvals", "list", "--all", "--json").stdout)
    }
    assert after == {by_strategy["a"]["id"]: "approved", by_strategy["b"]["id"]: "denied"}
    nothing = near_agent(home, "approvals", "approve", "--strategy", "a", "--yes")
    assert nothing.returncode == 1 and "Nothing of a waits for approval" in nothing.stderr
    with AuditLog(home.audit_db) as audit:
        swaps = audit.entries(kind="tx_outcome", status="ok", actor="user")
        assert len(swaps) == 1  # the one approved request ran once, as the user
        assert audit.entries(kind="approval_denied", data_match={"strategy_id": "b"})
        assert audit.verify().ok


def test_add_with_the_network_down_says_nothing_was_checked_and_stores_nothing(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    home = home_on(fresh_devnet, tmp_path / "home")
    fresh_devnet.stop()
    spec = ("kind=dca", "id=d", "sell=NEAR", "buy=USDC", "amount=10", "every=1d")
    error = refused(home, *spec)
    assert "Not added: could not check d against the network and grants" in error
    assert "--no-check" in error
    unchecked = near_agent(home, "schedule", "add", *spec, "--no-check")
    assert unchecked.returncode == 0, unchecked.stderr
    assert "not checked against tokens and grants (--no-check)" in unchecked.stdout
