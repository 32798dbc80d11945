"""The daemon's extra jobs (watching the kill switch, expiring inbox requests, reconcile) run on
the event loop, never in a worker thread: a thread is not stopped by the shutdown that cancels its
job, and one that went on reading the kill switch's database while the daemon closed it crashed
the process (SIGSEGV)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from agent.scheduler.daemon import drive


class _IdleScheduler:
    """Nothing to fire: what ``drive`` needs of a scheduler to run its heartbeat."""

    acting = 0

    async def tick(self) -> list[Any]:
        return []

    async def drain(self) -> list[Any]:
        return []


def test_a_plain_function_job_runs_on_the_loop_thread_and_not_after_shutdown() -> None:
    ran_on: list[str] = []

    def watch() -> None:
        ran_on.append(threading.current_thread().name)

    async def main() -> None:
        loop_thread = threading.current_thread().name
        await drive(
            _IdleScheduler(),  # type: ignore[arg-type]
            tick_s=0.05,
            stop=asyncio.Event(),
            run_for=0.4,
            extra=[(watch, 0.05)],
        )
        after = len(ran_on)
        await asyncio.sleep(0.2)
        assert ran_on, "the job never ran"
        assert set(ran_on) == {loop_thread}
        assert len(ran_on) == after  # nothing runs once drive has returned

    asyncio.run(main())
