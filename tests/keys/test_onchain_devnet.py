"""`near-agent grants onchain` on a devnet: the chain itself enforces the narrow key's limits."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from agent.config import load_config
from agent.home import Home
from memory.audit import AuditKind, AuditLog
from tools.action import CanonicalAction, FunctionCallSpec, TransactionSpec, TransferSpec
from tools.base import ToolContext, context_from_config, execute_transactions
from tools.errors import InvalidTransactionError
from tools.keys import Credentials
from tools.keystore import Keystore
from tools.registry import build_registry, parse_args

from .helpers import ALICE, cli, make_home, run

TASKS = "tasks.test.near"
NEAR = 10**24
TOOLS = build_registry()


def _ctx(home: Home) -> ToolContext:
    return context_from_config(
        load_config(home.config_file), home_devnet_dir=home.devnet_dir, keys_dir=home.keys_dir
    )


async def _keys(ctx: ToolContext, account: str) -> dict[str, Any]:
    result = await ctx.chain.rpc(
        "query",
        {"request_type": "view_access_key_list", "account_id": account, "finality": "final"},
    )
    return {k["public_key"]: k["access_key"]["permission"] for k in result["keys"]}


async def _label(home: Home, task_id: int, label: str) -> str:
    """Submit a label through the tool; the public key that signed it, as the chain saw it."""
    ctx = _ctx(home)
    try:
        tool = TOOLS["submit_label"]
        action = await tool.prepare(
            parse_args("submit_label", {"task_id": task_id, "label": label}), ctx
        )
        result = await tool.execute(action, ctx)
        outcome = await ctx.chain.tx_status(result.tx_hashes[0], ALICE)
        assert outcome is not None and outcome.ok
        return outcome.raw["transaction"]["public_key"]
    finally:
        await ctx.aclose()


@pytest.fixture
def home(fresh_devnet, tmp_path: Path) -> Home:
    home = make_home(fresh_devnet, tmp_path / "home")
    added = cli(home, "grants", "add", str(home.root / "grants.yaml"))
    assert added.exit_code == 0, added.output
    return home


def test_tasks_key_signs_labels_and_cannot_move_funds(home: Home) -> None:
    full_key = _ctx(home).credentials.public_key  # type: ignore[union-attr]
    assert run(_label(home, 0, "positive")) == full_key  # before: the full-access key signs

    first = cli(home, "grants", "onchain")
    assert first.exit_code == 0, first.output
    (entry,) = [e for e in Keystore(home.keys_dir).entries() if e.permission is not None]
    assert entry.permission.receiver_id == TASKS
    assert entry.permission.method_names == ("submit_label", "claim_rewards")
    assert stat.S_IMODE(entry.path.stat().st_mode) == 0o600
    ctx = _ctx(home)
    keys = run(_keys(ctx, ALICE))
    fc = keys[entry.public_key]["FunctionCall"]
    assert fc["receiver_id"] == TASKS and sorted(fc["method_names"]) == [
        "claim_rewards",
        "submit_label",
    ]
    assert int(fc["allowance"]) == NEAR // 4
    with AuditLog(home.audit_db) as log:
        added = [
            e
            for e in log.entries(kind=AuditKind.GRANT_ADDED, limit=None)
            if e.data.get("onchain_public_key") == entry.public_key
        ]
    assert len(added) == 1 and added[0].data["permission"]["FunctionCall"]["receiver_id"] == TASKS

    # idempotent: a second run finds the key and adds nothing
    second = cli(home, "grants", "onchain")
    assert second.exit_code == 0 and "nothing to do" in second.output
    assert run(_keys(ctx, ALICE)) == keys
    assert len(Keystore(home.keys_dir).entries()) == 1

    # the tools now sign submit_label with the function-call key
    assert run(_label(home, 1, "yes")) == entry.public_key

    # and the chain refuses that key for anything that moves funds
    narrow = Credentials(ALICE, Keystore(home.keys_dir).load(entry))

    async def misuse() -> list[str]:
        refused = []
        specs = [
            TransactionSpec(
                signer_id=ALICE, receiver_id="bob.test.near", actions=(TransferSpec(deposit=NEAR),)
            ),
            TransactionSpec(
                signer_id=ALICE,
                receiver_id=TASKS,
                actions=(
                    FunctionCallSpec(
                        method_name="submit_label",
                        args={"task_id": 1, "item_id": 1, "label": "no"},
                        gas=30 * 10**12,
                        deposit=1,
                    ),
                ),
            ),
            TransactionSpec(
                signer_id=ALICE,
                receiver_id="wrap.test.near",
                actions=(FunctionCallSpec(method_name="near_deposit", args={}, gas=30 * 10**12),),
            ),
        ]
        for spec in specs:
            with pytest.raises(InvalidTransactionError) as info:
                await ctx.chain.send(narrow, spec)
            refused.append(info.value.message)
        return refused

    refused = run(misuse())
    assert "RequiresFullAccess" in refused[0]
    assert "DepositWithFunctionCall" in refused[1]
    assert "ReceiverMismatch" in refused[2]

    # --revoke deletes it from the chain; the full-access key signs again
    revoked = cli(home, "grants", "onchain", "--revoke")
    assert revoked.exit_code == 0, revoked.output
    assert entry.public_key not in run(_keys(ctx, ALICE))
    assert not entry.path.exists()
    with AuditLog(home.audit_db) as log:
        assert [
            e.data["onchain_public_key"]
            for e in log.entries(kind=AuditKind.GRANT_REVOKED, limit=None)
        ] == [entry.public_key]
    assert run(_label(home, 2, "hello")) == full_key
    run(ctx.aclose())


def test_trading_sub_account_is_capped_by_the_grant_budget(home: Home) -> None:
    too_much = cli(
        home, "grants", "onchain", "--no-tasks-key", "--trading-account", "trading", "--fund", "30"
    )
    assert too_much.exit_code == 1
    assert "exceeds the budget of grant 'demo-swaps'" in too_much.output
    assert "25 NEAR" in too_much.output
    ctx = _ctx(home)
    assert not run(ctx.chain.account_exists("trading." + ALICE))

    made = cli(
        home, "grants", "onchain", "--no-tasks-key", "--trading-account", "trading", "--fund", "3"
    )
    assert made.exit_code == 0, made.output
    sub = "trading." + ALICE
    assert run(ctx.chain.near_balance(sub))["total"] == 3 * NEAR
    (entry,) = [e for e in Keystore(home.keys_dir).entries() if e.account_id == sub]
    assert entry.full_access and run(_keys(ctx, sub)) == {entry.public_key: "FullAccess"}
    with AuditLog(home.audit_db) as log:
        (audited,) = [
            e
            for e in log.entries(kind=AuditKind.GRANT_ADDED, limit=None)
            if e.data.get("onchain_account") == sub
        ]
    assert audited.data["fund"] == str(3 * NEAR) and audited.data["grant_id"] == "demo-swaps"
    assert audited.data["onchain_public_key"] == entry.public_key

    again = cli(
        home, "grants", "onchain", "--no-tasks-key", "--trading-account", "trading", "--fund", "3"
    )
    assert again.exit_code == 0 and "nothing to do" in again.output
    assert run(ctx.chain.near_balance(sub))["total"] == 3 * NEAR

    # an action whose signer is the sub-account is signed with the sub-account's own key
    ctx = _ctx(home)
    action = CanonicalAction(
        tool="transfer",
        signer_id=sub,
        preview="1 NEAR from the trading account",
        transactions=(
            TransactionSpec(
                signer_id=sub, receiver_id="bob.test.near", actions=(TransferSpec(deposit=NEAR),)
            ),
        ),
    )

    async def send() -> str:
        result, outcomes = await execute_transactions(action, ctx, [])
        assert result.balance_changes["near"] < -NEAR + 1  # measured on the sub-account
        return outcomes[0].raw["transaction"]["public_key"]

    assert run(send()) == entry.public_key
    run(ctx.aclose())


def test_onchain_refuses_unclear_requests(home: Home) -> None:
    alone = cli(home, "grants", "onchain", "--trading-account", "trading")
    assert alone.exit_code == 1 and "go together" in alone.output
    bad = cli(
        home, "grants", "onchain", "--no-tasks-key", "--trading-account", "a.b", "--fund", "1"
    )
    assert bad.exit_code == 1 and "valid sub-account" in bad.output
    both = cli(home, "grants", "onchain", "--revoke", "--trading-account", "t", "--fund", "1")
    assert both.exit_code == 1 and "separate run" in both.output
    assert Keystore(home.keys_dir).entries() == []


def test_a_spent_allowance_falls_back_then_onchain_replaces_the_key(home: Home) -> None:
    from agent.onchain import apply_onchain

    report = run(apply_onchain(home, allowance=1))  # one yocto: no call can be paid for
    spent = report.tasks_key
    full_key = _ctx(home).credentials.public_key  # type: ignore[union-attr]
    # the node refuses the function-call key (nothing happens), the full-access key signs
    assert run(_label(home, 0, "positive")) == full_key

    rotated = cli(home, "grants", "onchain")
    assert rotated.exit_code == 0, rotated.output
    assert f"replaced function-call key {spent}" in rotated.output
    (entry,) = [e for e in Keystore(home.keys_dir).entries() if e.permission is not None]
    assert entry.public_key != spent
    ctx = _ctx(home)
    keys = run(_keys(ctx, ALICE))
    assert spent not in keys and entry.public_key in keys
    run(ctx.aclose())
    assert run(_label(home, 1, "no")) == entry.public_key
