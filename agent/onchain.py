"""The on-chain backstop behind the off-chain policy engine (``near-agent grants onchain``).

Why: the policy engine is code, and code can be bypassed. What NEAR itself enforces cannot:

* a function-call access key limited to the tasks contract's ``submit_label`` and
  ``claim_rewards`` (no deposit, a gas allowance) signs those two actions, so the key the agent
  uses most often can never move funds;
* optionally, a trading sub-account (``<name>.<account>``) funded with no more than a grant's
  NEAR budget and holding its own key: swaps run from it, so a bypass of the engine there loses
  at most that balance, never the main account's.

Every step is idempotent (existing keys are found with ``view_access_key_list``) and audited.
The new secret is written to HOME/keys (0600, sealed when the keystore is encrypted) *before*
the transaction adding it is sent, so a crash can never leave an on-chain key nobody holds.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agent.config import load_config
from agent.home import Home
from memory.audit import AuditKind, AuditLog, new_correlation_id
from policies.grants import NEAR_DECIMALS, Ceiling, Grant
from tools import registry
from tools.action import NEAR
from tools.amounts import format_amount, parse_amount
from tools.base import ToolContext, context_from_config
from tools.errors import TransactionFailedError
from tools.keypair import KeyPair
from tools.keystore import FunctionCallPermission, KeyEntry, Keystore
from tools.network import is_valid_account_id
from tools.outcome import TxOutcome
from tools.signing import (
    CreateAccountTransaction,
    FunctionCallKeyGrant,
    KeyTransaction,
    SignableSpec,
    SignedTx,
)

TASK_METHODS = ("submit_label", "claim_rewards")
DEFAULT_ALLOWANCE = 25 * 10**22  # 0.25 NEAR of gas for the function-call key
ONCHAIN_TOOL = "grants onchain"  # the audit entries' tool: the command that sent them


class OnchainError(Exception):
    """The on-chain setup cannot be done as asked; the message says why and what to do."""


@dataclass
class OnchainReport:
    """What was found, created or deleted (public keys and hashes only)."""

    lines: list[str] = field(default_factory=list)
    tasks_key: str | None = None
    trading_account: str | None = None
    tx_hashes: list[str] = field(default_factory=list)

    def say(self, line: str) -> None:
        self.lines.append(line)


# --------------------------------------------------------------------------- the budget


def grant_budget(grant: Grant, ceiling: Ceiling | None) -> int | None:
    """The most NEAR the engine lets this grant spend in any window (None: no NEAR cap)."""
    windows = [*grant.windows, *(ceiling.windows if ceiling else ())]
    caps = [w.amount for w in windows if w.token == NEAR and w.amount is not None]
    return min(caps) if caps else None


def choose_budget(
    grants: Sequence[tuple[Grant, bool]],
    ceiling: Ceiling | None,
    grant_id: str | None,
    now: datetime,
) -> tuple[Grant, int]:
    """The grant that funds the trading account and its NEAR budget; OnchainError otherwise."""
    live = [g for g, revoked in grants if not revoked and g.expires_at > now]
    if grant_id is not None:
        chosen = [g for g in live if g.id == grant_id]
        if not chosen:
            raise OnchainError(f"no active grant {grant_id!r}: `near-agent grants list` shows them")
        if not set(chosen[0].kinds) & registry.spending_kinds():
            raise OnchainError(
                f"grant {grant_id!r} allows no swap or transfer, so it has no "
                "budget to fund a trading account with"
            )
    else:
        swaps = [g for g in live if "swap" in g.kinds]
        chosen = swaps or [g for g in live if "transfer" in g.kinds]
        if not chosen:
            raise OnchainError(
                "no active grant lets the agent swap or transfer NEAR; a trading "
                "account is funded from such a grant's budget"
            )
        if len(chosen) > 1:
            names = ", ".join(g.id for g in chosen)
            raise OnchainError(
                f"several grants could fund the trading account ({names}): pick one with --grant ID"
            )
    grant = chosen[0]
    budget = grant_budget(grant, ceiling)
    if budget is None:
        raise OnchainError(
            f"grant {grant.id!r} has no NEAR window cap (nor does the global "
            "ceiling), so it has no budget to fund a trading account with"
        )
    return grant, budget


def _grants(home: Home) -> tuple[list[tuple[Grant, bool]], Ceiling | None]:
    from policies.store import GrantBook

    book = GrantBook(home.policy_db)
    try:
        rows = book.grants()
        ceiling_row = book.ceiling()
    finally:
        book.close()
    ceiling = Ceiling.model_validate_json(ceiling_row[1]) if ceiling_row else None
    return [(Grant.model_validate_json(r.body), r.revoked) for r in rows], ceiling


# --------------------------------------------------------------------------- chain helpers


async def access_keys(ctx: ToolContext, account_id: str) -> dict[str, Any]:
    """public key -> permission, from ``view_access_key_list``."""
    result = await ctx.chain.rpc(
        "query",
        {"request_type": "view_access_key_list", "account_id": account_id, "finality": "final"},
    )
    if not isinstance(result, dict) or result.get("error"):
        raise OnchainError(f"cannot list the access keys of {account_id}")
    return {k["public_key"]: k["access_key"]["permission"] for k in result.get("keys", [])}


def _same_permission(onchain: Any, wanted: FunctionCallPermission) -> bool:
    fc = onchain.get("FunctionCall") if isinstance(onchain, dict) else None
    return (
        isinstance(fc, dict)
        and fc.get("receiver_id") == wanted.receiver_id
        and sorted(fc.get("method_names") or []) == sorted(wanted.method_names)
    )


def _nearly_spent(onchain: Any, wanted: FunctionCallPermission) -> bool:
    """Less than a tenth of the allowance asked for is left (None on chain = unlimited)."""
    left = onchain["FunctionCall"].get("allowance")
    return left is not None and wanted.allowance is not None and int(left) < wanted.allowance // 10


# --------------------------------------------------------------------------- the steps


def _audit(home: Home, kind: AuditKind, data: dict[str, Any], cid: str | None = None) -> None:
    with AuditLog(home.audit_db) as log:
        log.append(kind, actor="user", correlation_id=cid or new_correlation_id(), data=data)


async def _send(
    home: Home,
    ctx: ToolContext,
    spec: SignableSpec,
    cid: str,
    *,
    what: str | None = None,
    tool: str = ONCHAIN_TOOL,
) -> TxOutcome:
    """Send one key or account transaction, journalled like the executor's: each signed hash is
    written to the audit log (tx_submitted, under the command ``tool``) before it leaves, so a
    crash can be resolved by hash. A failure raises TransactionFailedError, saying ``what``
    failed when given."""

    def journal(signed: SignedTx) -> None:
        with AuditLog(home.audit_db) as log:
            log.append(
                AuditKind.TX_SUBMITTED,
                actor="user",
                correlation_id=cid,
                data=signed.journal_fields(),
                tool=tool,
                status="signed",
            )

    outcome = await ctx.chain.send(
        ctx.require_credentials(), spec, raise_on_failure=what is None, on_signed=journal
    )
    if not outcome.ok:
        raise TransactionFailedError(
            f"{what} failed: {outcome.first_error()}", outcome=outcome, tx_hash=outcome.tx_hash
        )
    return outcome


def _stored_task_keys(store: Keystore, account: str, receiver: str) -> list[KeyEntry]:
    return [
        e
        for e in store.entries()
        if e.account_id == account
        and e.permission is not None
        and e.permission.receiver_id == receiver
    ]


async def ensure_tasks_key(
    home: Home, ctx: ToolContext, store: Keystore, report: OnchainReport, allowance: int
) -> None:
    """Add the function-call key for the tasks contract unless it is already there."""
    account, receiver = ctx.account_id, _tasks_contract(ctx)
    wanted = FunctionCallPermission(receiver, TASK_METHODS, allowance)
    onchain = await access_keys(ctx, account)
    spent: list[KeyEntry] = []
    for entry in _stored_task_keys(store, account, receiver):
        if entry.public_key in onchain and _same_permission(onchain[entry.public_key], wanted):
            if not _nearly_spent(onchain[entry.public_key], wanted):
                report.tasks_key = entry.public_key
                report.say(
                    f"function-call key {entry.public_key} for {receiver} "
                    f"({', '.join(TASK_METHODS)}) is already on {account}: nothing to do"
                )
                return
            spent.append(entry)  # its gas allowance is (nearly) used up: replace it
    stored = [e for e in _stored_task_keys(store, account, receiver) if e.public_key not in onchain]
    if stored:  # written by an earlier run whose transaction never landed: add that one
        entry = stored[0]
        wanted = entry.permission or wanted
    else:
        entry = store.store(
            account, KeyPair.generate(), permission=wanted, note=f"function-call key for {receiver}"
        )
    grant = FunctionCallKeyGrant(entry.public_key, receiver, TASK_METHODS, wanted.allowance)
    cid = new_correlation_id()
    outcome = await _send(
        home,
        ctx,
        KeyTransaction(signer_id=account, add=(grant,), delete=tuple(e.public_key for e in spent)),
        cid,
    )
    report.tx_hashes.append(outcome.tx_hash)
    report.tasks_key = entry.public_key
    for old in spent:
        store.remove(old)
        report.say(f"replaced function-call key {old.public_key}: its gas allowance was spent")
    _audit(
        home,
        AuditKind.GRANT_ADDED,
        {
            "onchain_public_key": entry.public_key,
            "account_id": account,
            "tx_hash": outcome.tx_hash,
            "permission": {"FunctionCall": wanted.to_json()},
            "key_file": str(entry.path),
            "replaces": [e.public_key for e in spent],
        },
        cid,
    )
    allowance_text = (
        "unlimited"
        if wanted.allowance is None
        else f"{format_amount(wanted.allowance, NEAR_DECIMALS)} NEAR"
    )
    report.say(
        f"added function-call key {entry.public_key} to {account}: it can call only "
        f"{', '.join(TASK_METHODS)} on {receiver}, with no deposit and {allowance_text} "
        f"of gas (tx {outcome.tx_hash}); the agent now signs those actions with it"
    )


async def revoke_tasks_key(
    home: Home, ctx: ToolContext, store: Keystore, report: OnchainReport
) -> None:
    """Delete the agent's function-call key(s) for the tasks contract from the chain."""
    account, receiver = ctx.account_id, _tasks_contract(ctx)
    onchain = await access_keys(ctx, account)
    entries = _stored_task_keys(store, account, receiver)
    if not entries:
        report.say(f"the agent holds no function-call key for {receiver}: nothing to revoke")
    for entry in entries:
        cid = new_correlation_id()
        if entry.public_key in onchain:
            outcome = await _send(
                home,
                ctx,
                KeyTransaction(signer_id=account, delete=(entry.public_key,)),
                cid,
            )
            report.tx_hashes.append(outcome.tx_hash)
            report.say(
                f"deleted function-call key {entry.public_key} from {account} "
                f"(tx {outcome.tx_hash})"
            )
            tx_hash: str | None = outcome.tx_hash
        else:
            report.say(f"function-call key {entry.public_key} was not on {account}; forgot it")
            tx_hash = None
        store.remove(entry)
        _audit(
            home,
            AuditKind.GRANT_REVOKED,
            {"onchain_public_key": entry.public_key, "account_id": account, "tx_hash": tx_hash},
            cid,
        )


def trading_account_id(name: str, parent: str) -> str:
    """``name`` under ``parent`` (a full ``name.parent`` is accepted too); one level only."""
    sub = name if name.endswith("." + parent) else f"{name}.{parent}"
    label = sub[: -len(parent) - 1]
    if not label or "." in label or not is_valid_account_id(sub):
        raise OnchainError(
            f"{name!r} does not make a valid sub-account of {parent}: use a "
            "name like 'trading' (lowercase letters, digits, - and _)"
        )
    return sub


async def ensure_trading_account(
    home: Home,
    ctx: ToolContext,
    store: Keystore,
    report: OnchainReport,
    name: str,
    fund: int,
    grant_id: str | None,
) -> None:
    """Create and fund the trading sub-account unless it exists with a key the agent holds."""
    grants, ceiling = _grants(home)
    grant, budget = choose_budget(grants, ceiling, grant_id, datetime.now(UTC))
    near = lambda units: f"{format_amount(units, NEAR_DECIMALS)} NEAR"  # noqa: E731
    if fund > budget:
        raise OnchainError(
            f"--fund {near(fund)} exceeds the budget of grant {grant.id!r} "
            f"({near(budget)} in any window); fund it with at most that"
        )
    parent = ctx.account_id
    sub = trading_account_id(name, parent)
    report.trading_account = sub
    held = [e for e in store.entries() if e.account_id == sub and e.full_access]
    if await ctx.chain.account_exists(sub):
        onchain = await access_keys(ctx, sub)
        if any(e.public_key in onchain for e in held):
            balance = (await ctx.chain.near_balance(sub))["total"]
            report.say(
                f"trading account {sub} already exists with the agent's key "
                f"(balance {near(balance)}): nothing to do"
            )
            return
        raise OnchainError(
            f"{sub} already exists but the agent holds none of its keys; "
            "choose another --trading-account name"
        )
    entry = (
        held[0]
        if held
        else store.store(
            sub, KeyPair.generate(), note=f"trading sub-account of {parent}, budget of {grant.id}"
        )
    )
    cid = new_correlation_id()
    outcome = await _send(
        home,
        ctx,
        CreateAccountTransaction(
            signer_id=parent, receiver_id=sub, fund=fund, public_key=entry.public_key
        ),
        cid,
        what=f"creating {sub}",
    )
    report.tx_hashes.append(outcome.tx_hash)
    _audit(
        home,
        AuditKind.GRANT_ADDED,
        {
            "onchain_account": sub,
            "onchain_public_key": entry.public_key,
            "permission": "FullAccess",
            "fund": str(fund),
            "grant_id": grant.id,
            "budget": str(budget),
            "tx_hash": outcome.tx_hash,
            "key_file": str(entry.path),
        },
        cid,
    )
    report.say(
        f"created {sub} funded with {near(fund)} (grant {grant.id!r} allows "
        f"{near(budget)} per window) and its own full-access key {entry.public_key} "
        f"(tx {outcome.tx_hash}); it can lose at most its balance. To trade from it, "
        f"use an agent home with account_id {sub} and key_file {entry.path}"
    )


def _tasks_contract(ctx: ToolContext) -> str:
    if not ctx.network.tasks_id:
        raise OnchainError(f"no tasks contract is configured on {ctx.network.network_id}")
    return ctx.network.tasks_id


async def _require_full_access(ctx: ToolContext) -> None:
    creds = ctx.require_credentials()
    keys = await access_keys(ctx, ctx.account_id)
    if keys.get(creds.public_key) != "FullAccess":
        raise OnchainError(
            f"the key file for {ctx.account_id} must hold a full-access key to "
            f"add or delete keys (its key {creds.public_key} is not one)"
        )


@contextlib.asynccontextmanager
async def onchain_change(
    home: Home, keystore: Keystore | None = None
) -> AsyncIterator[tuple[ToolContext, Keystore, OnchainReport]]:
    """What one change on chain works with: the account's tool context (its chain client closed
    afterwards), the home's keystore (or ``keystore``) and the report the CLI prints."""
    config = load_config(home.config_file)
    store = keystore or Keystore(home.keys_dir)
    ctx = context_from_config(config, home_devnet_dir=home.devnet_dir, state_dir=home.state_dir)
    try:
        yield ctx, store, OnchainReport()
    finally:
        await ctx.aclose()


async def apply_onchain(
    home: Home,
    *,
    tasks_key: bool = True,
    revoke: bool = False,
    trading_account: str | None = None,
    fund: str | None = None,
    grant_id: str | None = None,
    allowance: int = DEFAULT_ALLOWANCE,
    keystore: Keystore | None = None,
) -> OnchainReport:
    """Run the requested steps; raises OnchainError, ToolError or ConfigError with a clear text."""
    if (trading_account is None) != (fund is None):
        raise OnchainError("--trading-account and --fund go together")
    if revoke and trading_account is not None:
        raise OnchainError(
            "--revoke deletes the tasks key only; create the trading account in a separate run"
        )
    fund_units = parse_amount(fund, NEAR_DECIMALS) if fund is not None else None
    async with onchain_change(home, keystore) as (ctx, store, report):
        await _require_full_access(ctx)
        if revoke:
            await revoke_tasks_key(home, ctx, store, report)
        elif tasks_key:
            await ensure_tasks_key(home, ctx, store, report, allowance)
        if trading_account is not None and fund_units is not None:
            await ensure_trading_account(
                home, ctx, store, report, trading_account, fund_units, grant_id
            )
    return report
