from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from policies.engine import PolicyEngine
from policies.evaluator import DENY
from policies.pricing import PoolPrices, PriceRules
from tests.policy.helpers import (
    BOB,
    CAROL,
    START,
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


def test_utc_hours(tmp_path: Path) -> None:
    clock = Clock(START.replace(hour=8, minute=59))
    engine, _ = make_engine(
        tmp_path / "p.db", grants_doc(transfer_grant(hours_utc=["09:00-17:00"])), clock=clock
    )
    assert engine.dry_run(near_transfer(BOB, YOCTO)).reasons == ["outside_hours"]
    clock.advance(minutes=1)
    assert engine.dry_run(near_transfer(BOB, YOCTO)).outcome == "allow"
    clock.now = START.replace(hour=17)
    assert engine.dry_run(near_transfer(BOB, YOCTO)).reasons == ["outside_hours"]


def test_expiry_and_not_before(tmp_path: Path) -> None:
    clock = Clock()
    doc = grants_doc(transfer_grant(not_before=(START + timedelta(hours=1)).isoformat()))
    doc["grants"][0]["expires_at"] = (START + timedelta(hours=2)).isoformat()
    engine, _ = make_engine(tmp_path / "p.db", doc, clock=clock)
    assert engine.dry_run(near_transfer(BOB, YOCTO)).reasons == ["grant_not_yet_valid"]
    clock.advance(hours=1)
    assert engine.dry_run(near_transfer(BOB, YOCTO)).outcome == "allow"
    clock.advance(hours=1)
    assert engine.dry_run(near_transfer(BOB, YOCTO)).reasons == ["grant_expired"]


def test_first_time_recipient_until_a_payment_settles(tmp_path: Path) -> None:
    engine, _ = make_engine(
        tmp_path / "p.db",
        grants_doc(transfer_grant(confirm={"first_time_recipient": True, "kinds": []})),
    )
    first = engine.dry_run(near_transfer(BOB, YOCTO))
    assert first.reasons == ["first_time_recipient"]
    approval = engine.approve(near_transfer(BOB, YOCTO))
    reserved = engine.reserve(near_transfer(BOB, YOCTO), approval_id=approval.id)
    assert engine.dry_run(near_transfer(BOB, YOCTO)).outcome == "confirm"  # still pending
    engine.settle(reserved.reservation_id)
    assert engine.dry_run(near_transfer(BOB, YOCTO)).outcome == "allow"
    assert engine.dry_run(near_transfer(CAROL, YOCTO)).reasons == ["first_time_recipient"]


def test_kind_marked_confirm_and_usd_threshold(tmp_path: Path) -> None:
    engine, _ = make_engine(
        tmp_path / "p.db",
        grants_doc(
            swap_grant(confirm={"above_usd": "5"}), transfer_grant(confirm={"kinds": ["transfer"]})
        ),
    )
    assert engine.dry_run(near_transfer(BOB, YOCTO)).reasons == ["confirm_kind"]
    assert engine.dry_run(swap(WRAP, USDC, YOCTO, 2_980_000)).outcome == "allow"  # $3
    assert engine.dry_run(swap(WRAP, USDC, 2 * YOCTO, 5_960_000)).reasons == ["confirm_above_usd"]


def test_no_grant_means_deny(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db")
    decision = engine.dry_run(near_transfer(BOB, YOCTO))
    assert decision.outcome == DENY and decision.reasons == ["no_grant"]
    engine, _ = make_engine(tmp_path / "q.db", grants_doc(swap_grant()))
    assert engine.dry_run(near_transfer(BOB, YOCTO)).reasons == ["no_grant"]


def test_global_ceiling_spans_grants(tmp_path: Path) -> None:
    doc = grants_doc(
        transfer_grant(),
        transfer_grant(id="pay2"),
        ceiling=[{"token": "NEAR", "amount": "6", "period": "24h"}],
    )
    engine, _ = make_engine(tmp_path / "p.db", doc)
    assert engine.reserve(near_transfer(BOB, 4 * YOCTO)).grant_id == "pay"
    denied = engine.reserve(near_transfer(BOB, 3 * YOCTO))
    assert denied.outcome == DENY and denied.reasons == ["global_ceiling"]
    assert any(b.scope == "global" and b.left == 2 * YOCTO for b in denied.budgets)


def test_engine_with_pool_prices_and_staleness(tmp_path: Path) -> None:
    clock = Clock()
    fetched = {"at": START}

    def pools() -> list[Pool]:
        return [pool(0, (WRAP, 1000 * YOCTO), (USDC, 3000 * 10**6), at=fetched["at"])]

    rules = PriceRules(min_liquidity_usd=100, sole_source_min_liquidity_usd=1_000)
    source = PoolPrices(pools, stablecoins={USDC: 6}, bridge=WRAP, rules=rules)
    make_engine(tmp_path / "p.db", grants_doc(swap_grant()))
    from tests.policy.helpers import FACTS

    engine = PolicyEngine(
        tmp_path / "p.db", facts=FACTS, prices=source, quotes=source, clock=clock, durable=False
    )
    quote = source.quote(WRAP, USDC, YOCTO).amount_out
    floor = -(-quote * 9_900 // 10_000)
    assert engine.dry_run(swap(WRAP, USDC, YOCTO, floor)).outcome == "allow"
    assert engine.dry_run(swap(WRAP, USDC, YOCTO, floor - 1)).reasons == ["slippage_exceeded"]
    clock.advance(minutes=2)  # reserves are now two minutes old
    decision = engine.dry_run(swap(WRAP, USDC, YOCTO, floor))
    assert decision.outcome == DENY and "price_unavailable" in decision.reasons
    fetched["at"] = clock()
    assert engine.dry_run(swap(WRAP, USDC, YOCTO, floor)).outcome == "allow"
