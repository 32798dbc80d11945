"""Keys, networks, account ids and argument models: the parts that need no chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.errors import CredentialsError, InvalidAccountIdError, NetworkConfigError
from tools.keypair import KeyPair
from tools.keys import default_credentials_path, load_credentials
from tools.network import check_account_id, devnet_from_manifest, public_network
from tools.registry import InvalidArgumentsError, UnknownToolError, parse_args, tool_schemas


def test_credentials_load_and_hide_secret(tmp_path: Path) -> None:
    pair = KeyPair.generate()
    path = tmp_path / "alice.json"
    pair.write_credentials(path, "alice.test.near")
    creds = load_credentials(path, "alice.test.near")
    assert creds.public_key == pair.public_key
    assert pair.secret_key not in repr(creds) and pair.secret_key not in str(creds)
    with pytest.raises(CredentialsError, match="is for 'alice.test.near', not 'bob.test.near'"):
        load_credentials(path, "bob.test.near")


def test_credentials_errors_never_show_the_key(tmp_path: Path) -> None:
    pair, other = KeyPair.generate(), KeyPair.generate()
    path = tmp_path / "k.json"
    path.write_text(
        json.dumps(
            {"account_id": "a.near", "public_key": other.public_key, "private_key": pair.secret_key}
        )
    )
    with pytest.raises(CredentialsError) as info:
        load_credentials(path)
    assert "does not match" in info.value.message and pair.secret_key not in info.value.message
    with pytest.raises(CredentialsError, match="does not exist"):
        load_credentials(tmp_path / "missing.json")


def test_default_credentials_path(tmp_path: Path) -> None:
    assert default_credentials_path("testnet", "a.testnet", tmp_path) == (
        tmp_path / ".near-credentials" / "testnet" / "a.testnet.json"
    )


def test_networks(tmp_path: Path) -> None:
    mainnet = public_network("mainnet")
    assert mainnet.explorer_tx_url("abc") == "https://nearblocks.io/txns/abc"
    assert public_network("testnet", "http://127.0.0.1:1").rpc_url == "http://127.0.0.1:1"
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "rpc_url": "http://127.0.0.1:3030",
                "network_id": "devnet",
                "tokens": [{"symbol": "wNEAR", "contract_id": "wrap.test.near", "decimals": 24}],
                "exchange": {"contract_id": "exchange.test.near", "pools": []},
                "tasks": {"contract_id": "tasks.test.near"},
                "accounts": [{"account_id": "alice.test.near", "key_file": "keys/alice.json"}],
            }
        )
    )
    net = devnet_from_manifest(manifest)
    assert (net.wrap_id, net.exchange_id, net.tasks_id) == (
        "wrap.test.near",
        "exchange.test.near",
        "tasks.test.near",
    )
    assert net.explorer_tx_url("abc") is None
    assert net.key_file_for("alice.test.near") == tmp_path / "keys" / "alice.json"
    with pytest.raises(NetworkConfigError, match="does not exist"):
        devnet_from_manifest(tmp_path / "nope.json")


@pytest.mark.parametrize(
    "bad", ["Bob.near", "a", "bob..near", ".bob", "bob.", "b@b.near", "x" * 65, ""]
)
def test_invalid_account_ids(bad: str) -> None:
    with pytest.raises(InvalidAccountIdError):
        check_account_id(bad)


def test_valid_account_ids() -> None:
    for good in ("bob.test.near", "a1", "my_acc-1.near", "0" * 64):
        assert check_account_id(good) == good


def test_args_models_match_design_and_refuse_floats() -> None:
    names = {s["name"]: set(s["parameters"]["properties"]) for s in tool_schemas()}
    assert names == {
        "transfer": {"receiver_id", "amount", "token"},
        "swap": {"token_in", "token_out", "amount_in", "max_slippage_bps"},
        "balance": {"token"},
        "list_tasks": {"status"},
        "submit_label": {"task_id", "item_id", "label"},
        "claim_rewards": {"task_ids"},
        "claim_lostfound": {"token"},
    }
    with pytest.raises(InvalidArgumentsError, match="float"):
        parse_args("transfer", {"receiver_id": "bob.near", "amount": 1.5, "token": "NEAR"})
    with pytest.raises(InvalidArgumentsError, match="amount"):
        parse_args("transfer", {"receiver_id": "bob.near", "amount": 2, "token": "NEAR"})
    with pytest.raises(InvalidArgumentsError, match="Extra inputs"):
        parse_args("balance", {"token": "NEAR", "account": "x"})
    with pytest.raises(InvalidArgumentsError):
        parse_args(
            "swap",
            {"token_in": "NEAR", "token_out": "USDC", "amount_in": "1", "max_slippage_bps": 20_000},
        )
    with pytest.raises(UnknownToolError):
        parse_args("delete_account", {})


def test_context_from_config_devnet(tmp_path: Path) -> None:
    from agent.config import AgentConfig
    from tools.base import context_from_config

    pair = KeyPair.generate()
    pair.write_credentials(tmp_path / "keys" / "alice.json", "alice.test.near")
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {
                "rpc_url": "http://127.0.0.1:9",
                "network_id": "devnet",
                "accounts": [{"account_id": "alice.test.near", "key_file": "keys/alice.json"}],
            }
        )
    )
    config = AgentConfig(
        network="devnet",
        devnet_manifest=tmp_path / "manifest.json",
        account_id="alice.test.near",
        defaults={"max_slippage_bps": 30},
        rpc={"timeout_s": 2, "retries": 1},
    )
    ctx = context_from_config(config)
    assert ctx.account_id == "alice.test.near" and ctx.max_slippage_bps == 30
    assert ctx.credentials is not None and ctx.credentials.public_key == pair.public_key
    assert ctx.chain.timeout_s == 2 and ctx.chain.retries == 1
    assert ctx.network.rpc_url == "http://127.0.0.1:9"
