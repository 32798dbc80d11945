"""The scheduler's heart: ``tick(now)`` runs every fire due at ``now``, exactly once.

No model is in the loop: a fire is a strategy's decision (one typed tool call) sent straight to
the executor under the policy engine, with actor=scheduler. Order of a tick:

1. the kill switch: when paused, nothing at all happens;
2. for each due strategy: misfire policy (grace, coalescing), guard rails, then ``decide``;
3. one SQLite transaction records every acting fire as "started" and advances each strategy's
   next fire time (a crash before it loses nothing: the fire is still due; after it, the fire is
   never run again, see ``recover``);
4. the fires act concurrently; each outcome is written to the ledger and the audit log, and a
   strategy that fails too often in a row pauses itself.

Tests and APScheduler call the same ``tick``; the clock is a parameter, never a sleep.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from agent.plan import PlanStep
from agent.scheduler import guards
from agent.scheduler.strategies import (
    Decision,
    Market,
    PriceUnavailable,
    Strategy,
    parse_strategy,
)
from memory.audit import AuditDraft, AuditKind, AuditLog
from memory.jobs import STARTED, JobStore, StrategyRow, ts

MAX_MISSED_ROWS = 100  # without coalescing, at most this many missed fires are listed per tick


def utc_now() -> datetime:
    return datetime.now(UTC)


class Switch(Protocol):
    def is_paused(self) -> bool: ...


@dataclass(frozen=True)
class FireJob:
    """One fire that is about to act (already recorded as started)."""

    fire_id: int
    strategy_id: str
    scheduled_at: datetime
    correlation_id: str
    step: PlanStep
    intent: str


@dataclass
class FireOutcome:
    status: str  # done | failed | unknown | denied | declined | refused | awaiting_approval
    message: str
    tx_hashes: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)


class Runner(Protocol):
    async def run(self, job: FireJob) -> FireOutcome: ...


@dataclass(frozen=True)
class FireReport:
    strategy_id: str
    scheduled_at: datetime
    started_at: datetime
    status: str
    message: str = ""

    @property
    def lateness(self) -> timedelta:
        return self.started_at - self.scheduled_at


@dataclass
class _Candidate:
    row: StrategyRow
    strategy: Strategy
    scheduled: datetime
    next_at: datetime | None
    note: str
    decision: Decision | None = None
    cid: str = field(default_factory=lambda: uuid.uuid4().hex)


class Scheduler:
    """Runs strategies from a JobStore through a Runner; see the module docstring."""

    def __init__(
        self,
        store: JobStore,
        runner: Runner,
        market: Market,
        audit: AuditLog,
        switch: Switch,
        *,
        clock: Callable[[], datetime] = utc_now,
        concurrency: int = 1,
    ) -> None:
        """``concurrency`` is how many fires act at once. Keep 1 for one account: the tool
        layer judges a swap's outcome by the account's balance change, which another action
        from the same account running at the same time would blur."""
        self.store = store
        self.runner = runner
        self.market = market
        self.audit = audit
        self.switch = switch
        self.clock = clock
        self._gate = asyncio.Semaphore(concurrency)

    # ------------------------------------------------------------------ strategies

    def add(
        self,
        strategy: Strategy,
        *,
        source: str = "cli",
        replace: bool = False,
        now: datetime | None = None,
    ) -> None:
        """Store a strategy; its first fire is due at once (``now``)."""
        when = now or self.clock()
        self.store.add_strategy(
            strategy.id,
            strategy.kind,
            strategy.model_dump(mode="json"),
            source=source,
            next_fire_at=when,
            now=when,
            replace=replace,
        )

    # ------------------------------------------------------------------ ticking

    async def tick(self, now: datetime | None = None) -> list[FireReport]:
        """Run everything due at ``now``; returns a report per fire that was recorded."""
        now = now or self.clock()
        if self.switch.is_paused():
            return []
        reports: list[FireReport] = []
        candidates: list[_Candidate] = []
        advances: list[tuple[str, datetime | None, str]] = []
        skipped: list[AuditDraft] = []
        for row in self.store.due(now):
            candidate = self._plan_fire(row, now, reports, skipped)
            if candidate is None:
                continue
            reason = guards.blocked_by(self.store, row.id, candidate.strategy.guards, now)
            if reason is not None:
                self._skip(candidate, now, reason, reports, skipped)
                advances.append((row.id, candidate.next_at, f"skipped: {reason}"))
                continue
            try:
                candidate.decision = await candidate.strategy.decide(self.market)
            except PriceUnavailable as exc:
                advances.append((row.id, candidate.next_at, f"no fresh price: {exc}"))
                continue
            except Exception as exc:  # a strategy that cannot decide does nothing
                advances.append((row.id, candidate.next_at, f"could not decide: {exc}"))
                continue
            if not candidate.decision.acts:
                advances.append((row.id, candidate.next_at, candidate.decision.note))
                continue
            candidates.append(candidate)
        jobs = self._start(candidates, advances, now)
        if skipped:
            self.audit.append_many(skipped)
        if jobs:
            outcomes = await asyncio.gather(*(self._act(job) for job, _ in jobs))
            reports.extend(
                self._finish(
                    [
                        (job, c, outcome, started)
                        for (job, c), (outcome, started) in zip(jobs, outcomes, strict=True)
                    ]
                )
            )
        return reports

    def _plan_fire(
        self, row: StrategyRow, now: datetime, reports: list[FireReport], skipped: list[AuditDraft]
    ) -> _Candidate | None:
        """Which scheduled time fires now, under the strategy's misfire policy."""
        try:
            strategy = parse_strategy(row.config)
        except ValueError as exc:
            self.store.set_status(row.id, "paused", f"invalid config: {exc}")
            return None
        assert row.next_fire_at is not None
        interval, first = strategy.interval, row.next_fire_at
        behind = (now - first) // interval  # whole intervals elapsed past the first due time
        latest = first + behind * interval
        if strategy.coalesce:
            # every due time folds into the latest one; it still runs only within the grace
            missed = behind if now - latest <= strategy.grace else behind + 1
            chosen, next_at = latest, latest + interval
            note = f"coalesced {missed} missed fire(s)" if missed else ""
            if missed:
                skipped.append(self._draft(row.id, latest, "missed", {"coalesced": missed}))
            if now - latest > strategy.grace:
                reports.append(FireReport(row.id, latest, now, "missed", note))
                self.store.set_next([(row.id, next_at, note)])
                return None
            return _Candidate(row, strategy, chosen, next_at, note)
        # without coalescing each due time runs in turn, unless it is past the grace
        if now - first > strategy.grace:
            past = now - strategy.grace - first
            count = past // interval + (1 if past % interval else 0)  # due times past the grace
            for k in range(min(count, MAX_MISSED_ROWS)):
                when = first + k * interval
                self.store.record_fire(row.id, when, "missed", now, {"late_by": str(now - when)})
                reports.append(FireReport(row.id, when, now, "missed"))
            self.store.set_next([(row.id, first + count * interval, f"missed {count} fire(s)")])
            return None
        return _Candidate(row, strategy, first, first + interval, "")

    def _skip(
        self,
        candidate: _Candidate,
        now: datetime,
        reason: str,
        reports: list[FireReport],
        skipped: list[AuditDraft],
    ) -> None:
        sid = candidate.row.id
        if self.store.record_fire(sid, candidate.scheduled, "skipped", now, {"guard": reason}):
            skipped.append(self._draft(sid, candidate.scheduled, "skipped", {"guard": reason}))
            reports.append(FireReport(sid, candidate.scheduled, now, "skipped", reason))

    def _start(
        self,
        candidates: list[_Candidate],
        advances: list[tuple[str, datetime | None, str]],
        now: datetime,
    ) -> list[tuple[FireJob, _Candidate]]:
        """Record acting fires as started and advance every due strategy, in one transaction."""
        for c in candidates:
            assert c.decision is not None
            note = "; ".join(n for n in (c.note, c.decision.note) if n)
            advances.append((c.row.id, None if c.decision.one_shot else c.next_at, note))
        if not candidates:
            self.store.set_next(advances)
            return []
        fires = [
            (
                c.row.id,
                c.scheduled,
                c.cid,
                {"step": c.decision.step.model_dump(mode="json"), "note": c.decision.note},
            )
            for c in candidates
            if c.decision is not None and c.decision.step is not None
        ]
        one_shots = [c.row.id for c in candidates if c.decision and c.decision.one_shot]
        started = self.store.start_fires(fires, now, complete=one_shots, advance=advances)
        jobs: list[tuple[FireJob, _Candidate]] = []
        drafts: list[AuditDraft] = []
        for c in candidates:
            fire_id = started.get((c.row.id, ts(c.scheduled)))
            if fire_id is None or c.decision is None or c.decision.step is None:
                continue  # already in the ledger: it ran (or is running) once already
            intent = f"scheduled {c.strategy.kind} {c.row.id}: {c.strategy.describe()}"
            jobs.append(
                (FireJob(fire_id, c.row.id, c.scheduled, c.cid, c.decision.step, intent), c)
            )
            drafts.append(
                AuditDraft(
                    AuditKind.SCHEDULE_FIRED,
                    "scheduler",
                    c.cid,
                    {
                        "strategy_id": c.row.id,
                        "fire_id": fire_id,
                        "scheduled_at": ts(c.scheduled),
                        "late_ms": int((now - c.scheduled) / timedelta(milliseconds=1)),
                        "note": c.decision.note,
                        "step": c.decision.step.model_dump(mode="json"),
                    },
                    None,
                    STARTED,
                )
            )
        self.audit.append_many(drafts)
        return jobs

    async def _act(self, job: FireJob) -> tuple[FireOutcome, datetime]:
        async with self._gate:
            started_at = self.clock()  # lateness counts the wait for a free slot too
            if self.switch.is_paused():  # paused while this fire waited: it does not act
                return FireOutcome("abandoned", "paused before it acted"), started_at
            try:
                return await self.runner.run(job), started_at
            except Exception as exc:  # the ledger must still hear how it ended
                return FireOutcome("failed", f"{type(exc).__name__}: {exc}"), started_at

    def _finish(
        self, done: list[tuple[FireJob, _Candidate, FireOutcome, datetime]]
    ) -> list[FireReport]:
        """Outcomes into the ledger and the audit log (one transaction each), then auto-pause."""
        now = self.clock()
        self.store.finish_fires(
            [
                (
                    job.fire_id,
                    outcome.status,
                    {"message": outcome.message, "tx_hashes": outcome.tx_hashes, **outcome.detail},
                )
                for job, _, outcome, _ in done
            ],
            now,
        )
        drafts = [
            AuditDraft(
                AuditKind.SCHEDULE_FIRED,
                "scheduler",
                job.correlation_id,
                {
                    "strategy_id": job.strategy_id,
                    "fire_id": job.fire_id,
                    "message": outcome.message,
                    "tx_hashes": outcome.tx_hashes,
                },
                None,
                outcome.status,
            )
            for job, _, outcome, _ in done
        ]
        for job, c, outcome, _ in done:
            if c.decision is not None and c.decision.one_shot:  # say how its one fire went
                self.store.set_status(job.strategy_id, "completed", f"fired once: {outcome.status}")
        failing = {
            job.strategy_id: (job, c)
            for job, c, outcome, _ in done
            if outcome.status in ("failed", "unknown", "refused")
            and not (c.decision is not None and c.decision.one_shot)
        }
        for strategy_id, (job, candidate) in failing.items():
            failures = guards.should_auto_pause(self.store, strategy_id, candidate.strategy.guards)
            if failures is None:
                continue
            reason = f"auto-paused after {failures} consecutive failures"
            self.store.set_status(strategy_id, "paused", reason)
            drafts.append(
                AuditDraft(
                    AuditKind.PAUSED,
                    "scheduler",
                    job.correlation_id,
                    {"strategy_id": strategy_id, "reason": reason},
                )
            )
        self.audit.append_many(drafts)
        return [
            FireReport(job.strategy_id, job.scheduled_at, started, outcome.status, outcome.message)
            for job, _, outcome, started in done
        ]

    def _draft(
        self, strategy_id: str, scheduled: datetime, status: str, data: dict[str, Any]
    ) -> AuditDraft:
        return AuditDraft(
            AuditKind.SCHEDULE_FIRED,
            "scheduler",
            uuid.uuid4().hex,
            {"strategy_id": strategy_id, "scheduled_at": ts(scheduled), **data},
            None,
            status,
        )
