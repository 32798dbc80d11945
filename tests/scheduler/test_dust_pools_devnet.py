"""Pools anyone can create, made with real transactions on the devnet, against real near-agent
processes: `do` keeps the same USD-cap decision and records its price sources, a pool pushed away
from the others denies with the reason, and a daemon's triggers do not fire on dust."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.home import Home
from agent.setup_home import write_config
from devnet.contracts.exchange import LP_STORAGE_COST, POOL_STORAGE_COST
from devnet.server import RunningDevnet
from memory.audit import AuditKind, AuditLog
from memory.jobs import JobStore
from tests.agent.agent_runs import near_agent
from tests.scheduler.devnet_home import make_home
from tests.support.chain_reads import usdc_and_nonce
from tests.support.grants import give_home_grants
from tools.action import FunctionCallSpec, TransactionSpec
from tools.base import context_from_manifest

MARKET, EXCHANGE = "market.test.near", "exchange.test.near"
WRAP, USDC = "wrap.test.near", "usdc.test.near"
NEAR_UNITS, USDC_UNITS, TGAS = 10**24, 10**6, 10**12


async def _add_pool(devnet: RunningDevnet, near: int, usdc: int) -> int:
    """As the market account (any account may): wrap ``near`` NEAR, deposit it and ``usdc`` USDC
    in the exchange, create a wNEAR/USDC pool and fill it. Returns the new pool's id."""
    ctx = context_from_manifest(devnet.manifest, MARKET)
    assert ctx.credentials is not None
    try:
        pool_id = int(await ctx.chain.view(EXCHANGE, "get_number_of_pools", {}))

        async def call(receiver: str, method: str, args: dict[str, Any], deposit: int) -> None:
            action = FunctionCallSpec(
                method_name=method, args=args, gas=150 * TGAS, deposit=deposit
            )
            spec = TransactionSpec(signer_id=MARKET, receiver_id=receiver, actions=(action,))
            await ctx.chain.send(ctx.credentials, spec)

        wnear, dollars = near * NEAR_UNITS, usdc * USDC_UNITS
        await call(WRAP, "near_deposit", {}, wnear)
        for token, amount in ((WRAP, wnear), (USDC, dollars)):
            deposit = {"receiver_id": EXCHANGE, "amount": str(amount), "msg": ""}
            await call(token, "ft_transfer_call", deposit, 1)
        await call(
            EXCHANGE, "add_simple_pool", {"tokens": [WRAP, USDC], "fee": 30}, POOL_STORAGE_COST
        )
        amounts = {"pool_id": pool_id, "amounts": [str(wnear), str(dollars)]}
        await call(EXCHANGE, "add_liquidity", amounts, LP_STORAGE_COST)
        return pool_id
    finally:
        await ctx.aclose()


def add_pool(devnet: RunningDevnet, near: int, usdc: int) -> int:
    return asyncio.run(_add_pool(devnet, near, usdc))


def usd_capped_home(root: Path, manifest: Path) -> Home:
    """Alice may pay bob up to $100 of NEAR per payment, priced from the exchange's pools."""
    home = Home(root)
    write_config(home, network="devnet", account_id="alice.test.near", devnet_manifest=manifest)
    expires = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    grant = {
        "id": "pay-bob",
        "expires_at": expires,
        "kinds": ["transfer"],
        "tokens": ["NEAR"],
        "recipients": ["bob.test.near"],
        "per_action_usd": "100",
    }
    (home.root / "grants.yaml").write_text(yaml.safe_dump({"grants": [grant]}))
    give_home_grants(home)
    return home


def decisions(home: Home) -> list[dict[str, Any]]:
    with AuditLog(home.audit_db) as audit:
        return [e.data for e in audit.iter_all() if e.kind == AuditKind.POLICY_DECISION]


def test_do_keeps_its_usd_cap_decision_over_dust_and_denies_a_pushed_pool(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    dust_up = add_pool(fresh_devnet, near=1, usdc=20)  # one wNEAR for $20
    dust_down = add_pool(fresh_devnet, near=1_000, usdc=10)  # NEAR at a cent
    home = usd_capped_home(tmp_path / "home", fresh_devnet.state_dir / "manifest.json")

    paid = near_agent(home, "do", "send 30 NEAR to bob.test.near", "--yes")  # about $90
    assert paid.returncode == 0, paid.stdout + paid.stderr
    record = decisions(home)[-1]
    assert record["outcome"] == "allow"
    near = record["prices"]["near"]
    sources = {tuple(s["pools"]): s for s in near["sources"]}
    genesis = sources[(0,)]  # the genesis wNEAR/USDC pool, $300,000 deep
    assert genesis["kinds"] == ["SIMPLE_POOL"]
    assert genesis["liquidity_usd_micro"] == str(300_000 * USDC_UNITS)
    assert int(genesis["amount_out"]) > 89 * USDC_UNITS  # 30 NEAR, about $89.6
    assert not {(dust_up,), (dust_down,)} & set(sources)
    discarded = {d["pools"][0]: d["reason"] for d in near["discarded"]}
    assert "floor" in discarded[dust_up] and "floor" in discarded[dust_down]

    over = near_agent(home, "do", "send 40 NEAR to bob.test.near", "--yes")  # about $120
    # the rule's own words (the code, per_action_usd_cap, is in the audit log)
    assert "exceeds $100 per action" in over.stdout, over.stdout + over.stderr

    pushed = add_pool(fresh_devnet, near=1_000, usdc=20_000)  # $20,000 deep, NEAR at $20
    denied = near_agent(home, "do", "send 10 NEAR to bob.test.near", "--yes")
    assert "disagree by" in denied.stdout, denied.stdout + denied.stderr  # price_unavailable
    why = decisions(home)[-1]["unpriced"]["near"]["reason"]
    assert "disagree by" in why and f"pool {pushed} reads it highest" in why, why


TRIGGERS = [
    {
        "id": "take-profit",
        "kind": "take_profit",
        "sell": "NEAR",
        "buy": "USDC",
        "amount": "1",
        "price_of": "NEAR",
        "price_in": "USDC",
        "above": "3.5",
        "every": "1s",
    },
    {
        "id": "stop-loss",
        "kind": "stop_loss",
        "sell": "NEAR",
        "buy": "USDC",
        "amount": "1",
        "price_of": "NEAR",
        "price_in": "USDC",
        "below": "2.5",
        "every": "1s",
    },
]


@pytest.mark.slow  # a daemon process runs its strategies for a few seconds
def test_a_daemon_fires_no_trigger_on_dust_pools(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    add_pool(fresh_devnet, near=1, usdc=20)  # pushes NEAR up: a take-profit at $3.5 would fire
    add_pool(fresh_devnet, near=1_000, usdc=10)  # pushes NEAR down: a stop-loss at $2.5 would
    manifest = fresh_devnet.state_dir / "manifest.json"
    home = make_home(tmp_path / "home", manifest, strategies=TRIGGERS)
    before = usdc_and_nonce(fresh_devnet)

    ran = near_agent(home, "daemon", "--run-for", "3", "--tick", "0.1")
    assert ran.returncode == 0, ran.stdout + ran.stderr

    store = JobStore(home.root / "jobs.db")
    try:
        for strategy in ("take-profit", "stop-loss"):
            row = store.strategy(strategy)
            assert row is not None
            note = row.last_note or ""
            assert "NEAR at 2.99" in note and "waiting" in note, note
        assert store.fires() == []
    finally:
        store.close()
    assert usdc_and_nonce(fresh_devnet) == before  # nothing was swapped


def set_pricing(home: Home, **knobs: int) -> None:
    config = yaml.safe_load(home.config_file.read_text())
    config["pricing"] = knobs
    home.config_file.write_text(yaml.safe_dump(config, sort_keys=False))


@pytest.mark.slow  # a `do` and a daemon process
def test_agent_yaml_pricing_knobs_reach_the_policy_and_the_triggers(
    devnet: RunningDevnet, tmp_path: Path
) -> None:
    manifest = devnet.state_dir / "manifest.json"
    payer = usd_capped_home(tmp_path / "payer", manifest)
    set_pricing(payer, sole_source_min_liquidity_usd=1_000_000)  # the $300,000 pool is not enough
    denied = near_agent(payer, "do", "send 1 NEAR to bob.test.near", "--yes")
    assert "only 1 price source" in denied.stdout, denied.stdout + denied.stderr
    reason = decisions(payer)[-1]["unpriced"]["near"]["reason"]
    assert "only 1 price source" in reason and "$1000000" in reason, reason

    trader = make_home(tmp_path / "trader", manifest, strategies=TRIGGERS[:1])
    set_pricing(trader, min_liquidity_usd=1_000_000)  # every pool is under this floor
    ran = near_agent(trader, "daemon", "--run-for", "2", "--tick", "0.1")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    store = JobStore(trader.root / "jobs.db")
    try:
        row = store.strategy("take-profit")
        assert row is not None and "no pool with at least $1000000" in (row.last_note or "")
        assert store.fires() == []
    finally:
        store.close()
