"""The pool index in the home, seen from separate `near-agent` processes on a devnet with
hundreds of pools: the first run indexes every pool once, a later run reads only the pools
created since, and no run reads every pool again for the policy's prices."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.demo import demo_grants
from agent.home import Home
from agent.setup_home import write_config
from devnet.server import RunningDevnet, start_devnet
from tests.agent.agent_runs import near_agent
from tests.support.grants import give_home_grants
from tests.support.pool_world import REAL_POOLS, add_pools, pool_world_genesis
from tests.support.rpc_log import RpcLog, recording
from tests.tools.conftest import make_context

JUNK = 240
POOLS = JUNK + REAL_POOLS
SWAP = "swap 1 NEAR to USDC"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[RunningDevnet]:
    node = start_devnet(tmp_path / "devnet", genesis=pool_world_genesis(JUNK), reset=True)
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture
def home(world: RunningDevnet, tmp_path: Path) -> Home:
    home = Home(tmp_path / "home")
    manifest = world.state_dir / "manifest.json"
    write_config(home, network="devnet", account_id="alice.test.near", devnet_manifest=manifest)
    (home.root / "grants.yaml").write_text(demo_grants(datetime.now(UTC) + timedelta(days=1)))
    give_home_grants(home)
    return home


def swapped(run: subprocess.CompletedProcess[str]) -> None:
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Swapped" in run.stdout, run.stdout


def views(log: RpcLog) -> dict[str, int]:
    return {name: n for name, n in sorted(log.counts().items())}


def test_a_later_process_reads_only_the_pools_created_since(
    world: RunningDevnet, home: Home
) -> None:
    with recording(world) as cold:
        swapped(near_agent(home, "do", SWAP, "--yes"))
    assert [c["from_index"] for c in cold.calls("view:get_pools")] == [0]  # one page, once
    # routing and prices share one read
    assert cold.counts()["view:get_pool_detail_info_by_ids"] == 1

    creator = make_context(world, "bob.test.near")

    async def create() -> None:
        try:
            await add_pools(creator, 2)
        finally:
            await creator.aclose()

    asyncio.run(create())

    with recording(world) as warm:
        swapped(near_agent(home, "do", SWAP, "--yes"))
    assert warm.calls("view:get_pools") == [{"from_index": POOLS, "limit": 2}]
    assert warm.counts()["view:get_number_of_pools"] == 1
    assert warm.counts()["view:get_pool_detail_info_by_ids"] == 1

    with recording(world) as later:
        swapped(near_agent(home, "do", SWAP, "--yes"))
    assert "view:get_pools" not in later.counts()
    assert cold.counts()["view:ft_metadata"] >= 1
    # a later process takes each token's ft_metadata from the home, not from the chain
    assert "view:ft_metadata" not in warm.counts() and "view:ft_metadata" not in later.counts()
    print(f"\nRPC requests per swap: cold {cold.total} {views(cold)}")
    print(f"warm {later.total} {views(later)}")


def test_the_policy_prices_a_token_swap_from_the_snapshot_the_swap_took(
    world: RunningDevnet, home: Home
) -> None:
    """USDT -> USDC through the stable pool: the NEAR the swap deposits is priced from the same
    snapshot (its hub pools are in it), so the policy reads no pool again, whatever it decides."""
    with recording(world) as log:
        run = near_agent(home, "do", "swap 100 USDT to USDC", "--yes")
    assert "swap:" in run.stdout, run.stdout + run.stderr
    assert log.counts()["view:get_pool_detail_info_by_ids"] == 1
    assert "view:get_stable_pool" not in log.counts()  # its details came in the same read
