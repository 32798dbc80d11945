"""Per-network configuration: the shipped catalog, agent.yaml's overrides over it, availability.

What a user writes in agent.yaml is read through ``load_config`` from a real file; conflicts must
be refused naming the field. The merge itself is checked as an invariant with Hypothesis: an
accepted token list never lets one name mean two tokens.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from agent.config import ConfigError, load_config
from tools import registry
from tools.errors import NetworkConfigError, NotConfiguredError, UnknownTokenError
from tools.network import (
    NetworkOverrides,
    apply_overrides,
    configured_network,
    devnet_from_manifest,
    is_valid_account_id,
    public_network,
)
from tools.network_catalog import SHIPPED
from tools.tokens import TokenRegistry

HEX = "3e2210e1184b45b64c8a434c0a7e7b23cc04ea7eb7a6c3c32520d03d4afcb8af"
UNLISTED_HEX = "ab" * 32


@pytest.mark.parametrize("name", ["testnet", "mainnet"])
def test_the_shipped_catalog_is_consistent(name: str) -> None:
    catalog = SHIPPED[name]
    network = public_network(name)
    symbols = [t.symbol for t in catalog.tokens]
    assert len({s.casefold() for s in symbols}) == len(symbols)
    assert all(is_valid_account_id(t.contract_id) for t in catalog.tokens)
    # native and bridged stablecoins are different tokens under different names, 6 decimals each
    stables = {t.symbol: t for t in catalog.tokens if t.symbol in ("USDC", "USDC.e", "USDt")}
    assert {*stables, "USDT.e"} <= set(symbols)
    assert len({t.contract_id for t in stables.values()}) == 3
    assert all(t.decimals == 6 for t in stables.values())
    assert network.stablecoins == ("USDC", "USDt")
    assert network.exchange_id and network.wrap_id
    assert (network.tasks_id, network.notary_id) == (None, None)


def test_mainnet_ids_are_the_published_ones() -> None:
    ids = {t["symbol"]: t["contract_id"] for t in public_network("mainnet").tokens}
    assert ids["USDC"] == "17208628f84f5d6ad33f0da3bbbeb27ffcb398eac501a31bd6ad2011e36133a1"
    assert ids["USDt"] == "usdt.tether-token.near"
    assert ids["USDC.e"] == "a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48.factory.bridge.near"
    assert ids["USDT.e"] == "dac17f958d2ee523a2206206994597c13d831ec7.factory.bridge.near"
    assert (public_network("mainnet").exchange_id, ids["wNEAR"]) == (
        "v2.ref-finance.near",
        "wrap.near",
    )


def _config(tmp_path: Path, **settings: Any) -> Path:
    path = tmp_path / "agent.yaml"
    body = {"network": "mainnet", "account_id": "alice.near", **settings}
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


def _token(symbol: str, contract_id: str, decimals: int = 6) -> dict[str, Any]:
    return {"symbol": symbol, "contract_id": contract_id, "decimals": decimals}


@pytest.mark.parametrize(
    ("settings", "field", "why"),
    [
        (
            {"tokens": [_token("USDX", "x.near"), _token("usdx", "y.near")]},
            "tokens[1].symbol",
            "same symbol as tokens[0].symbol",
        ),
        (
            {"tokens": [_token("USDX", "x.near"), _token("USDY", "x.near")]},
            "tokens[1].contract_id",
            "already listed as 'USDX'",
        ),
        (
            {"tokens": [_token("wrap.near", "x.near")]},
            "tokens[0].symbol",
            "is the contract id of 'wNEAR'",
        ),
        (
            {"tokens": [_token("a.near", "x.near"), _token("B", "a.near")]},
            "tokens[0].symbol",
            "is the contract id of 'B'",
        ),
        ({"tokens": [_token("USDX", "X.near")]}, "tokens[0].contract_id", "did you mean"),
        ({"tokens": [_token("NEAR", "x.near")]}, "tokens[0].symbol", "native NEAR"),
        ({"stablecoins": ["USDC", "DAI"]}, "stablecoins[1]", "not a listed token"),
        ({"contracts": {"tasks": "Tasks.near"}}, "contracts.tasks", "lowercase"),
    ],
)
def test_conflicting_overrides_are_refused_naming_the_field(
    tmp_path: Path, settings: dict[str, Any], field: str, why: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_config(tmp_path, **settings))
    message = str(caught.value)
    assert field in message and why in message, message


def test_overrides_replace_what_they_name(tmp_path: Path) -> None:
    config = load_config(
        _config(
            tmp_path,
            contracts={"tasks": "tasks.alice.near", "notary": "notary.alice.near"},
            tokens=[_token("USDC", "a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48.factory.bridge.near")],
            stablecoins=["usdt"],
        )
    )
    network = configured_network("mainnet", overrides=config.network_overrides)
    listed = {t["symbol"]: t["contract_id"] for t in network.tokens}
    # "USDC" now means the bridged token: the native USDC entry and the old USDC.e entry are gone
    assert listed["USDC"].endswith(".factory.bridge.near") and "USDC.e" not in listed
    assert network.stablecoins == ("USDt",) and config.defaults.stablecoin == "USDt"
    assert (network.tasks_id, network.notary_id) == ("tasks.alice.near", "notary.alice.near")
    assert registry.unavailable(network) == {}


def test_the_default_stablecoin_is_the_networks_first(tmp_path: Path) -> None:
    assert load_config(_config(tmp_path)).defaults.stablecoin == "USDC"


def test_what_a_network_cannot_run_is_not_offered() -> None:
    mainnet = public_network("mainnet")
    missing = registry.unavailable(mainnet)
    assert set(missing) == {"claim_rewards", "list_tasks", "submit_label"}
    assert missing["claim_rewards"] == (
        "claim rewards needs a tasks contract; none is configured on mainnet (the tasks contract "
        "is near-agent's own; it exists on the devnet, and on mainnet only where you deploy it); "
        "set contracts.tasks in agent.yaml"
    )
    assert "swap" in registry.offered(mainnet)
    bare = configured_network("custom", rpc_url="http://127.0.0.1:9")
    assert (
        "swap needs an exchange contract; none is configured on custom"
        in (registry.unavailable(bare)["swap"])
    )
    names = {s["name"] for s in registry.tool_schemas(exclude=missing)}
    assert names == set(registry.offered(mainnet))
    with pytest.raises(NotConfiguredError, match="set contracts.notary in agent.yaml"):
        mainnet.require("notary", "audit anchoring")


class MetadataChain:
    """Every contract answers ft_metadata with 6 decimals."""

    async def view(self, contract_id: str, method: str, args: Any = None) -> Any:
        assert method == "ft_metadata"
        return {"symbol": "SOMETHING", "decimals": 6}


def test_hex_token_ids_resolve() -> None:
    tokens = TokenRegistry.for_network(MetadataChain(), public_network("testnet"))  # type: ignore[arg-type]
    listed = asyncio.run(tokens.resolve(HEX))
    assert (listed.symbol, listed.verified) == ("USDC", True)
    unlisted = asyncio.run(tokens.resolve(UNLISTED_HEX))
    assert (unlisted.symbol, unlisted.contract_id, unlisted.verified) == (
        UNLISTED_HEX,
        UNLISTED_HEX,
        False,
    )
    assert asyncio.run(tokens.resolve("usdc.e")).contract_id == "usdc.fakes.testnet"
    with pytest.raises(UnknownTokenError):
        asyncio.run(tokens.resolve("abcd"))  # a bare word is a symbol, never an account


@pytest.mark.parametrize(
    "tokens", [5, "USDC", {"symbol": "USDC"}, [5], [{"symbol": 5, "contract_id": "u.near"}]]
)
def test_a_malformed_manifest_token_list_is_a_clear_error(tmp_path: Path, tokens: Any) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"rpc_url": "http://127.0.0.1:9", "tokens": tokens}))
    with pytest.raises(NetworkConfigError, match=r"devnet manifest .*tokens"):
        devnet_from_manifest(manifest)


_SYMBOLS = st.sampled_from(["USDC", "usdc", "USDt", "USDC.e", "wNEAR", "REF", "X", "a.near"])
_IDS = st.sampled_from(["a.near", "b.near", "wrap.near", "usdt.tether-token.near", HEX])


@given(st.lists(st.tuples(_SYMBOLS, _IDS), max_size=5))
def test_an_accepted_token_list_gives_each_name_one_token(entries: list[tuple[str, str]]) -> None:
    overrides = NetworkOverrides(tokens=tuple(_token(s, c) for s, c in entries))
    try:
        network = apply_overrides(public_network("mainnet"), overrides)
    except NetworkConfigError as exc:
        assert "tokens[" in exc.message  # always names the field it refuses
        return
    symbols = [t["symbol"].casefold() for t in network.tokens]
    ids = [t["contract_id"] for t in network.tokens]
    assert len(set(symbols)) == len(symbols) and len(set(ids)) == len(ids)
    for token in network.tokens:  # no symbol names another token's contract
        other = [t for t in network.tokens if t["contract_id"] == token["symbol"].casefold()]
        assert other in ([], [token])
    for symbol, contract_id in entries:  # every override is listed as written
        assert {"symbol": symbol, "contract_id": contract_id, "decimals": 6} in network.tokens
