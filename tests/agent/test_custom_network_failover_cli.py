"""A custom network (agent.yaml's ``network: custom``) whose first endpoint is down, seen from
separate `near-agent` processes: start-up and every command fail over to the next endpoint, as
on the built-in networks, and only when every endpoint is down is there one clear error.

The network's chain is not known from configuration, so the first endpoint that answers names
it and every other endpoint is held to it (tools/chain_identity.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from agent.home import Home
from devnet.server import RunningDevnet
from tests.agent.agent_runs import PAY, TENTH, near_agent
from tests.agent.test_rpc_endpoints_cli import ALICE, BOB, dead_url, make_home, output
from tests.devnet.helpers import balance


def custom_home(root: Path, devnet: RunningDevnet, urls: list[str]) -> Home:
    """Alice's home on ``devnet`` named as a custom network, through ``urls`` in that order."""
    home = make_home(root, devnet)
    config = yaml.safe_load(home.config_file.read_text())
    config.pop("devnet_manifest", None)
    config.update(
        network="custom",
        rpc_url=urls[0],
        rpc={"urls": urls},
        key_file=str(devnet.state_dir / "keys" / f"{ALICE}.json"),
        contracts={"exchange": "exchange.test.near", "wrap": "wrap.test.near"},
        tokens=[{"symbol": "USDC", "contract_id": "usdc.test.near", "decimals": 6}],
        stablecoins=["USDC"],
    )
    home.config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    return home


def test_a_custom_network_fails_over_from_its_dead_first_endpoint(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    home = custom_home(tmp_path / "home", fresh_devnet, [dead_url(), fresh_devnet.rpc_url])
    before = balance(fresh_devnet, BOB)
    paid = near_agent(home, "do", PAY, "--yes")
    assert paid.returncode == 0, output(paid)
    assert balance(fresh_devnet, BOB) - before == TENTH
    assert len(fresh_devnet.signed_by(ALICE)) == 1

    shown = near_agent(home, "status", "--json")
    assert shown.returncode == 0, output(shown)
    node = json.loads(shown.stdout)["node"]
    assert node["answers"] is True and node["chain_id"] == "devnet", node


def test_a_custom_network_with_every_endpoint_down_is_one_clear_error(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    first, second = dead_url(), dead_url()
    home = custom_home(tmp_path / "home", fresh_devnet, [first, second])
    stopped = near_agent(home, "do", PAY, "--yes")
    text = output(stopped)
    assert stopped.returncode != 0, text
    assert "Traceback" not in stopped.stderr
    assert "no RPC endpoint answered" in text, text
    assert first in text and second in text, text
    assert fresh_devnet.signed_by(ALICE) == []
