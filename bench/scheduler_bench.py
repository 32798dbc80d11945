"""How many strategies one daemon keeps on time: ``python -m bench.scheduler_bench``.

Each round runs the daemon's own loop (APScheduler heartbeat -> ``Scheduler.tick``) over N
active strategies for a while, on a durable job store and audit log like the daemon's: DCA jobs
with staggered starts and limit orders that check a moving price (about one in ten triggers).
The runner stands in for the chain (``--work-ms`` per fire) so what is measured is the
scheduler: misfire logic, guard rails, decisions, the ledger written before each fire acts and
the audit entries. Lateness is when a fire began acting minus its scheduled time.
The strategies are stored first and only then is the start fixed, so storing them takes
nothing from the schedule. Target: 10,000 strategies with 5 ms of chain time per fire, p99
lateness under 1 s and no due fire coalesced or missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from bench import baseline

if TYPE_CHECKING:  # the bench imports the agent only when it runs
    from agent.scheduler.core import FireJob, FireOutcome, FireReport, Scheduler
    from memory.audit import AuditLog


@dataclass
class _Market:
    """A price that wanders a cent or so per tick; the ``Market`` strategies read."""

    rng: random.Random
    now: Fraction = Fraction(3)

    def step(self) -> None:
        self.now = max(Fraction(1), self.now + Fraction(self.rng.randint(-5, 5), 100))

    async def price(self, base: str, quote: str, size: object = None) -> Fraction:
        return self.now

    async def balance(self, token: str) -> int:
        return 10**9

    async def decimals(self, token: str) -> int:
        return 6


@dataclass
class _Runner:
    work_s: float
    fires: int = 0

    async def run(self, job: FireJob) -> FireOutcome:
        from agent.scheduler.core import FireOutcome

        self.fires += 1
        await asyncio.sleep(self.work_s)
        return FireOutcome("done", "simulated")


@dataclass
class _Result:
    strategies: int
    fires: int
    seconds: float
    lateness_ms: list[float] = field(default_factory=list)
    ticks_ms: list[float] = field(default_factory=list)
    due: int = 0  # fires due in the round's time (every strategy on its grid)
    coalesced: int = 0  # due fires that never ran (coalesced or missed)
    cpu_s: float = 0.0  # this process's CPU time while the scheduler ran (not storing)

    def pct(self, values: list[float], q: float) -> float:
        if not values:
            return 0.0
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _timed_scheduler(result: _Result, after: Callable[[], None] | None = None) -> type[Scheduler]:
    """The daemon's Scheduler, recording each tick's duration (then running ``after``, e.g.
    moving the price)."""
    from agent.scheduler.core import Scheduler

    class TimedScheduler(Scheduler):
        async def tick(
            self, now: datetime | None = None, *, wait: bool = False
        ) -> list[FireReport]:
            began = time.perf_counter()
            try:
                return await super().tick(now, wait=wait)
            finally:
                result.ticks_ms.append((time.perf_counter() - began) * 1000)
                if after is not None:
                    after()

    return TimedScheduler


async def _round(
    n: int,
    seconds: float,
    every_s: int,
    tick_s: float,
    work_ms: float,
    seed: int,
    concurrency: int,
) -> _Result:
    from agent.scheduler.daemon import drive
    from agent.scheduler.strategies import parse_strategy
    from memory.audit import AuditLog
    from memory.jobs import JobStore
    from memory.switch import KillSwitch

    rng = random.Random(seed)
    folder = Path(tempfile.mkdtemp(prefix="near-agent-sched-bench-"))
    store = JobStore(folder / "jobs.db")
    audit = AuditLog(folder / "audit.db")
    switch = KillSwitch(folder / "memory.db", audit)
    market = _Market(rng)
    runner = _Runner(work_ms / 1000)
    result = _Result(n, 0, seconds)
    scheduler = _timed_scheduler(result, market.step)(
        store, runner, market, audit, switch, concurrency=concurrency
    )
    many = {"max_trades": 100_000, "per": "1h"}
    strategies = []
    for i in range(n):
        if i % 10 == 9:  # a limit order checking a moving price
            cents = rng.randint(250, 300)
            spec = {
                "id": f"lim{i}",
                "kind": "limit",
                "sell": "USDC",
                "buy": "NEAR",
                "amount": "1",
                "price_of": "NEAR",
                "price_in": "USDC",
                "below": f"{cents // 100}.{cents % 100:02d}",
                "every": f"{every_s}s",
                "guards": many,
            }
        else:
            spec = {
                "id": f"dca{i}",
                "kind": "dca",
                "sell": "USDC",
                "buy": "NEAR",
                "amount": "1",
                "every": f"{every_s}s",
                "guards": many,
            }
        strategies.append(parse_strategy(spec))
    scheduler.add_many(strategies, now=datetime.now(UTC))
    # only now that every strategy is stored is the start fixed: storing takes no schedule time
    start = datetime.now(UTC) + timedelta(seconds=1)
    store.set_next(
        (s.id, start + timedelta(seconds=every_s * i / n), "") for i, s in enumerate(strategies)
    )
    result.due = sum(
        1 + int((seconds - every_s * i / n) // every_s)
        for i in range(n)
        if every_s * i / n <= seconds
    )

    def on_report(report: FireReport) -> None:
        result.lateness_ms.append(report.lateness.total_seconds() * 1000)

    cpu = time.process_time()
    await drive(
        scheduler, tick_s=tick_s, stop=asyncio.Event(), run_for=seconds + 1, on_report=on_report
    )
    result.cpu_s = time.process_time() - cpu
    result.fires = len(result.lateness_ms)
    result.coalesced = _coalesced(audit)
    switch.close()
    audit.close()
    store.close()
    return result


def _coalesced(audit: AuditLog) -> int:
    """Due fires that never ran: folded into a later one, or missed past their grace."""
    return sum(
        int(e.data.get("coalesced", 1))
        for e in audit.entries(kind="schedule_fired", status="missed")
    )


async def _devnet_round(n: int, seconds: float, every_s: int, tick_s: float) -> _Result:
    """N DCA strategies doing real swaps (0.01 NEAR each) on an in-process devnet."""
    from agent.grant_changes import give_grants
    from agent.home import Home
    from agent.scheduler.daemon import drive
    from agent.scheduler.inbox import Inbox
    from agent.scheduler.market import ExchangeMarket
    from agent.scheduler.runner import SessionRunner
    from agent.scheduler.strategies import parse_strategy
    from agent.session import AgentSession
    from agent.setup_home import write_config
    from devnet.server import start_devnet
    from memory.audit import AuditLog
    from memory.jobs import JobStore
    from memory.switch import KillSwitch

    home = Home(Path(tempfile.mkdtemp(prefix="near-agent-sched-devnet-")))
    node = start_devnet(home.devnet_dir, port=0, reset=True)
    try:
        write_config(home, network="devnet", account_id="alice.test.near")
        (home.root / "grants.yaml").write_text(_bench_grant())
        session = await AgentSession.open(home)
        with AuditLog(home.audit_db) as audit:  # the user's `grants add grants.yaml`
            give_grants(home, home.root / "grants.yaml", audit)
        store = JobStore(home.root / "jobs.db")
        switch = KillSwitch(home.memory_db, session.audit)
        result = _Result(n, 0, seconds)
        scheduler = _timed_scheduler(result)(
            store,
            SessionRunner(session, Inbox(store, session.audit)),
            ExchangeMarket(session.ctx),
            session.audit,
            switch,
        )
        from agent.plan import Plan, PlanStep

        warm = Plan(
            intent="warm-up",
            planner="offline",
            steps=[
                PlanStep(
                    tool="swap", args={"token_in": "NEAR", "token_out": "USDC", "amount_in": "0.01"}
                )
            ],
        )
        await session.run_plan(warm, None, actor="scheduler")  # registrations, token metadata
        start = datetime.now(UTC) + timedelta(seconds=1)
        many = {"max_trades": 100_000, "per": "1h"}
        for i in range(n):
            spec = {
                "id": f"dca{i}",
                "kind": "dca",
                "sell": "NEAR",
                "buy": "USDC",
                "amount": "0.01",
                "every": f"{every_s}s",
                "guards": many,
            }
            scheduler.add(parse_strategy(spec), now=start + timedelta(seconds=every_s * i / n))
        statuses: dict[str, int] = {}

        def on_report(report: FireReport) -> None:
            result.lateness_ms.append(report.lateness.total_seconds() * 1000)
            statuses[report.status] = statuses.get(report.status, 0) + 1

        await drive(
            scheduler, tick_s=tick_s, stop=asyncio.Event(), run_for=seconds + 1, on_report=on_report
        )
        result.fires = len(result.lateness_ms)
        print(f"  devnet outcomes: {statuses}")
        switch.close()
        store.close()
        await session.close()
        return result
    finally:
        node.stop()


def _bench_grant() -> str:
    expires = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"""tokens:
  wNEAR: {{contract_id: wrap.test.near, decimals: 24}}
  USDC: {{contract_id: usdc.test.near, decimals: 6}}
grants:
  - id: bench-swaps
    expires_at: {expires}
    kinds: [swap]
    tokens: [NEAR, wNEAR, USDC]
    exchanges: [exchange.test.near]
    max_slippage_bps: 100
    quote_max_age: 60s
    per_action: {{NEAR: "1"}}  # wNEAR counts as NEAR: NEAR limits cover both
    windows:
      - {{token: NEAR, amount: "90", period: 24h}}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategies", type=int, nargs="+", default=[250, 1000, 2000, 4000, 10000])
    parser.add_argument("--seconds", type=float, default=20.0, help="per round")
    parser.add_argument("--every", type=int, default=10, help="each strategy's interval (s)")
    parser.add_argument("--tick", type=float, default=0.1, help="heartbeat (s)")
    parser.add_argument("--work-ms", type=float, default=5.0, help="simulated chain time per fire")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="fires acting at once (default: scheduler.max_concurrent_fires' default)",
    )
    parser.add_argument(
        "--devnet",
        action="store_true",
        help="real swaps on an in-process devnet instead of a simulated chain",
    )
    args = parser.parse_args(argv)
    from agent.config import SchedulerConfig

    concurrency = args.concurrency or SchedulerConfig().max_concurrent_fires
    chain = "real devnet swaps" if args.devnet else f"{args.work_ms} ms simulated chain time"
    print(
        f"interval {args.every}s per strategy, heartbeat {args.tick}s, {chain} per fire, "
        f"{args.seconds}s per round, {concurrency} fires at once"
    )
    print(
        f"{'strategies':>10} {'fires':>7} {'fires/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'tick p99 ms':>12} {'due':>7} {'coalesced':>9}"
    )
    figures: dict[str, float] = {}
    best = 0
    for n in args.strategies:
        r = asyncio.run(
            _devnet_round(n, args.seconds, args.every, args.tick)
            if args.devnet
            else _round(
                n, args.seconds, args.every, args.tick, args.work_ms, args.seed, concurrency
            )
        )
        p50, p99 = r.pct(r.lateness_ms, 0.5), r.pct(r.lateness_ms, 0.99)
        worst = max(r.lateness_ms, default=0.0)
        print(
            f"{n:>10} {r.fires:>7} {r.fires / r.seconds:>8.1f} {p50:>8.1f} {p99:>8.1f} "
            f"{worst:>8.1f} {r.pct(r.ticks_ms, 0.99):>12.1f} {r.due:>7} {r.coalesced:>9}"
        )
        if not args.devnet:  # every due fire ran: none coalesced or missed
            figures[f"coalesced_at_{n}"] = r.coalesced
            # CPU per fire: what a fire costs the scheduler, whatever else the machine runs
            # (lateness depends on the CPU share this process gets; this figure does not)
            figures[f"cpu_ms_per_fire_at_{n}"] = round(r.cpu_s * 1000 / max(r.fires, 1), 3)
        if p99 < 1000 and r.fires:
            best = max(best, n)
    print(f"most strategies with p99 lateness under 1 s: {best}")
    if figures:
        print(json.dumps(figures))
    idle = asyncio.run(baseline.idle_tick_p99_ms(args.tick, min(args.seconds, 3.0)))
    baseline.emit(idle_tick_p99_ms=idle)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
