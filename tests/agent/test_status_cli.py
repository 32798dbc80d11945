"""``near-agent status``, as a user runs it: a separate process on a real home, the devnet over
HTTP, every fact checked against where it really lives (the chain, the policy ledger, the kill
switch, the daemon's lock, the approval inbox)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.daemon_lock import DaemonLock
from agent.home import Home
from agent.setup_home import write_config
from devnet.server import RunningDevnet, start_devnet
from memory.jobs import JobStore

YOCTO = 10**24


def near_agent(home: Home | Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    root = home.root if isinstance(home, Home) else home
    command = [sys.executable, "-m", "agent", "--home", str(root), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def view_account(rpc_url: str, account_id: str) -> dict:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "query",
        "params": {"request_type": "view_account", "account_id": account_id, "finality": "final"},
    }
    request = urllib.request.Request(
        rpc_url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())["result"]


def status_json(home: Home) -> tuple[int, dict]:
    done = near_agent(home, "status", "--json")
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def test_status_shows_what_the_chain_the_ledger_and_the_home_hold(
    home: Home, devnet: RunningDevnet
) -> None:
    swap = near_agent(home, "do", "swap 1 NEAR to USDC", "--yes")
    assert swap.returncode == 0, swap.stdout + swap.stderr
    code, facts = status_json(home)
    assert code == 0, facts
    node = facts["node"]
    assert node["network"] == "devnet" and node["answers"] is True
    assert node["rpc_url"] == devnet.rpc_url and node["latest_block_height"] > 0
    near = next(b for b in facts["account"]["balances"] if b["symbol"] == "NEAR")
    assert facts["account"]["account_id"] == "alice.test.near"
    total = int(view_account(devnet.rpc_url, "alice.test.near")["amount"])
    assert total - YOCTO < int(near["balance"]["units"]) <= total  # total less storage staking
    assert near["balance"]["display"].endswith(" NEAR")
    key = facts["key"]
    assert key["encrypted"] is False and key["error"] is None
    assert key["kept_at"].endswith("alice.test.near.json")
    # the global ceiling counts the swap's 1 NEAR; it frees a day after the swap
    [day] = [w for w in facts["ceiling"] if w["measure"] == "near"]
    assert day["used"] == {"units": str(YOCTO), "display": "1 NEAR"}
    assert int(day["left"]["units"]) == int(day["cap"]["units"]) - YOCTO
    frees = datetime.fromisoformat(day["frees_at"])
    assert timedelta(hours=23, minutes=58) < frees - datetime.now(UTC) <= timedelta(days=1)
    grant_ids = {g["grant_id"] for g in facts["grants"]}
    assert {"demo-swaps", "demo-transfers"} <= grant_ids
    assert facts["kill_switch"]["paused"] is False
    assert facts["daemon"] == {"running": False, "pid": None}
    assert facts["approvals_pending"] == 0 and facts["problems"] == []


def test_status_shows_the_kill_switch_the_daemon_and_waiting_approvals(home: Home) -> None:
    assert near_agent(home, "pause", "--reason", "holiday").returncode == 0
    now = datetime.now(UTC)
    with JobStore(home.jobs_db) as jobs:
        jobs.add_inbox(
            strategy_id="dca1",
            fire_id=None,
            tool="transfer",
            args={},
            preview="Send 1 NEAR to bob.test.near",
            reasons=["first_time_recipient"],
            now=now,
            expires_at=now + timedelta(hours=1),
        )
    with DaemonLock(home.root):  # what a running daemon holds
        code, facts = status_json(home)
        text = near_agent(home, "status", "--offline")
    assert code == 1  # paused: something needs the user
    assert facts["kill_switch"]["paused"] is True and facts["kill_switch"]["reason"] == "holiday"
    assert facts["daemon"] == {"running": True, "pid": os.getpid()}
    assert facts["approvals_pending"] == 1
    assert f"running (pid {os.getpid()})" in text.stdout
    assert "PAUSED" in text.stdout and "1 pending" in text.stdout
    assert near_agent(home, "status", "--json").stdout.count('"running": false') == 1  # released


def test_status_says_how_to_start_a_devnet_that_is_down(tmp_path: Path) -> None:
    node = start_devnet(tmp_path / "devnet", reset=True)
    home = Home(tmp_path / "home")
    write_config(
        home,
        network="devnet",
        account_id="alice.test.near",
        devnet_manifest=tmp_path / "devnet" / "manifest.json",
    )
    node.stop()
    done = near_agent(home, "status")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "DOES NOT ANSWER" in done.stdout
    assert f"start it with: near-agent --home {home.root} devnet" in done.stdout
    code, facts = status_json(home)
    assert facts["node"]["answers"] is False
    assert facts["node"]["how_to_start"] == f"near-agent --home {home.root} devnet"


def test_status_of_a_folder_that_is_no_home_says_so_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo"
    done = near_agent(missing, "status")
    assert done.returncode == 2
    assert f"No near-agent home at {missing}" in done.stderr
    assert "near-agent init" in done.stderr and "near-agent demo" in done.stderr
    assert not missing.exists()
