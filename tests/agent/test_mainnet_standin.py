"""A devnet standing in for mainnet (mainnet's names, `--genesis mainnet`) is still the devnet the
home points at: the agent talks to it, never to mainnet's public endpoints, and keeps its pool
index and token metadata apart from the real mainnet's."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.home import Home
from devnet.genesis_mainnet import build_mainnet_genesis
from devnet.server import RunningDevnet, start_devnet
from tests.agent.agent_runs import near_agent

USDC = "17208628f84f5d6ad33f0da3bbbeb27ffcb398eac501a31bd6ad2011e36133a1"


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDevnet]:
    node = start_devnet(
        tmp_path_factory.mktemp("standin") / "devnet", genesis=build_mainnet_genesis(200)
    )
    try:
        yield node
    finally:
        node.stop()


def test_a_home_on_a_mainnet_shaped_devnet_swaps_there(
    standin: RunningDevnet, tmp_path: Path
) -> None:
    assert standin.manifest["network_id"] == "mainnet"
    home = Home(tmp_path / "home")
    manifest = str(standin.state_dir / "manifest.json")
    init = near_agent(home, "init", "--account", "alice.near", "--manifest", manifest)
    assert init.returncode == 0, init.stdout + init.stderr
    expires = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    grants = tmp_path / "grants.yaml"
    grants.write_text(
        f"""tokens:
  wNEAR: {{contract_id: wrap.near, decimals: 24}}
  USDC: {{contract_id: {USDC}, decimals: 6}}
grants:
  - id: standin-swaps
    expires_at: {expires}
    kinds: [swap]
    tokens: [NEAR, wNEAR, USDC]
    exchanges: [v2.ref-finance.near]
    per_action_usd: "20"
    max_slippage_bps: 100
"""
    )
    assert near_agent(home, "grants", "add", str(grants)).returncode == 0
    run = near_agent(home, "do", "swap 1 NEAR to USDC", "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Swapped" in run.stdout, run.stdout + run.stderr
    assert "fastnear" not in run.stdout + run.stderr
    with sqlite3.connect(home.root / "pools.db") as db:
        scopes = {row[0] for row in db.execute("SELECT scope FROM pool_index_meta")}
        metadata = {row[0] for row in db.execute("SELECT scope FROM token_metadata")}
    # the standin's endpoint and the chain it serves, never the real mainnet's cache
    chain = f"mainnet@{standin.rpc_url}#devnet:{standin.manifest['genesis_hash']}"
    assert scopes == {f"{chain}/v2.ref-finance.near"}
    assert metadata == {chain}
