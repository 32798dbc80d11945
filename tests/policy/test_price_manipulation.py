"""USD caps and the independent quote against pools anyone can create: dust pools in both
directions change no decision; a deep pool pushed away from the others denies, saying why; the
decision records every source and every discarded pool."""

from __future__ import annotations

from pathlib import Path

import pytest

from policies.engine import PolicyEngine
from policies.evaluator import ALLOW, DENY
from policies.pricing import PoolPrices
from tests.policy.helpers import (
    BOB,
    FACTS,
    USDC,
    WRAP,
    YOCTO,
    Clock,
    grants_doc,
    make_engine,
    near_transfer,
    pool,
    swap,
    swap_grant,
    transfer_grant,
)
from tools.pools import Pool

U = 10**6
USDT = "usdt.test.near"
HONEST = [
    pool(0, (WRAP, 100_000 * YOCTO), (USDC, 300_000 * U)),  # NEAR at $3
    pool(1, (WRAP, 50_000 * YOCTO), (USDT, 150_000 * U)),
    pool(2, (USDC, 200_000 * U), (USDT, 200_000 * U), fee_bps=1),  # shows USDT is a dollar
]
DUST_UP = pool(7, (WRAP, YOCTO), (USDC, 20 * U))  # one wNEAR for $20
DUST_DOWN = pool(8, (WRAP, 1_000 * YOCTO), (USDC, 10 * U))  # NEAR at a cent
PUSHED = pool(9, (WRAP, 1_000 * YOCTO), (USDC, 20_000 * U))  # $20,000 deep, NEAR at $20


def engine(tmp_path: Path, pools: list[Pool]) -> PolicyEngine:
    """A $100-per-action NEAR payment grant and a $50 swap grant, priced from ``pools``."""
    clock = Clock()
    doc = grants_doc(
        transfer_grant(per_action={}, per_action_usd="100"),
        swap_grant(per_action_usd="50"),
    )
    make_engine(tmp_path / "p.db", doc, clock=clock)
    source = PoolPrices(lambda: pools, stablecoins={USDC: 6, USDT: 6}, bridge=WRAP, source="test")
    return PolicyEngine(
        tmp_path / "p.db", facts=FACTS, prices=source, quotes=source, clock=clock, durable=False
    )


@pytest.mark.parametrize("dust", [None, DUST_UP, DUST_DOWN], ids=["honest", "up", "down"])
def test_dust_pools_change_no_usd_cap_decision(tmp_path: Path, dust: Pool | None) -> None:
    policy = engine(tmp_path, [*HONEST, *([dust] if dust else [])])
    assert policy.dry_run(near_transfer(BOB, 30 * YOCTO)).outcome == ALLOW  # about $90
    over = policy.dry_run(near_transfer(BOB, 40 * YOCTO))  # about $120
    assert over.outcome == DENY and over.reasons == ["per_action_usd_cap"]
    if dust is not None:
        record = over.to_dict()["prices"]["near"]
        assert any(d["pools"] == [dust.pool_id] for d in record["discarded"])


@pytest.mark.parametrize("dust", [DUST_UP, DUST_DOWN], ids=["up", "down"])
def test_dust_pools_change_no_independent_quote(tmp_path: Path, dust: Pool) -> None:
    honest = PoolPrices(lambda: HONEST, stablecoins={USDC: 6, USDT: 6}, bridge=WRAP)
    quoted = honest.quote(WRAP, USDC, 10 * YOCTO).amount_out
    floor = -(-quoted * 9_900 // 10_000)  # the swap grant allows 100 bps under the quote
    policy = engine(tmp_path, [*HONEST, dust])
    assert policy.dry_run(swap(WRAP, USDC, 10 * YOCTO, floor)).outcome == ALLOW
    low = policy.dry_run(swap(WRAP, USDC, 10 * YOCTO, floor - 1))
    assert low.reasons == ["slippage_exceeded"]


def test_a_deep_pool_pushed_away_from_the_others_denies_with_a_clear_reason(
    tmp_path: Path,
) -> None:
    policy = engine(tmp_path, [*HONEST, PUSHED])
    decision = policy.dry_run(near_transfer(BOB, 10 * YOCTO))
    assert decision.outcome == DENY and decision.reasons == ["price_unavailable"]
    (why,) = [t.detail for t in decision.trace if t.code == "price_unavailable"]
    assert "disagree by" in why and "pool 9 reads it highest" in why, why
    record = decision.to_dict()["unpriced"]["near"]
    assert record["reason"] == why
    assert {tuple(s["pools"]) for s in record["sources"]} == {(0,), (1,), (9,)}


def test_the_decision_records_the_price_and_each_source(tmp_path: Path) -> None:
    policy = engine(tmp_path, [*HONEST, DUST_UP])
    record = policy.dry_run(near_transfer(BOB, 10 * YOCTO)).to_dict()
    near = record["prices"]["near"]
    assert near["amount"] == str(10 * YOCTO) and near["source"] == "test"
    by_pool = {tuple(s["pools"]): s for s in near["sources"]}
    assert set(by_pool) == {(0,), (1,)}
    first = by_pool[(0,)]
    assert first["kinds"] == ["SIMPLE_POOL"] and first["target"] == USDC
    assert 29 * U < int(first["amount_out"]) < 30 * U  # 10 NEAR at about $3, less fees
    assert first["liquidity_usd_micro"] == str(300_000 * U)
    (dust,) = near["discarded"]
    assert dust["pools"] == [7] and "under the $10000 floor" in dust["reason"]
