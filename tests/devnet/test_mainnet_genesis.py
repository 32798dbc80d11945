"""The mainnet- and testnet-shaped devnets over real HTTP: their names, token ids and decimals,
thousands of pools of every role, and real swaps by a genesis user (py-near and the tools layer).

The expected ids and decimals are written out here from public sources (the tokens' metadata on
mainnet, Ref's interface configuration for testnet), not read from the module under test.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from agent.scheduler.market_maker import start_market
from devnet.genesis_mainnet import build_mainnet_genesis, build_testnet_genesis
from devnet.server import RunningDevnet, start_devnet
from tests.devnet.helpers import NEAR, near_account, view
from tools import registry
from tools.base import ToolContext
from tools.keys import load_credentials
from tools.network import devnet_from_manifest

MAINNET_TOKENS = {
    "wNEAR": ("wrap.near", 24),
    "USDC": ("17208628f84f5d6ad33f0da3bbbeb27ffcb398eac501a31bd6ad2011e36133a1", 6),
    "USDT": ("usdt.tether-token.near", 6),
    "USDC.e": ("a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48.factory.bridge.near", 6),
    "USDT.e": ("dac17f958d2ee523a2206206994597c13d831ec7.factory.bridge.near", 6),
    "REF": ("token.v2.ref-finance.near", 18),
    "STNEAR": ("meta-pool.near", 24),
}
TESTNET_TOKENS = {
    "wNEAR": ("wrap.testnet", 24),
    "USDC": ("3e2210e1184b45b64c8a434c0a7e7b23cc04ea7eb7a6c3c32520d03d4afcb8af", 6),
    "USDT": ("usdtt.fakes.testnet", 6),
    "USDC.e": ("usdc.fakes.testnet", 6),
    "USDT.e": ("usdt.fakes.testnet", 6),
    "REF": ("ref.fakes.testnet", 18),
    "STNEAR": ("meta-v2.pool.testnet", 24),
}
ROLES = {"deep", "mid", "dust", "drained", "empty", "junk", "unrelated"}
PAGE = 500


@pytest.fixture(scope="module")
def mainnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDevnet]:
    node = start_devnet(
        tmp_path_factory.mktemp("mainnet"), genesis=build_mainnet_genesis(), reset=True
    )
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="module")
def testnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDevnet]:
    node = start_devnet(
        tmp_path_factory.mktemp("testnet"), genesis=build_testnet_genesis(), reset=True
    )
    try:
        yield node
    finally:
        node.stop()


def _tokens(node: RunningDevnet) -> dict[str, str]:
    return {t["symbol"]: t["contract_id"] for t in node.manifest["tokens"]}


def _all_pools(node: RunningDevnet) -> list[dict[str, Any]]:
    exchange = node.manifest["exchange"]["contract_id"]
    count = view(node, exchange, "get_number_of_pools", {})
    pools: list[dict[str, Any]] = []
    while len(pools) < count:
        pools += view(node, exchange, "get_pools", {"from_index": len(pools), "limit": PAGE})
    return pools


def _deep_pool(node: RunningDevnet, *tokens: str, kind: str = "SIMPLE_POOL") -> int:
    for pool in node.manifest["exchange"]["pools"]:
        if (
            pool["role"] == "deep"
            and pool["pool_kind"] == kind
            and set(pool["token_account_ids"]) == set(tokens)
        ):
            return pool["pool_id"]
    raise LookupError(tokens)


def _near_per_usd(pool: dict[str, Any], wrap: str, usd: str) -> Fraction:
    """The pool's spot price of a whole NEAR in whole dollars (USDC and friends: 6 decimals)."""
    reserves = dict(zip(pool["token_account_ids"], (int(a) for a in pool["amounts"]), strict=True))
    return Fraction(reserves[usd] * 10**24, reserves[wrap] * 10**6)


@pytest.mark.parametrize(
    ("shape", "network_id", "expected", "least_pools", "root"),
    [
        ("mainnet", "mainnet", MAINNET_TOKENS, 5_000, "near"),
        ("testnet", "testnet", TESTNET_TOKENS, 1_000, "testnet"),
    ],
)
def test_ids_decimals_and_pool_count_are_the_networks(
    request: pytest.FixtureRequest,
    shape: str,
    network_id: str,
    expected: dict[str, tuple[str, int]],
    least_pools: int,
    root: str,
) -> None:
    node: RunningDevnet = request.getfixturevalue(shape)
    manifest = node.manifest
    assert manifest["network_id"] == network_id
    listed = {t["symbol"]: (t["contract_id"], t["decimals"]) for t in manifest["tokens"]}
    assert listed == expected
    for symbol, (contract, decimals) in expected.items():
        metadata = view(node, contract, "ft_metadata", {})
        assert metadata["decimals"] == decimals, symbol
    exchange = "v2.ref-finance.near" if shape == "mainnet" else "ref-finance-101.testnet"
    assert manifest["exchange"]["contract_id"] == exchange
    assert manifest["wrap_id"] == expected["wNEAR"][0]
    assert view(node, exchange, "get_number_of_pools", {}) >= least_pools
    assert manifest["root_account"] == root and manifest["user_account"] == f"alice.{root}"
    keyed = {a["account_id"]: a["key_file"] for a in manifest["accounts"]}
    assert {f"alice.{root}", f"bob.{root}", root, manifest["market_account"]} <= set(keyed)
    assert all(Path(path).exists() for path in keyed.values())
    assert "tasks" not in manifest and "notary" not in manifest  # neither network has them


def test_every_role_is_there_and_no_junk_pool_is_free_money(mainnet: RunningDevnet) -> None:
    tokens = _tokens(mainnet)
    wrap, usdc = tokens["wNEAR"], tokens["USDC"]
    pools = _all_pools(mainnet)
    listed = mainnet.manifest["exchange"]["pools"]
    assert len(pools) == len(listed) >= 5_000
    roles = Counter(entry["role"] for entry in listed)
    assert set(roles) == ROLES
    assert roles["unrelated"] > len(listed) // 3  # most pools are irrelevant to NEAR/USDC
    near_usdc = [
        (entry["role"], pool)
        for entry, pool in zip(listed, pools, strict=True)
        if set(pool["token_account_ids"]) == {wrap, usdc}
    ]
    deep = [p for role, p in near_usdc if role == "deep"]
    assert len(deep) == 1
    assert Fraction(24, 10) < _near_per_usd(deep[0], wrap, usdc) < Fraction(26, 10)
    dust = [_near_per_usd(p, wrap, usdc) for role, p in near_usdc if role == "dust"]
    assert max(dust) > 5 and min(dust) < 1  # far off in both directions
    for entry, pool in zip(listed, pools, strict=True):
        if entry["role"] == "empty":  # created, never funded
            assert pool["amounts"] == ["0", "0"] and pool["shares_total_supply"] == "0"
        if entry["role"] == "drained":  # one side down to a few base units
            assert min(map(int, pool["amounts"])) <= 1_000
    for role, pool in near_usdc:  # the richer side of a dust or drained pool: at most $25
        if role in ("dust", "drained"):
            reserves = dict(zip(pool["token_account_ids"], map(int, pool["amounts"]), strict=True))
            assert reserves[usdc] <= 25 * 10**6 and reserves[wrap] <= 10 * NEAR


def test_same_seed_same_pools_other_seed_other_pools() -> None:
    def pools(seed: int) -> list[Any]:
        genesis = build_mainnet_genesis(pools=200, seed=seed)
        return [c.args for c in genesis.setup_calls if c.method_name == "add_liquidity"]

    assert pools(1) == pools(1)
    assert pools(1) != pools(2)


def _swap_near_for_usdc(node: RunningDevnet) -> tuple[int, int, int]:
    """alice wraps 10 NEAR and swaps it in the deep wNEAR/USDC pool: (quoted, before, after)."""
    tokens = _tokens(node)
    wrap, usdc = tokens["wNEAR"], tokens["USDC"]
    exchange = node.manifest["exchange"]["contract_id"]
    user = node.manifest["user_account"]
    pool_id = _deep_pool(node, wrap, usdc)
    amount = 10 * NEAR

    async def scenario() -> tuple[int, int, int]:
        alice = await near_account(node, user)
        before = int(view(node, usdc, "ft_balance_of", {"account_id": user}))
        wrapped = await alice.function_call(wrap, "near_deposit", {}, amount=amount)
        assert "SuccessValue" in wrapped.status, wrapped.status
        quoted = int(
            view(
                node,
                exchange,
                "get_return",
                {"pool_id": pool_id, "token_in": wrap, "amount_in": str(amount), "token_out": usdc},
            )
        )
        action = {
            "pool_id": pool_id,
            "token_in": wrap,
            "token_out": usdc,
            "amount_in": str(amount),
            "min_amount_out": str(quoted),
        }
        swapped = await alice.function_call(
            wrap,
            "ft_transfer_call",
            {
                "receiver_id": exchange,
                "amount": str(amount),
                "msg": json.dumps({"actions": [action]}),
            },
            gas=200 * 10**12,
            amount=1,
        )
        assert all("Failure" not in r.status for r in swapped.receipt_outcome), swapped
        after = int(view(node, usdc, "ft_balance_of", {"account_id": user}))
        await alice.shutdown()
        return quoted, before, after

    return asyncio.run(scenario())


@pytest.mark.parametrize("shape", ["mainnet", "testnet"])
def test_a_genesis_user_swaps_near_for_usdc_at_about_mainnets_price(
    request: pytest.FixtureRequest, shape: str
) -> None:
    node: RunningDevnet = request.getfixturevalue(shape)
    quoted, before, after = _swap_near_for_usdc(node)
    assert after - before == quoted
    assert 24 * 10**6 < quoted < 25 * 10**6  # 10 NEAR at about $2.50, less the 0.3% fee


def test_the_agents_swap_tool_works_with_mainnet_names(mainnet: RunningDevnet) -> None:
    """The tools layer resolves "USDC" to the 64-hex id, routes among 5,000 pools and delivers."""
    network = devnet_from_manifest(mainnet.manifest)
    user = mainnet.manifest["market_account"]  # not alice: the other tests' swaps stay exact
    key_file = network.key_file_for(user)
    assert key_file is not None

    async def scenario() -> Any:
        ctx = ToolContext.create(
            network, user, load_credentials(key_file, user), max_slippage_bps=100
        )
        tools = registry.build_registry()
        try:
            action = await registry.prepare(
                "swap", {"token_in": "NEAR", "token_out": "USDC", "amount_in": "3"}, ctx, tools
            )
            return action, await registry.execute(action, ctx, tools)
        finally:
            await ctx.aclose()

    action, result = asyncio.run(scenario())
    assert action.quote.token_out == MAINNET_TOKENS["USDC"][0]
    assert result.ok, result.summary
    assert result.balance_changes[MAINNET_TOKENS["USDC"][0]] >= action.quote.min_amount_out


def test_stable_and_rated_pools_hold_the_stablecoins_and_stnear(mainnet: RunningDevnet) -> None:
    """USDt -> USDC through the USDC/USDt stable pool pays what the pool quoted; the rated
    stNEAR/wNEAR pool prices stNEAR at its rate."""
    tokens = _tokens(mainnet)
    usdc, usdt, wrap, stnear = tokens["USDC"], tokens["USDT"], tokens["wNEAR"], tokens["STNEAR"]
    exchange = mainnet.manifest["exchange"]["contract_id"]
    stable_id = _deep_pool(mainnet, usdc, usdt, kind="STABLE_SWAP")
    rated_id = _deep_pool(mainnet, stnear, wrap, kind="RATED_SWAP")
    four = _deep_pool(mainnet, usdc, usdt, tokens["USDC.e"], tokens["USDT.e"], kind="STABLE_SWAP")
    assert view(mainnet, exchange, "get_pool", {"pool_id": four})["pool_kind"] == "STABLE_SWAP"
    rated = view(mainnet, exchange, "get_rated_pool", {"pool_id": rated_id})
    assert rated["rates"][rated["token_account_ids"].index(stnear)] == str(135 * 10**22)
    one_stnear = view(
        mainnet,
        exchange,
        "get_return",
        {"pool_id": rated_id, "token_in": stnear, "amount_in": str(NEAR), "token_out": wrap},
    )
    assert Fraction(134, 100) < Fraction(int(one_stnear), NEAR) < Fraction(136, 100)
    user = mainnet.manifest["user_account"]
    amount = 100 * 10**6

    async def scenario() -> tuple[int, int, int]:
        alice = await near_account(mainnet, user)
        before = int(view(mainnet, usdc, "ft_balance_of", {"account_id": user}))
        quoted = int(
            view(
                mainnet,
                exchange,
                "get_return",
                {
                    "pool_id": stable_id,
                    "token_in": usdt,
                    "amount_in": str(amount),
                    "token_out": usdc,
                },
            )
        )
        action = {
            "pool_id": stable_id,
            "token_in": usdt,
            "token_out": usdc,
            "amount_in": str(amount),
            "min_amount_out": str(quoted),
        }
        swapped = await alice.function_call(
            usdt,
            "ft_transfer_call",
            {
                "receiver_id": exchange,
                "amount": str(amount),
                "msg": json.dumps({"actions": [action]}),
            },
            gas=200 * 10**12,
            amount=1,
        )
        assert all("Failure" not in r.status for r in swapped.receipt_outcome), swapped
        after = int(view(mainnet, usdc, "ft_balance_of", {"account_id": user}))
        await alice.shutdown()
        return quoted, before, after

    quoted, before, after = asyncio.run(scenario())
    assert after - before == quoted
    assert 99_900_000 < quoted < 100 * 10**6  # a stable pool: about 1:1, less its 0.05% fee


@pytest.mark.slow
def test_the_market_maker_trades_on_a_public_shape(testnet: RunningDevnet) -> None:
    """``near-agent devnet --genesis testnet --market``: the market maker named in the manifest
    holds every listed token and its swaps go through."""
    market = start_market(testnet, seed=3, interval_s=0.01, max_trades=4)
    market.thread.join(120)
    assert market.trades == 4 and market.errors == []
