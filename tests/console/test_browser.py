"""The console in a real headless Chromium against a devnet, with real agent processes.

Each test drives the page the way a user does (click, confirm the dialog) and checks the
effect where it lands: the chain, the job store, the audit log. The screenshots in
docs/console/ (shown in the README) are taken here.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from agent.home import Home
from devnet.server import RunningDevnet
from memory.audit import AuditKind, AuditLog, new_correlation_id
from memory.jobs import JobStore
from tests.console.harness import SHOTS, daemon_process, run_daemon, running_console
from tests.scheduler.devnet_home import make_home
from tests.support.chain_reads import usdc_and_nonce

pytestmark = pytest.mark.slow

BIG_DCA = {"id": "big-dca", "kind": "dca", "sell": "NEAR", "buy": "USDC", "amount": "2"}


def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def console_entries(home: Home, kind: str) -> list[Any]:
    with AuditLog(home.audit_db) as log:
        return log.entries(kind=kind, actor="console")


def test_a_scheduled_action_needing_confirmation_is_approved_in_the_browser_and_lands(
    fresh_devnet: RunningDevnet, tmp_path: Path, browser_page: Any
) -> None:
    home = make_home(
        tmp_path / "home",
        fresh_devnet.state_dir / "manifest.json",
        confirm_above="1",
        strategies=[{**BIG_DCA, "every": "1h"}, {**BIG_DCA, "id": "more-dca", "every": "1h"}],
    )
    usdc_before, _ = usdc_and_nonce(fresh_devnet)
    with running_console(home) as console:
        page = browser_page
        page.goto(console.url)
        assert page.locator("#pending-count").inner_text() == "0"
        fired = run_daemon(home, run_for=3)  # fires once at start: 2 NEAR needs confirmation
        assert fired.returncode == 0, fired.stderr
        page.wait_for_selector("#pending-count:text-is('2')")  # live: no reload by the user
        assert "node answers" in page.locator("#node-state").inner_text()
        assert "NEAR" in page.locator(".balance").first.inner_text()
        shoot(page, "overview")
        page.click("text=Approvals")
        assert page.locator("li.item").count() == 2
        item = page.locator("li.item", has_text="from big-dca")
        assert "2 NEAR" in item.locator(".preview").inner_text()
        page.wait_for_selector(".countdown:has-text('min')")  # the expiry counts down
        shoot(page, "approvals")
        item.locator("button.approve").click()
        page.wait_for_selector("p.said")
        assert "swap: done" in page.locator("p.said").inner_text()
        assert page.locator("li.item").count() == 1
        usdc_after, _ = usdc_and_nonce(fresh_devnet)
        assert usdc_after > usdc_before  # it landed on chain

        page.click("text=Approve all")  # every waiting action of more-dca, each checked again
        page.wait_for_selector("p.said")
        assert "done" in page.locator("p.said").inner_text()
        assert page.locator("li.item").count() == 0
        assert usdc_and_nonce(fresh_devnet)[0] > usdc_after
        granted = console_entries(home, "approval_granted")
        assert [e.tool for e in granted] == ["swap", "swap"]
        with JobStore(home.root / "jobs.db") as store:
            assert [r.status for r in store.inbox()] == ["approved", "approved"]

        page.click("text=Activity")
        rows = page.locator("tr.intent")
        assert rows.count() >= 2
        assert "console" in page.locator("table.activity").inner_text()
        shoot(page, "activity")
        page.locator("tr.intent.outcome-done a").first.click()
        page.wait_for_selector("ol.story")
        assert "transaction" in page.locator("ol.story").inner_text()
        shoot(page, "story")
        page.click("text=Grants")
        assert "auto-swaps" in page.locator("section.grant").inner_text()
        assert page.locator("meter").count() >= 1
        shoot(page, "grants")


def test_a_grant_revoked_in_the_browser_stops_the_next_action(
    fresh_devnet: RunningDevnet, tmp_path: Path, browser_page: Any
) -> None:
    home = make_home(tmp_path / "home", fresh_devnet.state_dir / "manifest.json")
    with running_console(home) as console:
        page = browser_page
        page.goto(console.url + "")
        page.goto(console.base + "/grants")
        page.locator("#grant-auto-swaps button.revoke").click()
        page.wait_for_selector("p.said")
        assert "Revoked: auto-swaps" in page.locator("p.said").inner_text()
        assert "revoked" in page.locator("#grant-auto-swaps .status").inner_text()
    (revoked,) = console_entries(home, "grant_revoked")
    assert revoked.data["grant_id"] == "auto-swaps"

    usdc_before, nonce_before = usdc_and_nonce(fresh_devnet)
    config = home.config_file.read_text()
    home.config_file.write_text(
        config + "strategies:\n- {id: after, kind: dca, sell: NEAR, buy: USDC, amount: '1'}\n"
    )
    ran = run_daemon(home, run_for=3)
    assert ran.returncode == 0, ran.stderr
    assert usdc_and_nonce(fresh_devnet) == (usdc_before, nonce_before)  # nothing was sent
    with JobStore(home.root / "jobs.db") as store:
        (fire,) = store.fires("after")
        assert fire.status != "done"
    with AuditLog(home.audit_db) as log:
        decisions = log.entries(kind="policy_decision")
        assert decisions and all(e.status == "deny" for e in decisions)
        assert any("grant_revoked" in str(e.data) or "revoked" in str(e.data) for e in decisions)


def _fires(home: Home) -> int:
    with JobStore(home.root / "jobs.db") as store:
        return len(store.fires("steady"))


def _wait(predicate: Any, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_the_kill_switch_in_the_browser_stops_the_daemons_fires(
    fresh_devnet: RunningDevnet, tmp_path: Path, browser_page: Any
) -> None:
    steady = {
        "id": "steady",
        "kind": "dca",
        "sell": "NEAR",
        "buy": "USDC",
        "amount": "0.01",
        "every": "1s",
        "guards": {"max_trades": 1000, "per": "1h"},
    }
    home = make_home(
        tmp_path / "home", fresh_devnet.state_dir / "manifest.json", strategies=[steady]
    )
    with running_console(home) as console, daemon_process(home) as daemon:
        page = browser_page
        page.goto(console.url)
        _wait(lambda: _fires(home) >= 2)  # the daemon is firing
        page.wait_for_selector("#daemon-state:has-text('running (pid')")  # live, as it starts
        page.locator("#kill-switch").click()
        page.wait_for_selector("text=PAUSED: nothing scheduled runs")
        shoot(page, "overview-paused")
        with AuditLog(home.audit_db) as log:
            (pulled,) = log.entries(kind=AuditKind.PAUSED, actor="console")
        # a fire already past the switch check may still finish; none starts after that
        _wait(lambda: _nothing_running(home))
        stopped_at = _fires(home)
        time.sleep(3)  # three intervals of the strategy: it would have fired three times
        assert _fires(home) == stopped_at
        assert daemon.poll() is None  # paused, not dead
        page.locator("#kill-switch").click()  # resume
        page.wait_for_selector("text=running: strategies may act")
        with AuditLog(home.audit_db) as log:
            (resumed,) = log.entries(kind=AuditKind.RESUMED, actor="console")
        _wait(lambda: _done_after(home, resumed.timestamp))  # it acts again
    with JobStore(home.root / "jobs.db") as store:
        fires = store.fires("steady")
    paused_span = [f for f in fires if pulled.timestamp < f.started_at < resumed.timestamp]
    assert all(f.status == "abandoned" for f in paused_span)  # none acted while paused


def _done_after(home: Home, moment: Any) -> bool:
    with JobStore(home.root / "jobs.db") as store:
        return any(f.status == "done" and f.started_at > moment for f in store.fires("steady"))


def _nothing_running(home: Home) -> bool:
    with JobStore(home.root / "jobs.db") as store:
        return all(f.status != "started" for f in store.fires("steady"))


def test_text_from_the_chain_or_a_model_renders_inert(
    fresh_devnet: RunningDevnet, tmp_path: Path, browser_page: Any
) -> None:
    home = make_home(tmp_path / "home", fresh_devnet.state_dir / "manifest.json")
    hostile = (
        "label task <script>window.__ran = true</script>"
        '<img src=x onerror="window.__ran = true"> "quoted" & more'
    )
    with AuditLog(home.audit_db) as log:
        cid = new_correlation_id()
        log.append(AuditKind.USER_MESSAGE, actor="user", correlation_id=cid, data={"text": hostile})
        log.append(
            AuditKind.PLAN,
            actor="system",
            correlation_id=cid,
            data={"steps": [], "planner": "llm", "error": f"task text: {hostile}"},
        )
    with running_console(home) as console:
        page = browser_page
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(console.url)
        page.goto(console.base + "/activity")
        assert "<script>window.__ran = true</script>" in page.locator("table.activity").inner_text()
        assert page.evaluate("window.__ran === undefined")
        assert page.locator("table.activity script").count() == 0
        assert page.locator("table.activity img").count() == 0
        page.locator("tr.intent a").first.click()
        page.wait_for_selector("ol.story")
        assert "<script>" in page.locator("h1").inner_text()
        assert page.evaluate("window.__ran === undefined")
        assert page.locator("main script, main img").count() == 0


def test_the_strategies_page_charts_prices_with_trigger_levels_and_fills(
    fresh_devnet: RunningDevnet, tmp_path: Path, browser_page: Any
) -> None:
    price = {"price_of": "NEAR", "price_in": "USDC", "every": "1h"}
    strategies = [
        {
            "id": "take",
            "kind": "take_profit",
            "sell": "NEAR",
            "buy": "USDC",
            "amount": "1",
            "above": "1",
            **price,
        },
        {
            "id": "floor",
            "kind": "stop_loss",
            "sell": "NEAR",
            "buy": "USDC",
            "amount": "1",
            "below": "0.5",
            **price,
        },
    ]
    home = make_home(
        tmp_path / "home", fresh_devnet.state_dir / "manifest.json", strategies=strategies
    )
    ran = run_daemon(home, run_for=3)  # take fires at once (NEAR is near 3 USDC); floor waits
    assert ran.returncode == 0, ran.stderr
    with running_console(home) as console:
        page = browser_page
        page.goto(console.url)
        page.click("text=Strategies")
        take = page.locator("#strategy-take")
        assert "completed" in take.locator(".status").inner_text()
        assert take.locator("svg.chart line.level-above").count() == 1
        assert take.locator("svg.chart circle.fill").count() == 1  # the fill
        assert "done" in take.locator("table.fires").inner_text()
        floor = page.locator("#strategy-floor")
        assert "waiting" in floor.inner_text() and "next fire" in floor.inner_text()
        assert floor.locator("svg.chart line.level-below").count() == 1
        assert floor.locator("svg.chart circle.quote").count() == 1  # the latest price seen
        shoot(page, "strategies")
