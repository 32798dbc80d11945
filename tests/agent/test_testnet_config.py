"""A testnet home, as a user writes it, run against a devnet standing in for testnet.

The node has testnet's names (wrap.testnet, Circle's hex USDC id, usdtt.fakes.testnet,
ref-finance-101.testnet); agent.yaml says only ``network: testnet`` with ``rpc_url`` at the node,
so every contract id and token comes from what near-agent ships for testnet, or from agent.yaml's
overrides. Each command is a separate ``near-agent`` process.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.cli_intents import EXIT_NOT_UNDERSTOOD, plan_exit_code
from agent.home import Home
from devnet.server import RunningDevnet, start_devnet
from tests.agent.agent_runs import near_agent
from tests.support.openai_replay import ModelTurn, ReplayServer, ToolCall
from tests.support.testnet_standin import (
    EXCHANGE,
    USDC,
    USDT,
    standin_genesis,
    swap_grants,
    write_testnet_home,
)

TASK_TOOLS = ("claim_rewards", "list_tasks", "submit_label")


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDevnet]:
    node = start_devnet(
        tmp_path_factory.mktemp("testnet-standin"), genesis=standin_genesis(), reset=True
    )
    try:
        yield node
    finally:
        node.stop()


def _expiry() -> str:
    return (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _home(tmp_path: Path, node: RunningDevnet, per_action_usd: str = "50", **extra: Any) -> Home:
    home = Home(tmp_path / "home")
    write_testnet_home(home, node, **extra)
    grants = tmp_path / "grants.yaml"
    grants.write_text(yaml.safe_dump(swap_grants(_expiry(), per_action_usd), sort_keys=False))
    added = near_agent(home, "grants", "add", str(grants))
    assert added.returncode == 0, added.stderr
    return home


def _plan(home: Home, intent: str) -> dict[str, Any]:
    run = near_agent(home, "plan", "--json", intent)
    assert "Traceback" not in run.stderr
    body = json.loads(run.stdout)
    # the exit code says what the checks say: 0 all could run, 4 a denial, 5 cannot be prepared
    assert run.returncode == plan_exit_code(body, body.get("checks")), run.stderr
    return body


def test_a_testnet_home_prices_and_plans_a_usdc_swap(tmp_path: Path, standin: RunningDevnet):
    body = _plan(_home(tmp_path, standin), "swap 1 NEAR to USDC")
    assert [s["tool"] for s in body["steps"]] == ["swap"]
    (check,) = body["checks"]
    # priced in USD against testnet's USDC through the exchange's pools: within the $50 cap
    assert check["outcome"] == "allow", check
    assert "USDC" in check["preview"] and EXCHANGE in check["preview"]


def test_the_usd_cap_prices_the_testnet_swap(tmp_path: Path, standin: RunningDevnet) -> None:
    """1 NEAR is about $3 on the stand-in: a $1 cap denies it for its price, not for want of one."""
    body = _plan(_home(tmp_path, standin, per_action_usd="1"), "swap 1 NEAR to USDC")
    (check,) = body["checks"]
    assert check["outcome"] == "deny"
    reasons = " ".join(check["reasons"])
    assert "$1" in reasons or "1 USD" in reasons or "per_action_usd" in reasons, reasons
    assert "no price" not in reasons.lower()


def test_a_testnet_swap_runs(tmp_path: Path, standin: RunningDevnet) -> None:
    home = _home(tmp_path, standin)
    run = near_agent(home, "do", "--yes", "swap 0.5 NEAR to USDt")
    assert run.returncode == 1  # no USDt grant: denied before anything is signed
    assert "denied" in run.stdout.lower() or "not allowed" in run.stdout.lower(), run.stdout
    run = near_agent(home, "do", "--yes", "swap 0.5 NEAR to USDC")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "swap: done" in run.stdout


def test_a_hex_token_id_names_the_listed_token(tmp_path: Path, standin: RunningDevnet) -> None:
    body = _plan(_home(tmp_path, standin), f"swap 1 NEAR to {USDC}")
    (check,) = body["checks"]
    assert check["outcome"] == "allow", check
    assert "USDC" in check["preview"]


def test_agent_yaml_token_and_stablecoin_overrides_are_honoured(
    tmp_path: Path, standin: RunningDevnet
) -> None:
    """USDt renamed TETHER in agent.yaml and made the only stablecoin: prices come from it."""
    home = _home(
        tmp_path,
        standin,
        tokens=[{"symbol": "TETHER", "contract_id": USDT, "decimals": 6}],
        stablecoins=["TETHER"],
    )
    body = _plan(home, "swap 1 NEAR to TETHER")
    (check,) = body["checks"]
    assert "TETHER" in check["preview"] and "via pool 1" in check["preview"], check  # USDt's
    # the grant names USDC only: TETHER is another token, so the swap is denied by the grant
    assert check["outcome"] == "deny"
    refused = _plan(home, "swap 1 NEAR to USDt")  # the old name is gone with its entry
    assert refused["checks"][0]["outcome"] == "refused"
    assert "unknown token" in refused["checks"][0]["error"]
    # USDC is priced against TETHER now; still within the cap
    assert _plan(home, "swap 1 NEAR to USDC")["checks"][0]["outcome"] == "allow"


def test_a_contract_override_is_honoured(tmp_path: Path, standin: RunningDevnet) -> None:
    """contracts.exchange elsewhere: the swap is prepared against that exchange, which the
    grant does not name, so the policy denies it (the grant pins Ref's testnet exchange)."""
    home = _home(tmp_path, standin, contracts={"exchange": "other-exchange.testnet"})
    body = _plan(home, "swap 1 NEAR to USDC")
    (check,) = body["checks"]
    assert check["outcome"] == "refused"
    assert "other-exchange.testnet" in check["error"], check


def test_task_tools_are_not_offered_on_testnet(tmp_path: Path, standin: RunningDevnet) -> None:
    home = _home(tmp_path, standin)
    run = near_agent(home, "plan", "claim my rewards")
    assert run.returncode == EXIT_NOT_UNDERSTOOD, run.stderr  # refused: no plan
    out = run.stdout
    assert "claim rewards needs a tasks contract; none is configured on testnet" in out
    assert "set contracts.tasks in agent.yaml" in out
    assert "Traceback" not in run.stderr


def test_the_model_is_not_offered_tools_the_network_lacks(
    tmp_path: Path, standin: RunningDevnet
) -> None:
    with ReplayServer() as server:
        home = _home(
            tmp_path,
            standin,
            planner={"kind": "llm", "base_url": server.base_url, "model": "scripted"},
        )
        server.script(ModelTurn(tool_calls=[ToolCall("claim_rewards", {})]))
        run = near_agent(home, "plan", "--json", "claim my rewards")
    assert run.returncode == EXIT_NOT_UNDERSTOOD, run.stderr  # refused: no plan
    offered = {t["function"]["name"] for t in server.requests[0]["tools"]}
    assert "swap" in offered and "balance" in offered
    assert offered.isdisjoint(TASK_TOOLS)
    body = json.loads(run.stdout)
    assert body["steps"] == []
    assert "claim rewards needs a tasks contract; none is configured on testnet" in body["error"]


def test_anchoring_on_testnet_says_why_and_changes_nothing(
    tmp_path: Path, standin: RunningDevnet
) -> None:
    home = _home(tmp_path, standin)
    before = _audit_rows(home)
    run = near_agent(home, "audit", "anchor")
    assert run.returncode == 2
    assert "audit anchoring needs a notary contract; none is configured on testnet" in run.stderr
    assert "near-agent's own" in run.stderr and "contracts.notary" in run.stderr
    assert "Traceback" not in run.stderr
    assert _audit_rows(home) == before
    assert not home.anchorers_db.exists() or _anchorers(home) == []


def _audit_rows(home: Home) -> int:
    with sqlite3.connect(home.audit_db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0])


def _anchorers(home: Home) -> list[Any]:
    with sqlite3.connect(home.anchorers_db) as conn:
        return conn.execute("SELECT * FROM anchorers").fetchall()
