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
import inspect
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.home import Home
from agent.scheduler.core import FireReport, Scheduler
from agent.scheduler.strategies import parse_strategies
from memory.jobs import JobStore
from memory.switch import SwitchState

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
    defaulted = {i.get("id") for i in items if isinstance(i, dict) and "every" not in i}
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
        default = f" (every {strategy.every}: the default)" if strategy.id in defaulted else ""
        changes.append(f"{'updated' if stored else 'added'} {strategy.id} from agent.yaml{default}")
    for row in store.strategies():
        if row.source == "config" and row.id not in wanted:
            store.remove_strategy(row.id)
            changes.append(f"removed {row.id} (no longer in agent.yaml)")
    return changes


def log_path(home: Home) -> Path:
    """The daemon's log: every line it prints, with a time, and what went wrong in a tick."""
    return home.root / "logs" / "daemon.log"


LOG_BYTES = 1_000_000  # the log rotates at this size, keeping LOG_BACKUPS older files
LOG_BACKUPS = 3


@contextlib.contextmanager
def daemon_log(home: Home) -> Iterator[logging.Logger]:
    """A bounded, rotating log file in the home (0600), fed by ``say`` and by tick failures."""
    from logging.handlers import RotatingFileHandler

    path = log_path(home)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS)
    formatter = logging.Formatter("%(asctime)sZ %(levelname)s %(message)s")
    formatter.converter = time.gmtime  # the log speaks UTC, as every other time shown
    handler.setFormatter(formatter)
    said = logging.getLogger("near-agent.daemon")
    said.setLevel(logging.INFO)
    said.propagate = False
    for logger in (said, log):
        logger.addHandler(handler)
    try:
        yield said
    finally:
        for logger in (said, log):
            logger.removeHandler(handler)
        handler.close()


def describe_pause(state: SwitchState, *, daemon: bool = True) -> str:
    """What the daemon (and ``schedule list``) says while the kill switch is pulled, and how
    it ends."""
    since = f" since {state.changed_at:%Y-%m-%d %H:%M:%S} UTC" if state.changed_at else ""
    why = f" ({state.reason})" if state.reason else ""
    line = f"PAUSED by the kill switch{since}{why}: no strategy fires until `near-agent resume`"
    return line + ("; this daemon keeps running and carries on by itself then" if daemon else "")


def describe_stop(store: JobStore, why: str) -> str:
    """The daemon's last line: why it stopped and what, if anything, is left pending."""
    from memory.jobs import STARTED

    left = store.fires(status=STARTED)
    waiting = len(store.inbox("pending"))
    parts = [f"daemon stopped ({why})"]
    if left:
        ids = ", ".join(f"#{f.id} of {f.strategy_id}" for f in left)
        parts.append(f"fires left in flight: {ids}; the next start settles them (never re-run)")
    else:
        parts.append("no fire was left half-done")
    if waiting:
        parts.append(f"{waiting} request(s) wait in `near-agent approvals list`")
    return "; ".join(parts)


async def run_daemon(
    home: Home,
    *,
    tick_s: float = 0.2,
    run_for: float | None = None,
    stop: asyncio.Event | None = None,
    say: Callable[[str], None] = print,
) -> int:
    """Run until SIGINT/SIGTERM, ``stop`` or ``run_for`` seconds; returns an exit code.

    ConfigError when agent.yaml is missing or unusable, and DaemonRunning when another daemon
    holds the home's lock: both before anything is written to the home.
    """
    from agent.config import load_config
    from agent.daemon_lock import DaemonLock

    load_config(home.config_file)  # a home that cannot run gets no lock file and no log
    with DaemonLock(home.root), daemon_log(home) as logged:

        def say_and_log(line: str) -> None:
            logged.info(line)
            say(line)

        return await _run_locked(home, tick_s=tick_s, run_for=run_for, stop=stop, say=say_and_log)


def daemon_since(home: Home) -> datetime | None:
    """When the running daemon took the home's lock (it writes its pid then); None if none runs."""
    from agent.daemon_lock import daemon_pid, lock_path

    if daemon_pid(home.root) is None:
        return None
    with contextlib.suppress(FileNotFoundError):
        return datetime.fromtimestamp(lock_path(home.root).stat().st_mtime, UTC)
    return None


async def _run_locked(
    home: Home,
    *,
    tick_s: float,
    run_for: float | None,
    stop: asyncio.Event | None,
    say: Callable[[str], None],
) -> int:
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
        say(f"daemon starting (pid {os.getpid()}); log: {log_path(home)}")
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
        say(f"daemon running: {active} active strateg{'y' if active == 1 else 'ies'}")
        paused: list[bool] = [False]

        def watch_switch() -> None:
            """Say when the kill switch is pulled or lifted (the ticks themselves are silent)."""
            state = switch.state()
            if state.paused != paused[0]:
                paused[0] = state.paused
                say(describe_pause(state) if state.paused else "RESUMED: strategies fire again")

        watch_switch()

        # what a crash left pending, and what a fire of this very daemon left with an unknown
        # outcome (its executor lets go of such a reservation, so it is resolved here too)
        async def reconcile() -> None:
            for item in await session.reconcile():
                say(item.describe())

        why = await drive(
            scheduler,
            tick_s=tick_s,
            stop=stop,
            run_for=run_for,
            on_report=lambda r: say(_line(r)),
            on_signal=_say_when_busy(say),
            extra=[(inbox.expire, 30.0), (reconcile, 300.0), (watch_switch, min(tick_s, 1.0))],
        )
        say(describe_stop(store, why))
        return 0
    finally:
        switch.close()
        store.close()
        await session.close()


def _say_when_busy(say: Callable[[str], None]) -> Callable[[bool], None]:
    """What the daemon says when asked to stop while a fire is under way."""

    def on_signal(busy: bool) -> None:
        if busy:
            say("stopping: the fire under way finishes and is recorded first")

    return on_signal


async def drive(
    scheduler: Scheduler,
    *,
    tick_s: float,
    stop: asyncio.Event,
    run_for: float | None = None,
    on_report: Callable[[FireReport], None] | None = None,
    on_signal: Callable[[bool], None] | None = None,
    extra: list[tuple[Callable[[], Any], float]] | None = None,
) -> str:
    """Run ``scheduler.tick`` under APScheduler until ``stop`` is set or ``run_for`` passes;
    returns why it stopped. ``on_signal`` hears of SIGINT/SIGTERM (True: a tick is under way).

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
            _on_the_loop(func),
            IntervalTrigger(seconds=every),
            id=f"extra-{n}",
            coalesce=True,
            max_instances=1,
        )
    loop = asyncio.get_running_loop()
    why = ["stopped"]

    def on(sig: signal.Signals) -> None:
        if not stop.is_set():
            why[0] = "Ctrl-C" if sig == signal.SIGINT else sig.name
            if on_signal is not None:  # busy: a tick, or a fire it started, still acting
                on_signal(busy.locked() or scheduler.acting > 0)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on, sig)
    aps.start()
    try:
        if run_for is None:
            await stop.wait()
        else:
            try:
                await asyncio.wait_for(stop.wait(), timeout=run_for)
            except TimeoutError:
                why[0] = f"--run-for {run_for:g}s elapsed"
    finally:
        stop.set()  # no tick starts after this
        aps.pause()
        async with busy:  # a fire under way finishes and is recorded before the jobs stop
            for report in await scheduler.drain():
                if on_report is not None:
                    on_report(report)
        aps.shutdown(wait=False)  # (this would cancel a running tick)
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    return why[0]


def _on_the_loop(func: Callable[[], Any]) -> Callable[[], Awaitable[Any]]:
    """``func`` as a coroutine, so APScheduler runs it on the event loop, not in a worker thread.

    Why: a plain function is run in a thread pool, and a thread is not stopped by the shutdown
    that cancels its job: it went on reading the kill switch's database while the daemon closed
    that connection, which crashed the process (SIGSEGV), and it shared the stores'
    connections with the loop meanwhile. On the loop, a job runs between the ticks' awaits and
    is finished or not started when the stores close."""
    if inspect.iscoroutinefunction(func):
        return func

    async def run() -> Any:
        return func()

    return run


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
    from agent.daemon_lock import DaemonRunning

    try:
        return asyncio.run(
            run_daemon(
                Home.resolve(args.home),
                tick_s=args.tick,
                run_for=args.run_for,
                say=lambda s: print(s, flush=True),
            )
        )
    except DaemonRunning as exc:
        print(f"{exc}; stop it before starting another", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
