"""Network configuration the CLI refuses, each in a separate ``near-agent`` process: a clear
message naming what is wrong, exit status 2, no traceback, nothing changed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import yaml

from agent.cli_intents import EXIT_NOT_UNDERSTOOD
from agent.home import Home
from tests.agent.agent_runs import near_agent


def _home(tmp_path: Path, **settings: Any) -> Home:
    home = Home(tmp_path / "home")
    home.root.mkdir(parents=True)
    body = {"account_id": "alice.near", **settings}
    home.config_file.write_text(yaml.safe_dump(body, sort_keys=False))
    return home


def _refused(run: Any, *parts: str) -> None:
    assert run.returncode == 2, (run.returncode, run.stdout, run.stderr)
    assert "Traceback" not in run.stderr
    for part in parts:
        assert part in run.stderr, run.stderr


def test_a_token_listed_twice_is_refused_naming_the_field(tmp_path: Path) -> None:
    tokens = [
        {"symbol": "USDC", "contract_id": "x.near", "decimals": 6},
        {"symbol": "usdc", "contract_id": "y.near", "decimals": 6},
    ]
    home = _home(tmp_path, network="mainnet", tokens=tokens)
    run = near_agent(home, "plan", "swap 1 NEAR to USDC")
    _refused(run, str(home.config_file), "tokens[1].symbol 'usdc' is the same symbol as")


def test_a_malformed_devnet_manifest_is_a_clear_error(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"rpc_url": "http://127.0.0.1:9", "tokens": 5}))
    home = _home(
        tmp_path, network="devnet", devnet_manifest=str(manifest), key_file=str(tmp_path / "k")
    )
    run = near_agent(home, "plan", "send 1 NEAR to bob.near")
    _refused(run, f"devnet manifest {manifest}: tokens must be a list of objects, not int")


def test_anchoring_on_mainnet_says_it_needs_a_notary_before_asking_for_a_key(
    tmp_path: Path,
) -> None:
    """No key on this machine either: the missing notary is the reason, said first."""
    home = _home(tmp_path, network="mainnet")
    run = near_agent(home, "audit", "anchor")
    _refused(
        run,
        "audit anchoring needs a notary contract; none is configured on mainnet",
        "set contracts.notary in agent.yaml",
    )
    assert not home.audit_db.exists() or _entries(home) == 0
    assert not home.anchorers_db.exists()


def _entries(home: Home) -> int:
    with sqlite3.connect(home.audit_db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0])


def test_planning_without_a_check_leaves_out_what_the_network_lacks(tmp_path: Path) -> None:
    """`plan --no-check` reads no chain, but still knows mainnet has no tasks contract."""
    home = _home(tmp_path, network="mainnet")
    run = near_agent(home, "plan", "--no-check", "claim my rewards")
    assert run.returncode == EXIT_NOT_UNDERSTOOD, run.stderr  # refused: no plan
    assert "claim rewards needs a tasks contract; none is configured on mainnet" in run.stdout
    swap = near_agent(home, "plan", "--no-check", "swap 1 NEAR to USDC.e")
    assert "1. swap(token_in=NEAR, token_out=USDC.e, amount_in=1)" in swap.stdout, swap.stdout
