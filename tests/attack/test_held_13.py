"""Attacks on issue 13 ("Mainnet-ready") the code withstood, kept as regression tests.

Config: an agent.yaml that re-points USDC to another contract cannot move the grant's USDC
(the grant pins the contract); a wrong decimals override loses to the token's ft_metadata.
RPC: the API key from ``rpc.api_key_env`` appears in no output and no file of the home when
every endpoint fails. Lost-and-found: a claim's arguments cannot name a receiver.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from devnet.server import RunningDevnet
from tests.agent.agent_runs import PAY, near_agent
from tests.agent.test_rpc_endpoints_cli import dead_url, output
from tests.agent.test_rpc_endpoints_cli import make_home as payer_home
from tests.devnet.helpers import balance
from tests.scheduler.devnet_home import make_home as swapper_home
from tools.lostfound import ClaimLostfoundArgs

ALICE = "alice.test.near"
KEY = "sk-attack13-9f8e7d6c5b4a39281706f5e4d3c2b1a0"


def _override(home_config: Path, **fields: object) -> None:
    config = yaml.safe_load(home_config.read_text())
    config.update(fields)
    home_config.write_text(yaml.safe_dump(config, sort_keys=False))


def test_re_pointing_usdc_in_agent_yaml_does_not_move_the_granted_usdc(
    devnet: RunningDevnet, tmp_path: Path
) -> None:
    """agent.yaml names USDC = ref.test.near; the grant pins USDC = usdc.test.near: the swap to
    "USDC" (really REF) is denied, nothing signed."""
    home = swapper_home(tmp_path / "home", devnet.state_dir / "manifest.json")
    _override(
        home.config_file,
        tokens=[{"symbol": "USDC", "contract_id": "ref.test.near", "decimals": 18}],
    )
    signed = len(devnet.signed_by(ALICE))
    run = near_agent(home, "do", "swap 1 NEAR to USDC", "--yes")
    assert run.returncode != 0, output(run)
    assert "not in the token allowlist" in run.stdout, output(run)  # token_not_allowed
    assert len(devnet.signed_by(ALICE)) == signed


def test_the_api_key_is_in_no_output_and_no_file_when_every_endpoint_fails(
    devnet: RunningDevnet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATTACK13_RPC_KEY", KEY)
    home = payer_home(
        tmp_path / "home",
        devnet,
        {"urls": [dead_url(), dead_url()], "api_key_env": "ATTACK13_RPC_KEY"},
    )
    bob = balance(devnet, "bob.test.near")
    run = near_agent(home, "do", PAY, "--yes")
    assert run.returncode != 0, output(run)
    assert "Traceback" not in run.stderr
    assert KEY not in output(run)
    for path in home.root.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    assert balance(devnet, "bob.test.near") == bob


def test_a_lostfound_claim_cannot_name_a_receiver() -> None:
    """Ref's claim_lostfound pays the caller; the tool's arguments have no receiver a model
    could fill in."""
    with pytest.raises(ValidationError):
        ClaimLostfoundArgs.model_validate({"token": "USDC", "receiver_id": "mallory.test.near"})
