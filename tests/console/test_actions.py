"""Every action taken in the console goes through the CLI's library and is audited as
``console``: denying one request, or all of one strategy's (plain HTTP, a real process)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.home import Home
from agent.scheduler.inbox import Inbox
from devnet.server import RunningDevnet
from memory.audit import AuditLog, new_correlation_id
from memory.jobs import JobStore
from tests.console.harness import running_console
from tests.console.test_security import csrf_of, request
from tests.scheduler.devnet_home import make_home


@pytest.fixture
def home(devnet: RunningDevnet, tmp_path: Path) -> Home:
    return make_home(tmp_path / "home", devnet.state_dir / "manifest.json")


def file_request(home: Home, strategy_id: str) -> str:
    """A request as a scheduled fire files it when the policy wants the user."""
    with JobStore(home.jobs_db) as store, AuditLog(home.audit_db) as audit:
        return Inbox(store, audit).ask(
            strategy_id=strategy_id,
            fire_id=None,
            tool="swap",
            args={"token_in": "NEAR", "token_out": "USDC", "amount_in": "2"},
            preview="Swap 2 NEAR for USDC",
            reasons=["confirm_above"],
            correlation_id=new_correlation_id(),
            filed_by="scheduler",
        )


def statuses(home: Home) -> dict[str, str]:
    with JobStore(home.jobs_db) as store:
        return {item.id: item.status for item in store.inbox()}


def denials(home: Home) -> list[tuple[str, str]]:
    with AuditLog(home.audit_db) as log:
        return [(e.actor, e.data["inbox_id"]) for e in log.entries(kind="approval_denied")]


def test_deny_one_and_deny_all_of_a_strategy_are_audited_as_console(home: Home) -> None:
    one = file_request(home, "alpha")
    beta = {file_request(home, "beta"), file_request(home, "beta")}  # one pending per strategy
    other = file_request(home, "gamma")
    with running_console(home) as console:
        csrf = {"csrf": csrf_of(console)}
        assert (
            request(
                console, "POST", f"/approvals/{one}/deny", cookie=console.token, body=csrf
            ).status
            == 303
        )
        assert (
            request(
                console, "POST", "/strategies/beta/deny", cookie=console.token, body=csrf
            ).status
            == 303
        )
        # a request already resolved cannot be denied again: nothing changes
        again = request(console, "POST", f"/approvals/{one}/deny", cookie=console.token, body=csrf)
        assert again.status == 303 and "only+pending" in (again.getheader("Location") or "")
    assert statuses(home) == {one: "denied", **dict.fromkeys(beta, "denied"), other: "pending"}
    assert sorted(denials(home)) == sorted(("console", i) for i in (one, *beta))


def test_revoking_an_unknown_grant_says_so_and_revokes_nothing(home: Home) -> None:
    with running_console(home) as console:
        csrf = {"csrf": csrf_of(console)}
        answer = request(console, "POST", "/grants/nope/revoke", cookie=console.token, body=csrf)
        assert "No+grant" in (answer.getheader("Location") or "")
    with AuditLog(home.audit_db) as log:
        assert log.entries(kind="grant_revoked") == []
