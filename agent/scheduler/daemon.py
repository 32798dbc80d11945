"""``near-agent daemon``: the scheduler process.

APScheduler (3.x, AsyncIOScheduler) drives two jobs: a heartbeat that calls ``Scheduler.tick``
(every ``tick_s``; coalesced, never two at once) and the inbox's expiry. The persistent state is
the SQLite job store (memory/jobs.py: strategies with their next fire time, the fire ledger, the
inbox), so the APScheduler jobs themselves hold nothing and are rebuilt at every start. Before
the first tick the daemon settles what a crash left behind: policy reservations and started fires
(never re-run).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.home import Home
from agent.scheduler.core import FireReport, Scheduler
from agent.scheduler.strategies import parse_strategies
from memory.jobs import JobStore

log = logging.getLogger(__name__)


def jobs_db(home: Home) -> Path:
    """Where the strategies, the fire ledger and the approval inbox live."""
    return home.root / "jobs.db"


def sync_config_strategies(
    store: JobStore, items: list[dict[str, Any]], now: datetime
) -> list[str]:
    """Make the store match agent.yaml's ``strategies:`` (only those that came from it).

    A changed config replaces the stored one (its schedule starts again); one removed from the
    file is removed. Returns a line per change. Raises ValueError on an invalid entry.
    """
    wanted = {s.id: s for s in parse_strategies(items)}
    changes: list[str] = []
    for strategy in wanted.values():
        stored = store.strategy(strategy.id)
        config = strategy.model_dump(mode="json")
        if stored is not None and stored.source != "config":
            raise ValueError(f"strategy id {strategy.id!r} is already used by `schedule add`")
        if stored is not None and stored.config == config:
            continue
        store.add_strategy(
            strategy.id,
            strategy.kind,
            config,
            source="config",
            next_fire_at=now,
            now=now,
            replace=True,
        )
        changes.append(f"{'updated' if stored else 'added'} {strategy.id} from agent.yaml")
    for row in store.strategies():
        if row.source == "config" and row.id not in wanted:
            store.remove_strategy(row.id)
            changes.append(f"removed {row.id} (no longer in agent.yaml)")
    return changes


async def run_daemon(
    home: Home,
    *,
    tick_s: float = 0.2,
    run_for: float | None = None,
    stop: asyncio.Event | None = None,
    say: Callable[[str], None] = print,
) -> int:
    """Run until SIGINT/SIGTERM, ``stop`` or ``run_for`` seconds; returns an exit code."""
    from agent.scheduler.fires import recover_started
    from agent.scheduler.inbox import Inbox
    from agent.scheduler.market import ExchangeMarket
    from agent.scheduler.runner import SessionRunner
    from agent.session import AgentSession
    from memory.switch import KillSwitch

    session = await AgentSession.open(home)
    store = JobStore(jobs_db(home))
    switch = KillSwitch(home.memory_db, session.audit)
    stop = stop or asyncio.Event()
    try:
        if notice := session.grants_file_notice():
            say(notice)
        now = datetime.now(UTC)
        for line in sync_config_strategies(store, session.config.strategies, now):
            say(line)
        for item in await session.reconcile():
            say(item.describe())
        for fire in await recover_started(store, session.audit, session.ctx.chain, now):
            say(f"fire {fire.fire.id} of {fire.fire.strategy_id}: {fire.status} ({fire.note})")
        inbox = Inbox(store, session.audit)
        market = ExchangeMarket(
            session.ctx,
            rules=session.config.pricing.rules(),
            stablecoins=(session.config.stablecoin, *session.ctx.network.stablecoins),
        )
        scheduler = Scheduler(
            store,
            SessionRunner(session, inbox),
            market,
            session.audit,
            switch,
            concurrency=session.config.scheduler.max_concurrent_fires,
        )
        active = len(store.strategies("active"))
        say(
            f"daemon running: {active} active strateg{'y' if active == 1 else 'ies'}"
            f"{' (PAUSED: near-agent resume to start)' if switch.is_paused() else ''}"
        )

        # what a crash left pending, and what a fire of this very daemon left with an unknown
        # outcome (its executor lets go of such a reservation, so it is resolved here too)
        async def reconcile() -> None:
            for item in await session.reconcile():
                say(item.describe())

        await drive(
            scheduler,
            tick_s=tick_s,
            stop=stop,
            run_for=run_for,
            on_report=lambda r: say(_line(r)),
            extra=[(inbox.expire, 30.0), (reconcile, 300.0)],
        )
        return 0
    finally:
        switch.close()
        store.close()
        await session.close()


async def drive(
    scheduler: Scheduler,
    *,
    tick_s: float,
    stop: asyncio.Event,
    run_for: float | None = None,
    on_report: Callable[[FireReport], None] | None = None,
    extra: list[tuple[Callable[[], Any], float]] | None = None,
) -> None:
    """Run ``scheduler.tick`` under APScheduler until ``stop`` is set or ``run_for`` passes.

    The heartbeat is coalesced and never runs twice at once: a slow tick delays the next one
    instead of piling up, and the lateness it causes shows in every fire's ledger row.
    """
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    busy = asyncio.Lock()  # held by a tick in progress; shutdown waits for it

    async def heartbeat() -> None:
        async with busy:
            if stop.is_set():
                return
            try:
                for report in await scheduler.tick():
                    if on_report is not None:
                        on_report(report)
            except Exception:  # one bad tick must not stop the daemon
                log.exception("scheduler tick failed")

    # a tick longer than the heartbeat is expected under load (its lateness is in the ledger)
    skips = logging.getLogger("apscheduler.scheduler")
    if skips.level == logging.NOTSET:
        skips.setLevel(logging.ERROR)
    aps = AsyncIOScheduler(timezone=UTC)
    aps.add_job(
        heartbeat,
        IntervalTrigger(seconds=tick_s),
        id="heartbeat",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    for n, (func, every) in enumerate(extra or []):
        aps.add_job(
            func, IntervalTrigger(seconds=every), id=f"extra-{n}", coalesce=True, max_instances=1
        )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    aps.start()
    try:
        if run_for is None:
            await stop.wait()
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=run_for)
    finally:
        stop.set()  # no tick starts after this
        aps.pause()
        async with busy:  # a fire under way finishes and is recorded before the jobs stop
            for report in await scheduler.drain():
                if on_report is not None:
                    on_report(report)
        aps.shutdown(wait=False)  # (this would cancel a running tick)


def _line(report: FireReport) -> str:
    late = int(report.lateness.total_seconds() * 1000)
    text = f"{report.scheduled_at.isoformat()} {report.strategy_id}: {report.status}"
    return f"{text} (+{late} ms) {report.message}".rstrip()


def main(argv: list[str] | None = None) -> int:
    """``python -m agent.scheduler.daemon --home DIR [--run-for S]`` (what the CLI runs)."""
    import argparse

    parser = argparse.ArgumentParser(prog="near-agent daemon")
    parser.add_argument("--home", default=None)
    parser.add_argument("--run-for", type=float, default=None)
    parser.add_argument("--tick", type=float, default=0.2)
    args = parser.parse_args(argv)
    return asyncio.run(
        run_daemon(
            Home.resolve(args.home),
            tick_s=args.tick,
            run_for=args.run_for,
            say=lambda s: print(s, flush=True),
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
