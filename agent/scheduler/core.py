"""The scheduler's heart: ``tick(now)`` starts every fire due at ``now``, exactly once.

No model is in the loop: a fire is a strategy's decision (one typed tool call) sent straight to
the executor under the policy engine, with actor=scheduler. Order of a tick:

1. the kill switch: when paused, nothing at all happens;
2. for each due strategy whose previous fire is not still acting: misfire policy (grace,
   coalescing), guard rails, then ``decide``;
3. one SQLite transaction records every acting fire as "started" and advances each strategy's
   next fire time (a crash before it loses nothing: the fire is still due; after it, the fire is
   never run again, see ``recover``);
4. the fires act in the background, at most ``concurrency`` at once, and the tick returns at
   once: a slow fire never delays the next tick, so lateness is only the wait for a free slot.
   Two fires of one strategy never overlap (the next waits, due, until the last is recorded),
   and the chain adapter sends one transaction at a time per access key (nonce ledger), so
   concurrency never shares a nonce; the policy engine reserves each fire's budget in one write
   transaction, so concurrent fires never spend past a grant;
5. outcomes are written in groups (one ledger and one audit transaction for all the fires that
   ended meanwhile): a crash before that write loses nothing, since the fire is still "started"
   and ``recover`` settles it from the executor's journal, written before anything was sent.
   A strategy whose fires could not act (failed, refused, unknown, denied) too often in a row
   pauses itself, saying why.

Tests and APScheduler call the same ``tick``; the clock is a parameter, never a sleep.
``tick(wait=True)`` also waits for the fires it started; ``drain`` waits for every fire.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from agent.plan import PlanStep
from agent.scheduler import guards
from agent.scheduler.parsed import Parsed, ParsedCache
from agent.scheduler.strategies import Decision, Market, PriceUnavailable, Strategy
from memory.audit import AuditDraft, AuditKind, AuditLog
from memory.jobs import NOT_ACTING, STARTED, JobStore, StrategyRow, ts

log = logging.getLogger(__name__)

MAX_MISSED_ROWS = 100  # without coalescing, at most this many missed fires are listed per tick
DEFAULT_CONCURRENCY = 16  # agent.yaml's scheduler.max_concurrent_fires
PRUNE_EVERY = 600  # ticks between forgetting the parsed configs of strategies no longer active


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
    parsed: Parsed
    scheduled: datetime
    next_at: datetime | None
    note: str
    decision: Decision | None = None
    cid: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def strategy(self) -> Strategy:
        return self.parsed.strategy


@dataclass
class _Ended:
    """A fire that has acted, waiting for its outcome to be written with others."""

    job: FireJob
    candidate: _Candidate
    outcome: FireOutcome
    started_at: datetime


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
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        """``concurrency`` is how many fires act at once (at least 1)."""
        self.store = store
        self.runner = runner
        self.market = market
        self.audit = audit
        self.switch = switch
        self.clock = clock
        self.concurrency = max(1, concurrency)
        self._parsed = ParsedCache()
        self._ticks = 0
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self._acting: dict[str, asyncio.Task[None]] = {}  # strategy id -> its fire under way
        self._ended: list[_Ended] = []  # acted, outcome not yet written
        self._reports: list[FireReport] = []  # written, not yet returned by a tick

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
        self.add_many([strategy], source=source, replace=replace, now=now)

    def add_many(
        self,
        strategies: list[Strategy],
        *,
        source: str = "cli",
        replace: bool = False,
        now: datetime | None = None,
    ) -> None:
        """Store several strategies in one transaction, each first due at ``now``."""
        when = now or self.clock()
        self.store.add_strategies(
            [(s.id, s.kind, s.model_dump(mode="json"), when) for s in strategies],
            source=source,
            now=when,
            replace=replace,
        )

    # ------------------------------------------------------------------ ticking

    @property
    def acting(self) -> int:
        """Fires under way (acting, or waiting for a free slot)."""
        return len(self._acting)

    async def tick(self, now: datetime | None = None, *, wait: bool = False) -> list[FireReport]:
        """Start everything due at ``now``; returns a report per fire recorded since the last
        tick (fires started earlier that ended meanwhile, and this tick's missed and skipped
        ones). With ``wait`` it also waits for the fires it started and reports them."""
        now = now or self.clock()
        self._flush()
        reports = self._take_reports()
        if self.switch.is_paused():
            return reports + (await self.drain() if wait else [])
        candidates: list[_Candidate] = []
        advances: list[tuple[str, datetime | None, str]] = []
        skipped: list[AuditDraft] = []
        self._ticks += 1
        if self._ticks % PRUNE_EVERY == 0:
            self._parsed.prune(self.store.ids("active"))
        for row in self.store.due(now):
            if row.id in self._acting:
                continue  # its previous fire is still acting: this one waits, still due
            candidate = self._plan_fire(row, now, reports, skipped, advances)
            if candidate is None:
                continue
            reason = guards.blocked_by(self.store, row.id, candidate.parsed, now)
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
        gate = self._gate()
        for job, candidate in jobs:
            task = asyncio.create_task(self._fire(job, candidate, gate))
            self._acting[job.strategy_id] = task
        if wait:
            reports += await self.drain()
        return reports

    async def drain(self) -> list[FireReport]:
        """Wait for every fire under way and write its outcome; their reports (and any not
        yet returned). The daemon calls this before it stops, so no fire is cut short."""
        while self._acting:
            await asyncio.gather(*self._acting.values(), return_exceptions=True)
            self._flush()
        self._flush()
        return self._take_reports()

    def _take_reports(self) -> list[FireReport]:
        reports, self._reports = self._reports, []
        return reports

    def _gate(self) -> asyncio.Semaphore:
        """The slots of the running event loop (a semaphore belongs to one loop)."""
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.concurrency))
        return self._slots[1]

    def _plan_fire(
        self,
        row: StrategyRow,
        now: datetime,
        reports: list[FireReport],
        skipped: list[AuditDraft],
        advances: list[tuple[str, datetime | None, str]],
    ) -> _Candidate | None:
        """Which scheduled time fires now, under the strategy's misfire policy."""
        try:
            parsed = self._parsed.get(row)
        except ValueError as exc:
            self.store.set_status(row.id, "paused", f"invalid config: {exc}")
            return None
        strategy, grace = parsed.strategy, parsed.grace
        assert row.next_fire_at is not None
        interval, first = parsed.interval, row.next_fire_at
        behind = (now - first) // interval  # whole intervals elapsed past the first due time
        latest = first + behind * interval
        if strategy.coalesce:
            # every due time folds into the latest one; it still runs only within the grace
            missed = behind if now - latest <= grace else behind + 1
            chosen, next_at = latest, latest + interval
            note = f"coalesced {missed} missed fire(s)" if missed else ""
            if missed:
                skipped.append(self._draft(row.id, latest, "missed", {"coalesced": missed}))
            if now - latest > grace:
                reports.append(FireReport(row.id, latest, now, "missed", note))
                advances.append((row.id, next_at, note))
                return None
            return _Candidate(row, parsed, chosen, next_at, note)
        # without coalescing each due time runs in turn, unless it is past the grace
        if now - first > grace:
            past = now - grace - first
            count = past // interval + (1 if past % interval else 0)  # due times past the grace
            for k in range(min(count, MAX_MISSED_ROWS)):
                when = first + k * interval
                self.store.record_fire(row.id, when, "missed", now, {"late_by": str(now - when)})
                reports.append(FireReport(row.id, when, now, "missed"))
            advances.append((row.id, first + count * interval, f"missed {count} fire(s)"))
            return None
        return _Candidate(row, parsed, first, first + interval, "")

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
        steps = {  # each step as JSON once, for the ledger and the audit entry
            c.cid: c.decision.step.model_dump(mode="json")
            for c in candidates
            if c.decision is not None and c.decision.step is not None
        }
        fires = [
            (c.row.id, c.scheduled, c.cid, {"step": steps[c.cid], "note": c.decision.note})
            for c in candidates
            if c.decision is not None and c.cid in steps
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
                        "step": steps[c.cid],
                    },
                    None,
                    STARTED,
                )
            )
        self.audit.append_many(drafts)
        return jobs

    async def _fire(self, job: FireJob, candidate: _Candidate, gate: asyncio.Semaphore) -> None:
        """One fire in the background: act, then wait (as acting) for its outcome's write."""
        try:
            outcome, started_at = await self._act(job, gate)
        except BaseException:  # cancelled: it stays "started" in the ledger, for ``recover``
            self._acting.pop(job.strategy_id, None)
            raise
        self._ended.append(_Ended(job, candidate, outcome, started_at))

    async def _act(self, job: FireJob, gate: asyncio.Semaphore) -> tuple[FireOutcome, datetime]:
        async with gate:
            started_at = self.clock()  # lateness counts the wait for a free slot too
            if self.switch.is_paused():  # paused while this fire waited: it does not act
                return FireOutcome("abandoned", "paused before it acted"), started_at
            try:
                return await self.runner.run(job), started_at
            except Exception as exc:  # the ledger must still hear how it ended
                return FireOutcome("failed", f"{type(exc).__name__}: {exc}"), started_at

    def _flush(self) -> None:
        """Every ended fire's outcome into the ledger and the audit log (one transaction each
        for all of them), then auto-pause; only then may those strategies fire again."""
        done, self._ended = self._ended, []
        if not done:
            return
        try:
            self._reports.extend(self._finish(done))
        except BaseException:
            self._ended = done + self._ended  # written at the next flush; still "started"
            raise
        for ended in done:
            self._acting.pop(ended.job.strategy_id, None)

    def _finish(self, done: list[_Ended]) -> list[FireReport]:
        """Outcomes into the ledger and the audit log (one transaction each), then auto-pause."""
        now = self.clock()
        self.store.finish_fires(
            [
                (
                    e.job.fire_id,
                    e.outcome.status,
                    {
                        "message": e.outcome.message,
                        "tx_hashes": e.outcome.tx_hashes,
                        **e.outcome.detail,
                    },
                )
                for e in done
            ],
            now,
        )
        drafts = [
            AuditDraft(
                AuditKind.SCHEDULE_FIRED,
                "scheduler",
                e.job.correlation_id,
                {
                    "strategy_id": e.job.strategy_id,
                    "fire_id": e.job.fire_id,
                    "message": e.outcome.message,
                    "tx_hashes": e.outcome.tx_hashes,
                },
                None,
                e.outcome.status,
            )
            for e in done
        ]
        for e in done:
            if e.candidate.decision is not None and e.candidate.decision.one_shot:
                # say how its one fire went
                self.store.set_status(
                    e.job.strategy_id, "completed", f"fired once: {e.outcome.status}"
                )
        could_not_act = {
            e.job.strategy_id: e
            for e in done
            if e.outcome.status in NOT_ACTING
            and not (e.candidate.decision is not None and e.candidate.decision.one_shot)
        }
        for strategy_id, e in could_not_act.items():
            count = guards.should_auto_pause(self.store, strategy_id, e.candidate.parsed)
            if count is None:
                continue
            reason = guards.pause_reason(count, e.outcome.status, e.outcome.message)
            self.store.set_status(strategy_id, "paused", reason)
            drafts.append(
                AuditDraft(
                    AuditKind.PAUSED,
                    "scheduler",
                    e.job.correlation_id,
                    {"strategy_id": strategy_id, "reason": reason},
                )
            )
        self.audit.append_many(drafts)
        return [
            FireReport(
                e.job.strategy_id,
                e.job.scheduled_at,
                e.started_at,
                e.outcome.status,
                e.outcome.message,
            )
            for e in done
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
