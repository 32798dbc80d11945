"""The scheduler core with a controllable clock: no sleeping, every tick explicit."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from fractions import Fraction

import pytest

from agent.scheduler.strategies import parse_strategy
from memory.jobs import ts
from tests.scheduler.helpers import T0, FakeRunner, Rig

HOUR = timedelta(hours=1)


def dca(**extra: object) -> dict:
    return {
        "id": "dca",
        "kind": "dca",
        "sell": "NEAR",
        "buy": "USDC",
        "amount": "1",
        "every": "4h",
        **extra,
    }


def limit(**extra: object) -> dict:
    return {
        "id": "dip",
        "kind": "limit",
        "sell": "USDC",
        "buy": "NEAR",
        "amount": "10",
        "price_of": "NEAR",
        "price_in": "USDC",
        "below": "2.5",
        "every": "30s",
        **extra,
    }


def tick(rig: Rig, delta: timedelta = timedelta(0)) -> list:
    return asyncio.run(rig.scheduler.tick(rig.clock.advance(delta), wait=True))


def test_dca_fires_each_interval_straight_to_the_tool(rig: Rig) -> None:
    rig.scheduler.add(parse_strategy(dca()), now=T0)
    for _ in range(12):  # 12 hours, ticking every hour
        tick(rig, HOUR if rig.runner.jobs or rig.clock.now != T0 else timedelta(0))
    scheduled = [job.scheduled_at for job in rig.runner.jobs]
    assert scheduled == [T0, T0 + 4 * HOUR, T0 + 8 * HOUR]
    step = rig.runner.jobs[0].step
    assert (step.tool, step.args["amount_in"], step.args["token_out"]) == ("swap", "1", "USDC")
    fires = rig.store.fires("dca")
    assert [f.status for f in fires] == ["done"] * 3
    assert all(e.actor == "scheduler" for e in rig.audit.entries(kind="schedule_fired"))


def test_dca_stops_at_the_trade_cap_and_resumes_next_period(rig: Rig) -> None:
    rig.scheduler.add(
        parse_strategy(dca(every="1h", guards={"max_trades": 3, "per": "24h"})), now=T0
    )
    for _ in range(30):
        tick(rig)
        rig.clock.advance(HOUR)
    done = [j.scheduled_at for j in rig.runner.jobs]
    # three trades, then none until the first leaves the trailing 24 h window
    assert done == [T0 + h * HOUR for h in (0, 1, 2, 24, 25, 26)]
    skipped = rig.store.fires("dca", status="skipped")
    assert len(skipped) == 30 - 6 and "max_trades" in skipped[0].detail["guard"]
    guard_entries = rig.audit.entries(kind="schedule_fired", status="skipped")
    assert len(guard_entries) == len(skipped)


def test_limit_order_fires_once_when_the_price_crosses_and_never_again(rig: Rig) -> None:
    rig.scheduler.add(parse_strategy(limit()), now=T0)
    half_minute = timedelta(seconds=30)
    for price in ("3", "2.8", "2.6"):
        rig.market.prices[("NEAR", "USDC")] = Fraction(price)
        tick(rig, half_minute)
    assert rig.runner.jobs == []
    assert "waiting" in rig.store.strategy("dip").last_note
    for price in ("2.4", "2.3", "3", "2.0"):  # crosses, stays below, goes up, crosses again
        rig.market.prices[("NEAR", "USDC")] = Fraction(price)
        tick(rig, half_minute)
    assert len(rig.runner.jobs) == 1
    assert rig.runner.jobs[0].step.args == {
        "token_in": "USDC",
        "token_out": "NEAR",
        "amount_in": "10",
    }
    row = rig.store.strategy("dip")
    assert row.status == "completed" and row.next_fire_at is None
    assert row.status_reason == "fired once: done"


def test_stale_price_never_triggers(rig: Rig) -> None:
    rig.scheduler.add(parse_strategy(limit()), now=T0)
    rig.market.stale = True
    rig.market.prices[("NEAR", "USDC")] = Fraction(1)
    for _ in range(5):
        tick(rig, timedelta(seconds=30))
    assert rig.runner.jobs == []
    assert "no fresh price" in rig.store.strategy("dip").last_note


def test_pause_stops_every_job_at_once_and_resume_restarts_them(rig: Rig) -> None:
    for n in range(5):
        rig.scheduler.add(parse_strategy(dca(id=f"d{n}", every="1h")), now=T0)
    rig.switch.pause(actor="user", reason="test")
    for _ in range(3):
        assert tick(rig, HOUR) == []
    assert rig.runner.jobs == []
    rig.switch.resume(actor="user")
    reports = tick(rig)
    assert len(reports) == 5 and len(rig.runner.jobs) == 5


def test_pause_while_fires_wait_stops_them_before_they_act(tmp_path) -> None:
    from tests.scheduler.helpers import make_rig

    class PausingRunner(FakeRunner):
        async def run(self, job):  # the first fire pulls the kill switch
            rig.switch.pause(actor="user", reason="stop")
            return await super().run(job)

    rig = make_rig(tmp_path, PausingRunner())
    rig.scheduler.concurrency = 1
    try:
        for n in range(4):
            rig.scheduler.add(parse_strategy(dca(id=f"d{n}")), now=T0)
        reports = tick(rig)
        assert len(rig.runner.jobs) == 1
        assert sorted(r.status for r in reports) == ["abandoned"] * 3 + ["done"]
    finally:
        rig.close()


def test_coalesced_misfires_run_once_and_are_shown(rig: Rig) -> None:
    rig.scheduler.add(parse_strategy(dca(every="1h")), now=T0)
    tick(rig)
    tick(rig, 10 * HOUR + timedelta(minutes=1))  # the daemon was down for ten hours
    assert [j.scheduled_at for j in rig.runner.jobs] == [T0, T0 + 10 * HOUR]
    assert "coalesced 9 missed" in rig.store.strategy("dca").last_note
    assert rig.store.strategy("dca").next_fire_at == T0 + 11 * HOUR


def test_without_coalescing_late_fires_are_missed_not_run(rig: Rig) -> None:
    rig.scheduler.add(parse_strategy(dca(every="1h", coalesce=False, misfire_grace="90m")), now=T0)
    tick(rig)
    tick(rig, 3 * HOUR + timedelta(minutes=30))  # 1h is past the 90 min grace; 2h and 3h are not
    for _ in range(3):
        tick(rig)
    assert [j.scheduled_at for j in rig.runner.jobs] == [T0, T0 + 2 * HOUR, T0 + 3 * HOUR]
    missed = rig.store.fires("dca", status="missed")
    assert [f.scheduled_at for f in missed] == [T0 + HOUR]


@pytest.mark.parametrize("status", ["failed", "unknown", "refused"])
def test_consecutive_failures_pause_the_strategy(rig: Rig, status: str) -> None:
    rig.runner.status = status
    rig.scheduler.add(parse_strategy(dca(every="1h", guards={"max_failures": 2})), now=T0)
    for _ in range(5):
        tick(rig)
        rig.clock.advance(HOUR)
    assert len(rig.runner.jobs) == 2
    row = rig.store.strategy("dca")
    assert row.status == "paused" and "2 consecutive failures" in row.status_reason
    assert rig.audit.entries(kind="paused", data_match={"strategy_id": "dca"})


def test_cooldown_spaces_trades(rig: Rig) -> None:
    rig.scheduler.add(parse_strategy(dca(every="1h", guards={"cooldown": "3h"})), now=T0)
    for _ in range(7):
        tick(rig)
        rig.clock.advance(HOUR)
    assert [j.scheduled_at for j in rig.runner.jobs] == [T0, T0 + 3 * HOUR, T0 + 6 * HOUR]


def test_a_recorded_fire_never_runs_again(rig: Rig) -> None:
    rig.scheduler.add(parse_strategy(dca()), now=T0)
    rig.store.start_fires([("dca", T0, "cid", {})], T0)  # a previous run recorded it
    tick(rig)
    assert rig.runner.jobs == []
    assert rig.store.strategy("dca").next_fire_at == T0 + 4 * HOUR
    assert len(rig.store.fires("dca")) == 1 and rig.store.fires("dca")[0].scheduled_at == T0
    assert ts(T0).endswith("Z")


def test_rebalance_moves_the_overweight_token(rig: Rig) -> None:
    rig.market.prices[("NEAR", "USDC")] = Fraction(2)
    rig.market.balances.update({"NEAR": 30_000_000, "USDC": 20_000_000})  # 60 vs 20 USDC
    spec = {
        "id": "rb",
        "kind": "rebalance",
        "weights": {"NEAR": 50, "USDC": 50},
        "value_in": "USDC",
    }
    rig.scheduler.add(parse_strategy(spec), now=T0)
    tick(rig)
    (job,) = rig.runner.jobs
    assert job.step.args == {"token_in": "NEAR", "token_out": "USDC", "amount_in": "10"}


def test_claim_rewards_runs_the_claim_tool(rig: Rig) -> None:
    rig.scheduler.add(parse_strategy({"id": "c", "kind": "claim_rewards", "task_ids": [0]}), now=T0)
    tick(rig)
    assert rig.runner.jobs[0].step.tool == "claim_rewards"
    assert rig.runner.jobs[0].step.args == {"task_ids": [0]}


def test_a_tick_starts_fires_without_waiting_and_a_strategy_never_overlaps_itself(
    tmp_path,
) -> None:
    from agent.scheduler.core import FireOutcome
    from tests.scheduler.helpers import make_rig

    gate: list[asyncio.Event] = []

    class HeldRunner(FakeRunner):
        async def run(self, job):
            self.jobs.append(job)
            await gate[0].wait()  # the chain is slow
            return FireOutcome("done", "ok")

    rig = make_rig(tmp_path, HeldRunner())

    async def scenario() -> None:
        gate.append(asyncio.Event())
        release = gate[0]
        rig.scheduler.add(parse_strategy(dca(every="1h")), now=T0)
        rig.scheduler.add(parse_strategy(dca(id="other", every="1h")), now=T0)
        assert await rig.scheduler.tick(T0) == []  # returned while both fires act
        await asyncio.sleep(0)
        assert rig.scheduler.acting == 2 and len(rig.runner.jobs) == 2
        rig.clock.advance(HOUR)  # the next fires fall due while the first still act
        assert await rig.scheduler.tick(rig.clock.now) == []
        assert len(rig.runner.jobs) == 2  # they wait, still due: no overlap
        release.set()
        reports = await rig.scheduler.drain()
        assert sorted((r.strategy_id, r.status) for r in reports) == [
            ("dca", "done"),
            ("other", "done"),
        ]
        await rig.scheduler.tick(rig.clock.now, wait=True)  # now the waiting ones fire
        assert [j.scheduled_at for j in rig.runner.jobs] == [T0, T0, T0 + HOUR, T0 + HOUR]

    try:
        asyncio.run(scenario())
    finally:
        rig.close()


def test_a_changed_config_is_parsed_again(rig: Rig) -> None:
    rig.scheduler.add(parse_strategy(dca(every="1h")), now=T0)
    tick(rig)
    rig.scheduler.add(parse_strategy(dca(every="1h", amount="2")), now=T0 + HOUR, replace=True)
    tick(rig, HOUR)
    assert [j.step.args["amount_in"] for j in rig.runner.jobs] == ["1", "2"]
