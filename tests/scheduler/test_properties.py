"""Invariants of the scheduler for any pattern of ticks (hypothesis)."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from agent.scheduler.core import FireJob, FireOutcome
from agent.scheduler.strategies import parse_strategy
from policies.engine import PolicyEngine
from tests.policy.helpers import BOB, YOCTO, grants_doc, make_engine, near_transfer, transfer_grant
from tests.policy.helpers import Clock as PolicyClock
from tests.scheduler.helpers import T0, make_rig


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    gaps=st.lists(st.integers(min_value=0, max_value=6 * 3600), min_size=1, max_size=40),
    every_min=st.sampled_from([15, 60, 240]),
    max_trades=st.integers(min_value=1, max_value=5),
    coalesce=st.booleans(),
)
def test_no_tick_sequence_trades_past_the_cap_or_twice(
    gaps: list[int], every_min: int, max_trades: int, coalesce: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        rig = make_rig(Path(folder))
        try:
            spec = {
                "id": "d",
                "kind": "dca",
                "sell": "NEAR",
                "buy": "USDC",
                "amount": "1",
                "every": f"{every_min}m",
                "coalesce": coalesce,
                "guards": {"max_trades": max_trades, "per": "24h"},
            }
            rig.scheduler.add(parse_strategy(spec), now=T0)
            for gap in gaps:
                asyncio.run(
                    rig.scheduler.tick(rig.clock.advance(timedelta(seconds=gap)), wait=True)
                )
            fires = rig.store.fires("d")
            traded = sorted(f.started_at for f in fires if f.status == "done")
            for i, start in enumerate(traded):  # any trailing 24 h window holds <= max_trades
                inside = [t for t in traded[i:] if t - start < timedelta(hours=24)]
                assert len(inside) <= max_trades
            scheduled = [f.scheduled_at for f in fires]
            assert len(scheduled) == len(set(scheduled))  # a scheduled time fires at most once
            for job in rig.runner.jobs:  # fires only on the grid, never before their time
                assert (job.scheduled_at - T0) % timedelta(minutes=every_min) == timedelta(0)
            assert all(f.started_at >= f.scheduled_at for f in fires)
        finally:
            rig.close()


@dataclass
class PolicyRunner:
    """Sends each fire through a real PolicyEngine (reserve, then settle) on the test clock."""

    engine: PolicyEngine
    spent: list[tuple[datetime, int]] = field(default_factory=list)

    async def run(self, job: FireJob) -> FireOutcome:
        amount = int(Decimal(job.step.args["amount_in"]) * YOCTO)
        decision = self.engine.reserve(near_transfer(BOB, amount))
        if decision.outcome != "allow":
            return FireOutcome("denied", ", ".join(decision.reasons))
        assert decision.reservation_id is not None
        self.engine.settle(decision.reservation_id)
        self.spent.append((self.engine.clock(), amount))
        return FireOutcome("done", "sent")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    gaps=st.lists(st.integers(min_value=0, max_value=8 * 3600), min_size=1, max_size=30),
    every_min=st.sampled_from([30, 60, 180]),
    amount=st.sampled_from(["0.5", "1", "2"]),
)
@example(gaps=[1800] * 10, every_min=30, amount="1")
def test_no_sequence_of_dca_fires_exceeds_the_grant_cap(
    gaps: list[int], every_min: int, amount: str
) -> None:
    cap = 3 * YOCTO
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        rig = make_rig(root)
        engine, _ = make_engine(
            root / "policy.db",
            grants_doc(transfer_grant(windows=[{"token": "NEAR", "amount": "3", "period": "24h"}])),
            clock=PolicyClock(T0),
        )
        engine.clock = rig.clock  # one clock for the scheduler and the policy
        runner = PolicyRunner(engine)
        rig.scheduler.runner = runner
        try:
            spec = {
                "id": "d",
                "kind": "dca",
                "sell": "NEAR",
                "buy": "USDC",
                "amount": amount,
                "every": f"{every_min}m",
                # denials pause a strategy after max_failures in a row: kept out of the way here,
                # so every sequence runs to its end against the cap
                "guards": {"max_trades": 1000, "per": "24h", "max_failures": 1000},
            }
            rig.scheduler.add(parse_strategy(spec), now=T0)
            for gap in gaps:
                asyncio.run(
                    rig.scheduler.tick(rig.clock.advance(timedelta(seconds=gap)), wait=True)
                )
            for when, _ in runner.spent:  # any trailing 24 h window stays within the cap
                window = sum(a for t, a in runner.spent if when <= t < when + timedelta(hours=24))
                assert window <= cap
            statuses = [f.status for f in rig.store.fires("d")]
            assert set(statuses) <= {"done", "denied", "missed"}
            if gaps == [1800] * 10:  # ten fires of 1 NEAR against a 3 NEAR cap
                assert statuses.count("done") == 3 and statuses.count("denied") == 7
        finally:
            engine.close()
            rig.close()
