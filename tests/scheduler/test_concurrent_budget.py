"""Concurrent fires under one budget (hypothesis): all N in flight at once, exactly K land."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.scheduler.core import FireJob, FireOutcome
from agent.scheduler.strategies import parse_strategy
from policies.engine import PolicyEngine
from tests.policy.helpers import BOB, YOCTO, grants_doc, make_engine, near_transfer, transfer_grant
from tests.policy.helpers import Clock as PolicyClock
from tests.scheduler.helpers import T0, make_rig


@dataclass
class BarrierRunner:
    """Every fire reserves only once all N are in flight, and settles only once all N have
    decided: the reservations of concurrent fires meet the same budget at the same moment."""

    engine: PolicyEngine
    before: asyncio.Barrier
    after: asyncio.Barrier
    landed: list[int] = field(default_factory=list)

    async def run(self, job: FireJob) -> FireOutcome:
        amount = int(Decimal(job.step.args["amount_in"]) * YOCTO)
        await self.before.wait()
        decision = self.engine.reserve(near_transfer(BOB, amount))
        await self.after.wait()
        if decision.outcome != "allow":
            return FireOutcome("denied", ", ".join(decision.reasons))
        assert decision.reservation_id is not None
        self.engine.settle(decision.reservation_id)
        self.landed.append(amount)
        return FireOutcome("done", "sent")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(min_value=2, max_value=8), data=st.data())
def test_a_budget_admitting_k_of_n_concurrent_fires_lands_exactly_k(n: int, data) -> None:
    k = data.draw(st.integers(min_value=0, max_value=n), label="k")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        rig = make_rig(root)
        cap = str(k) if k else "0.5"
        engine, _ = make_engine(
            root / "policy.db",
            # a cap of k NEAR admits k fires of 1 NEAR (0.5 NEAR admits none)
            grants_doc(transfer_grant(windows=[{"token": "NEAR", "amount": cap, "period": "24h"}])),
            clock=PolicyClock(T0),
        )
        engine.clock = rig.clock
        rig.scheduler.concurrency = n

        async def scenario() -> BarrierRunner:
            runner = BarrierRunner(engine, asyncio.Barrier(n), asyncio.Barrier(n))
            rig.scheduler.runner = runner
            for i in range(n):
                spec = {
                    "id": f"d{i}",
                    "kind": "dca",
                    "sell": "NEAR",
                    "buy": "USDC",
                    "amount": "1",
                    "every": "1h",
                }
                rig.scheduler.add(parse_strategy(spec), now=T0)
            await rig.scheduler.tick(T0, wait=True)
            return runner

        try:
            runner = asyncio.run(scenario())
            statuses = [f.status for f in rig.store.fires()]
            assert sorted(statuses) == sorted(["done"] * k + ["denied"] * (n - k))
            assert len(runner.landed) == k and sum(runner.landed) == k * YOCTO
            assert len(engine.pending()) == 0
        finally:
            engine.close()
            rig.close()
