"""Fakes for scheduler tests: a settable clock, a scripted market and a recording runner."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

from agent.scheduler.core import FireJob, FireOutcome, Scheduler
from agent.scheduler.strategies import OrderSize, PriceUnavailable
from memory.audit import AuditLog
from memory.jobs import JobStore
from memory.switch import KillSwitch

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


@dataclass
class FakeMarket:
    prices: dict[tuple[str, str], Fraction] = field(default_factory=dict)
    balances: dict[str, int] = field(default_factory=dict)
    stale: bool = False
    asked: list[tuple[str, str, OrderSize | None]] = field(default_factory=list)

    async def price(self, base: str, quote: str, size: OrderSize | None = None) -> Fraction:
        self.asked.append((base, quote, size))
        if self.stale or (base, quote) not in self.prices:
            raise PriceUnavailable("stale")
        return self.prices[(base, quote)]

    async def balance(self, token: str) -> int:
        return self.balances.get(token, 0)

    async def decimals(self, token: str) -> int:
        return 6


@dataclass
class FakeRunner:
    status: str = "done"
    jobs: list[FireJob] = field(default_factory=list)

    async def run(self, job: FireJob) -> FireOutcome:
        self.jobs.append(job)
        return FireOutcome(self.status, "ok" if self.status == "done" else "it failed")


@dataclass
class Rig:
    scheduler: Scheduler
    store: JobStore
    audit: AuditLog
    switch: KillSwitch
    market: FakeMarket
    runner: FakeRunner
    clock: Clock

    def close(self) -> None:
        for thing in (self.store, self.audit, self.switch):
            thing.close()


def make_rig(folder: Path, runner: FakeRunner | None = None) -> Rig:
    clock = Clock()
    store = JobStore(folder / "jobs.db", durable=False)
    audit = AuditLog(folder / "audit.db")
    switch = KillSwitch(folder / "memory.db", audit)
    market = FakeMarket()
    runner = runner or FakeRunner()
    scheduler = Scheduler(store, runner, market, audit, switch, clock=clock)
    return Rig(scheduler, store, audit, switch, market, runner, clock)
