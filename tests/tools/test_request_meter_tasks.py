"""One chain client, several commands at once (the daemon's concurrent fires): each asyncio task's
command has its own request budget, and one command's unmetered send lifts no other's."""

from __future__ import annotations

import asyncio

import pytest

from tools.endpoints import RequestBudgetExceeded, RequestMeter


def test_concurrent_commands_each_keep_their_own_budget() -> None:
    meter = RequestMeter(max_requests=3)
    a_began, b_began, b_unmetered, a_done = (asyncio.Event() for _ in range(4))

    async def command_a() -> list[str]:
        meter.begin_command()
        meter.spend("query", "rpc")
        meter.spend("query", "rpc")
        a_began.set()
        await b_began.wait()  # another command begins meanwhile: this one's count stays
        await b_unmetered.wait()  # and another is unmetered: this one is not
        meter.spend("query", "rpc")
        with pytest.raises(RequestBudgetExceeded):
            meter.spend("query", "rpc")
        a_done.set()
        return ["a"]

    async def command_b() -> list[str]:
        await a_began.wait()
        meter.begin_command()
        b_began.set()
        with meter.unmetered():
            b_unmetered.set()
            await a_done.wait()
            for _ in range(5):  # a sent transaction's lookups are never refused
                meter.spend("tx", "rpc")
        assert meter.used == 5
        with pytest.raises(RequestBudgetExceeded):
            meter.spend("query", "rpc")
        return ["b"]

    async def both() -> None:
        await asyncio.gather(asyncio.create_task(command_a()), asyncio.create_task(command_b()))

    asyncio.run(both())
    assert meter.total == 3 + 5
