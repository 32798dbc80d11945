"""Hostile intents end to end on a devnet: each is refused or denied, and nothing changes.

These get past the planner (they are well-formed sentences) and must be stopped by the tool layer
(exact amounts, known tokens and accounts, existing tasks) or by the policy. For each, the chain
(alice's NEAR and USDC, bob's NEAR), the policy database (grants, reservations, budgets, seen
recipients, approvals) and the audit log are compared before and after: the only change allowed
is the audit story of the refusal itself, and it must show no transaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from agent.home import Home
from agent.session import AgentSession

USER, BOB, USDC = "alice.test.near", "bob.test.near", "usdc.test.near"
POLICY_TABLES = (
    "grants", "ceilings", "revocations", "reservations", "reservation_amounts", "usage_buckets",
    "activity_buckets", "recipients_seen", "approvals",
)  # fmt: skip
STOPPED = {"refused", "denied", "declined"}
NO_TX = {"user_message", "plan", "action_prepared", "policy_decision", "error"}


def policy_rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in POLICY_TABLES}
    finally:
        conn.close()


async def chain_state(session: AgentSession) -> dict[str, Any]:
    chain = session.ctx.chain
    return {
        "alice": (await chain.near_balance(USER))["total"],
        "bob": (await chain.near_balance(BOB))["total"],
        "alice_usdc": await chain.view(USDC, "ft_balance_of", {"account_id": USER}),
    }


def run_hostile(home: Home, text: str) -> tuple[Any, dict[str, Any], dict[str, Any], list[Any]]:
    async def body() -> Any:
        session = await AgentSession.open(home)
        try:
            before = {"chain": await chain_state(session), "policy": policy_rows(home.policy_db)}
            audit_before = session.audit.head().count
            report = await session.run(text, confirm=lambda a, d: False)
            after = {"chain": await chain_state(session), "policy": policy_rows(home.policy_db)}
            new = session.audit.entries(limit=None)[audit_before:]
            return report, before, after, new
        finally:
            await session.close()

    return asyncio.run(body())


HOSTILE = [
    "send 340282366920938463463374607431768211456 NEAR to bob.test.near",
    "send 0.0000000000000000000000001 NEAR to bob.test.near",
    "send 0.0000001 USDC to bob.test.near",
    "send 1 NEAR to x.near",
    "send 1 NEAR to nobody-here.test.near",
    "send 100 NEAR to bob.test.near",
    "send 1 NOPE to bob.test.near",
    "send 1 nosuch.test.near to bob.test.near",
    "swap 1000000 NEAR to USDC",
    "swap 1 NEAR to nosuch.test.near",
    "label task 999999 item 0 as cat",
    "claim rewards from task 999999",
    "carolに100 NEARを送って",
    "给bob.test.near发送100 NEAR",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_intent_changes_nothing(home: Home, text: str) -> None:
    report, before, after, new = run_hostile(home, text)
    assert not report.ok
    assert all(step.status in STOPPED | {"not_run"} for step in report.steps), report.steps
    assert after["chain"] == before["chain"]
    assert after["policy"] == before["policy"]
    kinds = {str(e.kind) for e in new}
    assert kinds <= NO_TX, kinds
    assert {str(e.kind) for e in new} >= {"user_message", "plan"}
    assert all(e.correlation_id == report.correlation_id for e in new)
