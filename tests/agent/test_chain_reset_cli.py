"""A devnet reset and served again at the same URL, seen from separate `near-agent` processes:
what the home cached about the old chain (its exchange's pools, its tokens' metadata) must not
describe the new one.

Chain A is the default world (pool 0 wNEAR/USDC, pool 1 wNEAR/REF); chain B, started from a
reset at the same port, creates the same pairs in the other order (pool 0 wNEAR/REF, pool 1
wNEAR/USDC). A swap planned from A's index would read pool 0 for wNEAR/USDC and find no route.
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from agent.demo import demo_grants
from agent.home import Home
from agent.setup_home import write_config
from devnet.genesis import Genesis
from devnet.genesis_default import ALICE, USDC, WRAP, build_default_genesis
from devnet.server import RunningDevnet, start_devnet
from tests.agent.agent_runs import near_agent
from tests.support.grants import give_home_grants

SWAP = "swap 1 NEAR to USDC"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pools_swapped_genesis() -> Genesis:
    """The default world with its first two pools created in the other order (same pairs,
    same reserves, other ids)."""
    genesis = build_default_genesis()
    created = [c for c in genesis.setup_calls if c.method_name == "add_simple_pool"]
    funded = [c for c in genesis.setup_calls if c.method_name == "add_liquidity"]
    created[0].args, created[1].args = created[1].args, created[0].args
    funded[0].args["amounts"], funded[1].args["amounts"] = (
        funded[1].args["amounts"],
        funded[0].args["amounts"],
    )
    return genesis


class ResettableDevnet:
    """A devnet in one state folder on one port, which a test resets to another world."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.node: RunningDevnet = start_devnet(folder, port=self.port, reset=True)

    def reset(self, genesis: Genesis) -> None:
        self.node.stop()
        self.node = start_devnet(self.folder, port=self.port, genesis=genesis, reset=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[ResettableDevnet]:
    devnet = ResettableDevnet(tmp_path / "devnet")
    try:
        yield devnet
    finally:
        devnet.node.stop()


def devnet_home(root: Path, chain: ResettableDevnet) -> Home:
    home = Home(root)
    manifest = chain.folder / "manifest.json"
    write_config(home, network="devnet", account_id=ALICE, devnet_manifest=manifest)
    return home


def custom_home(root: Path, chain: ResettableDevnet) -> Home:
    """The same devnet as a custom network: agent.yaml names its URL and contracts, and no
    manifest says which chain it is."""
    home = devnet_home(root, chain)
    config = yaml.safe_load(home.config_file.read_text())
    config.pop("devnet_manifest", None)
    config.update(
        network="custom",
        rpc_url=chain.url,
        key_file=str(chain.folder / "keys" / f"{ALICE}.json"),
        contracts={"exchange": "exchange.test.near", "wrap": WRAP},
        tokens=[{"symbol": "USDC", "contract_id": USDC, "decimals": 6}],
        stablecoins=["USDC"],
    )
    home.config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    return home


def with_grants(home: Home) -> Home:
    (home.root / "grants.yaml").write_text(demo_grants(datetime.now(UTC) + timedelta(days=1)))
    give_home_grants(home)
    return home


@pytest.mark.parametrize("make_home", [devnet_home, custom_home], ids=["devnet", "custom"])
def test_a_swap_after_a_reset_at_the_same_url_plans_against_the_new_pools(
    chain: ResettableDevnet, tmp_path: Path, make_home: object
) -> None:
    home = with_grants(make_home(tmp_path / "home", chain))  # type: ignore[operator]
    before = near_agent(home, "do", SWAP, "--yes")
    assert before.returncode == 0, before.stdout + before.stderr
    assert "Swapped" in before.stdout, before.stdout

    chain.reset(pools_swapped_genesis())

    after = near_agent(home, "do", SWAP, "--yes")
    assert after.returncode == 0, after.stdout + after.stderr
    assert "Swapped" in after.stdout, after.stdout
    # nothing the home caches describes chain A any more: every scope names chain B
    genesis = chain.node.manifest["genesis_hash"]
    with sqlite3.connect(home.pools_db) as conn:
        scopes = {
            row[0]
            for table in ("pool_index_meta", "pools", "token_metadata")
            for row in conn.execute(f"SELECT DISTINCT scope FROM {table}")
        }
    assert scopes and all(f"#devnet:{genesis}" in scope for scope in scopes), scopes
