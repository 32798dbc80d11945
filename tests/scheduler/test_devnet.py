"""Strategies on a real devnet: the grant's cap, the approval inbox, nothing repeated."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from agent.scheduler.core import Scheduler
from agent.scheduler.inbox import Inbox, InboxError, approve_item
from agent.scheduler.market import ExchangeMarket
from agent.scheduler.runner import SessionRunner
from agent.scheduler.strategies import parse_strategy
from agent.session import AgentSession
from devnet.server import RunningDevnet
from memory.jobs import JobStore
from memory.switch import KillSwitch
from tests.scheduler.devnet_home import make_home
from tests.scheduler.helpers import Clock

HOUR = timedelta(hours=1)


@dataclass
class Live:
    session: AgentSession
    scheduler: Scheduler
    store: JobStore
    inbox: Inbox
    clock: Clock


@asynccontextmanager
async def live(devnet: RunningDevnet, root: Path, **home_args: object) -> AsyncIterator[Live]:
    home = make_home(root, devnet.state_dir / "manifest.json", **home_args)  # type: ignore[arg-type]
    session = await AgentSession.open(home)
    store = JobStore(home.root / "jobs.db")
    switch = KillSwitch(home.memory_db, session.audit)
    clock = Clock()
    inbox = Inbox(store, session.audit, clock=clock, ttl=timedelta(minutes=30))
    market = ExchangeMarket(session.ctx, refresh=timedelta(0))
    scheduler = Scheduler(
        store, SessionRunner(session, inbox), market, session.audit, switch, clock=clock
    )
    try:
        yield Live(session, scheduler, store, inbox, clock)
    finally:
        switch.close()
        store.close()
        await session.close()


async def usdc(session: AgentSession) -> int:
    return int(
        await session.ctx.chain.view(
            "usdc.test.near", "ft_balance_of", {"account_id": "alice.test.near"}
        )
    )


def test_dca_that_would_exceed_the_daily_cap_stops_at_the_cap(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with live(fresh_devnet, tmp_path / "home", cap_near="5") as rig:
            before = await usdc(rig.session)
            spec = {
                "id": "dca",
                "kind": "dca",
                "sell": "NEAR",
                "buy": "USDC",
                "amount": "2",
                "every": "1h",
            }
            rig.scheduler.add(parse_strategy(spec), now=rig.clock.now)
            statuses = []
            for _ in range(5):
                statuses += [r.status for r in await rig.scheduler.tick(rig.clock.now, wait=True)]
                rig.clock.advance(HOUR)
            assert statuses == ["done", "done", "denied", "denied", "denied"]
            after = await usdc(rig.session)
            swaps = rig.session.audit.entries(kind="tx_outcome", status="ok", actor="scheduler")
            assert len(swaps) == 2 and after > before
            decisions = rig.session.audit.entries(kind="policy_decision", status="deny")
            assert all("window_cap" in e.data["reasons"] for e in decisions)
            assert rig.session.audit.verify().ok

    asyncio.run(scenario())


def test_confirmation_goes_to_the_inbox_and_nothing_waits(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with live(fresh_devnet, tmp_path / "home", confirm_above="1") as rig:
            spec = {
                "id": "big",
                "kind": "dca",
                "sell": "NEAR",
                "buy": "USDC",
                "amount": "2",
                "every": "1h",
            }
            rig.scheduler.add(parse_strategy(spec), now=rig.clock.now)
            (report,) = await rig.scheduler.tick(rig.clock.now, wait=True)
            assert report.status == "awaiting_approval"
            (item,) = rig.inbox.pending()
            assert item.tool == "swap" and item.args["amount_in"] == "2"
            assert "2 NEAR" in item.preview and item.reasons
            before = await usdc(rig.session)

            seen: list[str] = []

            def yes(action: object, decision: object) -> bool:
                seen.append(action.preview)  # type: ignore[attr-defined]
                return True

            result = await approve_item(rig.session, rig.inbox, item.id, yes)
            assert result.ok and seen and await usdc(rig.session) > before
            assert rig.store.inbox_item(item.id).status == "approved"
            (fire,) = rig.store.fires("big")
            assert fire.status == "awaiting_approval" and fire.detail["inbox"].startswith(
                "approved: done"
            )
            with pytest.raises(InboxError):  # single use
                await approve_item(rig.session, rig.inbox, item.id, yes)
            granted = rig.session.audit.entries(kind="approval_granted", actor="user")
            assert len(granted) == 1

            rig.clock.advance(HOUR)
            await rig.scheduler.tick(rig.clock.now, wait=True)
            (late,) = rig.inbox.pending()
            rig.clock.advance(timedelta(minutes=31))  # past the inbox expiry
            with pytest.raises(InboxError, match="expired"):
                await approve_item(rig.session, rig.inbox, late.id, yes)
            assert rig.session.audit.entries(kind="approval_expired")

    asyncio.run(scenario())


async def market_sells(devnet: RunningDevnet, amount: str) -> None:
    """The market maker dumps NEAR for USDC, pushing NEAR's price down."""
    from tools import registry
    from tools.base import context_from_manifest

    ctx = context_from_manifest(devnet.manifest, "market.test.near", max_slippage_bps=5_000)
    try:
        args = {
            "token_in": "NEAR",
            "token_out": "USDC",
            "amount_in": amount,
            "max_slippage_bps": 5_000,
        }
        await registry.execute(await registry.prepare("swap", args, ctx), ctx)
    finally:
        await ctx.aclose()


def test_stop_loss_fires_once_on_chain_when_the_market_falls(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with live(fresh_devnet, tmp_path / "home") as rig:
            spec = {
                "id": "stop",
                "kind": "stop_loss",
                "sell": "NEAR",
                "buy": "USDC",
                "amount": "1",
                "price_of": "NEAR",
                "price_in": "USDC",
                "below": "2.8",
                "every": "30s",
            }
            rig.scheduler.add(parse_strategy(spec), now=rig.clock.now)
            assert await rig.scheduler.tick(rig.clock.now, wait=True) == []  # ~2.99: waiting
            before = await usdc(rig.session)
            await market_sells(fresh_devnet, "5000")  # ~2.72 after the dump
            statuses = []
            for _ in range(4):
                statuses += [
                    r.status
                    for r in await rig.scheduler.tick(
                        rig.clock.advance(timedelta(seconds=30)), wait=True
                    )
                ]
            assert statuses == ["done"]
            assert await usdc(rig.session) > before
            assert rig.store.strategy("stop").status == "completed"
            fired = rig.session.audit.entries(kind="schedule_fired", status="done")
            assert len(fired) == 1

    asyncio.run(scenario())
