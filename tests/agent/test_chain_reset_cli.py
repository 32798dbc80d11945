"""A devnet reset and served again at the same URL, seen from separate `near-agent` processes:
what the home cached about the old chain (its exchange's pools, its tokens' metadata) must not
describe the new one, nor may what the user's nonce ledger counted for a key on the old chain
decide the key's nonces on the new one.

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

import base58
import pytest
import yaml

from agent.demo import demo_grants
from agent.home import Home
from agent.setup_home import write_config
from devnet.genesis import Genesis
from devnet.genesis_default import ALICE, USDC, WRAP, build_default_genesis
from devnet.server import RunningDevnet, start_devnet
from devnet.state import NONCE_RANGE_MULTIPLIER
from tests.agent.agent_runs import PAY, near_agent, write_pay_grant
from tests.devnet.helpers import rpc
from tests.support.grants import give_home_grants
from tools.action import TransactionSpec, TransferSpec
from tools.keypair import KeyPair
from tools.keys import Credentials
from tools.signing import sign_transaction

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

    def __init__(self, folder: Path, genesis: Genesis | None = None) -> None:
        self.folder, self.port = folder, free_port()
        self.node: RunningDevnet = start_devnet(folder, port=self.port, genesis=genesis, reset=True)

    def reset(self, genesis: Genesis, folder: Path | None = None) -> None:
        """A new chain on the same port, from ``folder`` (default: the same state folder,
        whose manifest it rewrites)."""
        self.node.stop()
        self.node = start_devnet(folder or self.folder, port=self.port, genesis=genesis, reset=True)

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


def test_a_manifest_whose_devnet_was_replaced_at_its_port_is_named_and_nothing_is_sent(
    chain: ResettableDevnet, tmp_path: Path
) -> None:
    """Another devnet (another state folder) now answers on the port the home's manifest names:
    the home's accounts and keys are not that chain's, so every command says so."""
    home = devnet_home(tmp_path / "home", chain)
    write_pay_grant(home, "1")
    stale = chain.node.manifest["genesis_hash"]
    chain.reset(build_default_genesis(), folder=tmp_path / "another")
    refused = near_agent(home, "do", PAY, "--yes")
    text = refused.stdout + refused.stderr
    assert refused.returncode != 0, text
    assert "Traceback" not in refused.stderr, text
    assert f"genesis {chain.node.manifest['genesis_hash']}" in text, text
    assert f"genesis {stale}" in text and "devnet_manifest" in text, text
    assert chain.node.signed_by(ALICE) == []


def with_alices_key(genesis: Genesis, key: KeyPair) -> Genesis:
    """``genesis`` with ``key`` as alice's one key (a key that outlives a reset, as a fixed
    sandbox key or a key the user imports again does)."""
    for account in genesis.accounts:
        if account.account_id == ALICE:
            account.secret_keys = [key.secret_key]
    return genesis


def spend_a_high_nonce(node: RunningDevnet, key: KeyPair) -> int:
    """Another wallet signs with alice's key at the highest nonce the chain allows now (as a
    key added at this height starts): the key's nonce on this chain jumps there."""
    node.settle()
    block = rpc(node, "block", {"finality": "final"})["result"]["header"]
    nonce = block["height"] * NONCE_RANGE_MULTIPLIER - 1
    spec = TransactionSpec(signer_id=ALICE, receiver_id=ALICE, actions=(TransferSpec(deposit=1),))
    signed = sign_transaction(Credentials(ALICE, key), spec, nonce, base58.b58decode(block["hash"]))
    answer = rpc(node, "broadcast_tx_commit", [signed.signed_b64])
    assert "error" not in answer, answer
    return nonce


def test_a_key_that_outlives_a_reset_is_counted_afresh_on_the_new_chain(tmp_path: Path) -> None:
    key = KeyPair.generate()
    chain = ResettableDevnet(tmp_path / "devnet", with_alices_key(build_default_genesis(), key))
    try:
        home = devnet_home(tmp_path / "home", chain)
        write_pay_grant(home, "1")
        assert near_agent(home, "do", PAY, "--yes").returncode == 0  # the chain grows a little
        high = spend_a_high_nonce(chain.node, key)
        paid = near_agent(home, "do", PAY, "--yes")  # the ledger now counts from ``high``
        assert paid.returncode == 0, paid.stdout + paid.stderr

        chain.reset(with_alices_key(build_default_genesis(), key))
        height = rpc(chain.node, "status", [])["result"]["sync_info"]["latest_block_height"]
        assert height * NONCE_RANGE_MULTIPLIER < high  # the new chain allows no nonce that high
        again = near_agent(home, "do", PAY, "--yes")
        assert again.returncode == 0, again.stdout + again.stderr
    finally:
        chain.node.stop()
