"""Concurrent fires on a real devnet (HTTP): they overlap, one strategy's never do, and every
transaction is signed once, with its own nonce, and lands once."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from agent.scheduler.core import FireJob, FireOutcome, Scheduler
from agent.scheduler.inbox import Inbox
from agent.scheduler.market import ExchangeMarket
from agent.scheduler.runner import SessionRunner
from agent.scheduler.strategies import parse_strategy
from agent.session import AgentSession
from devnet.server import RunningDevnet
from memory.jobs import JobStore
from memory.switch import KillSwitch
from tests.scheduler.devnet_home import make_home
from tests.scheduler.helpers import Clock
from tests.support.chain_reads import usdc_and_nonce

STRATEGIES = 4
ROUNDS = 2


@dataclass
class Timed:
    """The real runner, with when each fire began and ended acting (monotonic seconds)."""

    inner: SessionRunner
    spans: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    async def run(self, job: FireJob) -> FireOutcome:
        began = time.monotonic()
        try:
            return await self.inner.run(job)
        finally:
            self.spans.setdefault(job.strategy_id, []).append((began, time.monotonic()))


def most_at_once(spans: list[tuple[float, float]]) -> int:
    edges = sorted([(b, 1) for b, _ in spans] + [(e, -1) for _, e in spans])
    level = best = 0
    for _, step in edges:
        level += step
        best = max(best, level)
    return best


def test_concurrent_fires_overlap_but_never_within_a_strategy_and_send_once(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    home = make_home(tmp_path / "home", fresh_devnet.state_dir / "manifest.json", cap_near="50")
    usdc_before, nonce_before = usdc_and_nonce(fresh_devnet)

    async def scenario() -> None:
        session = await AgentSession.open(home)
        store = JobStore(home.root / "jobs.db")
        switch = KillSwitch(home.memory_db, session.audit)
        clock = Clock()
        runner = Timed(SessionRunner(session, Inbox(store, session.audit, clock=clock)))
        market = ExchangeMarket(session.ctx, refresh=timedelta(0))
        scheduler = Scheduler(
            store, runner, market, session.audit, switch, clock=clock, concurrency=STRATEGIES
        )
        try:
            for n in range(STRATEGIES):
                spec = {
                    "id": f"dca{n}",
                    "kind": "dca",
                    "sell": "NEAR",
                    "buy": "USDC",
                    "amount": "0.1",
                    "every": "1m",
                    "guards": {"max_trades": 100},
                }
                scheduler.add(parse_strategy(spec), now=clock.now)
            reports = await scheduler.tick(clock.now)  # starts all four, waits for none
            assert reports == [] and scheduler.acting == STRATEGIES
            # their next fires fall due while the first ones still act: they must wait
            reports += await scheduler.tick(clock.advance(timedelta(minutes=1)))
            while len(reports) < STRATEGIES * ROUNDS:
                reports += await scheduler.drain()
                reports += await scheduler.tick(clock.now)
            reports += await scheduler.drain()
            assert sorted(r.status for r in reports) == ["done"] * (STRATEGIES * ROUNDS)

            spans = [s for per in runner.spans.values() for s in per]
            assert most_at_once(spans) > 1  # fires acted at the same time
            for sid, per in runner.spans.items():  # but never two of one strategy
                assert len(per) == ROUNDS and most_at_once(per) == 1, sid

            audit = session.audit
            signed = audit.entries(kind="tx_submitted")
            hashes = [e.data["tx_hash"] for e in signed]
            assert len(hashes) == len(set(hashes))  # each signature once
            assert not audit.entries(kind="error")  # no nonce refused, nothing unknown
            assert len(audit.entries(kind="tx_outcome", status="ok")) == STRATEGIES * ROUNDS
            for fire in store.fires():
                assert fire.status == "done" and fire.detail["tx_hashes"]
            assert audit.verify().ok
            usdc_after, nonce_after = usdc_and_nonce(fresh_devnet)
            assert usdc_after > usdc_before
            assert nonce_after - nonce_before == len(hashes)  # every signed one landed, once
        finally:
            switch.close()
            store.close()
            await session.close()

    asyncio.run(scenario())
