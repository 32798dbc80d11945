"""Rolling windows hold in every window, across threads and processes."""

from __future__ import annotations

import multiprocessing
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.evaluator import DENY
from policies.store import PolicyLedger
from tests.policy.helpers import (
    BOB,
    START,
    YOCTO,
    Clock,
    grants_doc,
    make_engine,
    near_transfer,
    reserve_worker,
    store_grants,
    transfer_grant,
)
from tools.action import NEAR

HOUR, DAY = 3600, 86_400

events = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=6 * HOUR),  # seconds since the previous action
        st.integers(min_value=1, max_value=6),  # NEAR
        st.sampled_from(["keep", "keep", "release", "settle_less"]),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events)
def test_no_sequence_exceeds_any_rolling_cap_in_any_window(seq) -> None:
    caps = {HOUR: 8 * YOCTO, DAY: 20 * YOCTO}  # grant windows
    ceiling = {2 * HOUR: 12 * YOCTO}  # global ceiling
    doc = grants_doc(
        transfer_grant(
            per_action={"NEAR": "6"},
            windows=[
                {"token": "NEAR", "amount": "8", "period": "1h"},
                {"token": "NEAR", "amount": "20", "period": "24h"},
            ],
        ),
        ceiling=[{"token": "NEAR", "amount": "12", "period": "2h"}],
    )
    with tempfile.TemporaryDirectory() as tmp:
        engine, clock = make_engine(Path(tmp) / "p.db", doc, prices=False)
        spent: list[tuple[int, int]] = []  # (seconds since START, base units that count)
        for delta, near, fate in seq:
            clock.advance(seconds=delta)
            decision = engine.reserve(near_transfer(BOB, near * YOCTO))
            if decision.reservation_id is None:
                assert decision.outcome == DENY or decision.outcome == "confirm"
                continue
            t = int((clock() - START).total_seconds())
            if fate == "release":
                engine.release(decision.reservation_id)
            elif fate == "settle_less":
                engine.settle(decision.reservation_id, {NEAR: near * YOCTO // 2})
                spent.append((t, near * YOCTO // 2))
            else:
                engine.settle(decision.reservation_id)
                spent.append((t, near * YOCTO))
        engine.close()
    for period, cap in {**caps, **ceiling}.items():
        for start, _ in spent:  # the heaviest windows start at an action
            total = sum(a for t, a in spent if start <= t <= start + period)
            assert total <= cap, (period, start, total)


def test_fixed_window_boundary_burst_is_refused(tmp_path: Path) -> None:
    """10 NEAR at 23:59 and 10 more at 00:01 would pass a per-calendar-day cap of 10."""
    doc = grants_doc(
        transfer_grant(
            per_action={"NEAR": "10"}, windows=[{"token": "NEAR", "amount": "10", "period": "24h"}]
        )
    )
    clock = Clock(START.replace(hour=23, minute=59))
    engine, _ = make_engine(tmp_path / "p.db", doc, clock=clock, prices=False)
    assert engine.reserve(near_transfer(BOB, 10 * YOCTO)).reservation_id
    clock.advance(minutes=2)  # the next calendar day
    late = engine.reserve(near_transfer(BOB, 10 * YOCTO))
    assert late.reservation_id is None and late.reasons == ["window_cap"]
    line = next(b for b in late.budgets if b.measure == NEAR)
    assert line.left == 0 and line.used == 10 * YOCTO
    clock.advance(hours=23, minutes=57)  # 23:58 after the first: still inside
    assert engine.dry_run(near_transfer(BOB, YOCTO)).reasons == ["window_cap"]
    clock.advance(minutes=1, seconds=1)  # just over 24 h after the first
    assert engine.reserve(near_transfer(BOB, 10 * YOCTO)).reservation_id


def test_rate_limit_and_min_interval(tmp_path: Path) -> None:
    doc = grants_doc(transfer_grant(rate_limit={"count": 3, "period": "1h"}, min_interval="60s"))
    engine, clock = make_engine(tmp_path / "p.db", doc, prices=False)
    assert engine.reserve(near_transfer(BOB, YOCTO)).reservation_id
    assert engine.reserve(near_transfer(BOB, YOCTO)).reasons == ["min_interval"]
    for _ in range(2):
        clock.advance(seconds=61)
        assert engine.reserve(near_transfer(BOB, YOCTO)).reservation_id
    clock.advance(seconds=61)
    assert engine.reserve(near_transfer(BOB, YOCTO)).reasons == ["rate_limit"]
    clock.advance(hours=1)
    assert engine.reserve(near_transfer(BOB, YOCTO)).reservation_id


def test_usd_window_counts_every_token_at_its_price(tmp_path: Path) -> None:
    doc = grants_doc(
        transfer_grant(
            per_action={"NEAR": "5", "USDC": "100"}, windows=[{"usd": "10", "period": "24h"}]
        )
    )
    engine, _ = make_engine(tmp_path / "p.db", doc)
    from tests.policy.helpers import USDC, ft_transfer

    first = engine.reserve(near_transfer(BOB, 2 * YOCTO))  # $6
    assert first.reservation_id and first.usd == {NEAR: 6_000_000}
    assert engine.reserve(ft_transfer(USDC, BOB, 4_000_001)).reasons == ["window_cap"]
    assert engine.reserve(ft_transfer(USDC, BOB, 4_000_000)).reservation_id


@pytest.mark.parametrize("processes", [4, 8])
def test_processes_reserving_against_one_budget_never_overspend(
    tmp_path: Path, processes: int
) -> None:
    db = tmp_path / "p.db"
    store_grants(
        db, grants_doc(transfer_grant(windows=[{"token": "NEAR", "amount": "15", "period": "24h"}]))
    )
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(processes) as pool:
        results = pool.starmap(reserve_worker, [(str(db), 8, YOCTO, START)] * processes)
    granted = [r for batch in results for r in batch]
    assert len(granted) == 15  # 8 attempts of 1 NEAR per process against 15: exactly 15 pass
    ledger = PolicyLedger(db)
    tokens, _ = ledger.usage("pay", 0)
    assert tokens[NEAR] == 15 * YOCTO
    ledger.close()


def test_pending_reservations_are_listed_for_reconciliation(tmp_path: Path) -> None:
    engine, clock = make_engine(tmp_path / "p.db", grants_doc(transfer_grant()), prices=False)
    first = engine.reserve(near_transfer(BOB, YOCTO)).reservation_id
    clock.advance(minutes=10)
    second = engine.reserve(near_transfer(BOB, YOCTO)).reservation_id
    assert [r.id for r in engine.pending()] == [first, second]
    assert [r.id for r in engine.pending(older_than=timedelta(minutes=5))] == [first]
    engine.settle(first)
    assert [r.id for r in engine.pending()] == [second]


def test_a_batch_is_decided_in_order_against_one_budget(tmp_path: Path) -> None:
    doc = grants_doc(transfer_grant(windows=[{"token": "NEAR", "amount": "5", "period": "24h"}]))
    engine, _ = make_engine(tmp_path / "p.db", doc, prices=False)
    batch = [(near_transfer(BOB, 2 * YOCTO), None)] * 3 + [({"tool": "transfer"}, None)]
    decisions = engine.reserve_many(batch)
    assert [bool(d.reservation_id) for d in decisions] == [True, True, False, False]
    assert decisions[2].reasons == ["window_cap"]
    assert decisions[3].reasons == ["malformed_action"]
    assert len(engine.pending()) == 2
