"""How the agent stands, gathered once: ``near-agent status`` and the web console both show this.

Public API (the console imports it and must not gather these facts itself):

- :func:`read_status` ``(home, *, probe_chain=True, deadline_s=None) -> AgentStatus``
- :class:`AgentStatus` and its parts, pydantic models; ``model_dump(mode="json")`` is the
  documented ``status --json`` shape (amounts as base-unit strings beside display text).

Reading the status creates nothing (no home, no database, no lock file) and signs nothing; a
database it opens that others could read is made owner-only (memory.db.connect), so
``problems`` lists what is still loose. Each part that cannot be read carries its ``error`` in
words instead of failing the whole; the node is asked only when ``probe_chain`` (bounded by
``deadline_s``, default ``rpc.deadline_s``).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer

from agent.home import Home

# Python callers get an int; JSON gets a string (a yoctoNEAR amount does not fit a JS number).
BaseUnits = Annotated[int, PlainSerializer(str, return_type=str, when_used="json")]

DEVNET_START = "near-agent devnet"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Amount(_Model):
    """An amount of one token: exact base units, and the same in whole tokens with its symbol."""

    units: BaseUnits
    display: str


class NodeStatus(_Model):
    """The configured network and whether its RPC node answers."""

    network: str  # devnet, testnet, mainnet or custom
    rpc_url: str | None = None
    chain_id: str | None = None
    probed: bool = False  # False: the node was not asked (probe_chain=False, or no config)
    answers: bool | None = None  # None when not probed
    latest_block_height: int | None = None
    error: str | None = None  # why it does not answer, in words
    how_to_start: str | None = None  # a devnet that is down: the command that starts it


class TokenBalance(_Model):
    symbol: str
    token: str  # "near" or the token's contract id
    decimals: int
    balance: Amount  # for NEAR: available (total minus storage staking)


class AccountStatus(_Model):
    account_id: str
    balances: list[TokenBalance] = []
    error: str | None = None  # balances could not be read


class PoolKeyStatus(_Model):
    """One key of the account's key pool (tools.key_pool)."""

    public_key: str
    in_use: bool  # its AddKey landed; False: stored, not on chain yet


class KeyStatus(_Model):
    """The key the agent signs with; its secret is never read here (no passphrase asked)."""

    public_key: str | None = None
    kept_at: str | None = None  # the key file's path
    encrypted: bool | None = None
    error: str | None = None  # missing, unreadable, or readable by others
    # the account's key pool: further full-access keys, so actions sign in parallel
    pool: list[PoolKeyStatus] = []


class WindowBudget(_Model):
    """One rolling window: at most ``cap`` in any ``period_s``; ``left`` may be spent now."""

    measure: str  # a token id, or "usd"
    period_s: int
    cap: Amount
    used: Amount
    left: Amount
    # when part of the budget comes back: the oldest spending in the window ages out of it
    # (None: nothing spent in the window)
    frees_at: datetime | None = None


class GrantStatus(_Model):
    grant_id: str
    version: int
    status: str  # active, expired, revoked, ... (policies.grants.grant_status)
    kinds: list[str]
    expires_at: datetime
    windows: list[WindowBudget] = []


class KillSwitchStatus(_Model):
    paused: bool = False
    reason: str = ""
    changed_at: datetime | None = None


class DaemonStatus(_Model):
    running: bool = False
    pid: int | None = None  # 0: running, pid not yet written


class AgentStatus(_Model):
    home: str
    exists: bool  # False: no home at that path (nothing else is filled in)
    configured: bool = False  # agent.yaml present and valid
    config_error: str | None = None
    node: NodeStatus | None = None
    account: AccountStatus | None = None
    key: KeyStatus | None = None
    grants: list[GrantStatus] = []
    ceiling: list[WindowBudget] = []  # the global ceiling's windows
    kill_switch: KillSwitchStatus = KillSwitchStatus()
    daemon: DaemonStatus = DaemonStatus()
    approvals_pending: int = 0  # scheduler inbox items waiting for the user
    problems: list[str] = []  # file modes and other things the user should fix


def read_status(
    home: Home, *, probe_chain: bool = True, deadline_s: float | None = None
) -> AgentStatus:
    """Everything ``near-agent status`` shows, read without changing anything."""
    from agent.home_files import home_problems

    root = home.root
    if not root.is_dir():
        return AgentStatus(home=str(root), exists=False)
    config, config_error = _config(home)
    grants, ceiling = read_grants(home)
    node = account = key = None
    if config is not None:
        node, account, key = _chain_parts(home, config, probe_chain, deadline_s)
    return AgentStatus(
        home=str(root),
        exists=True,
        configured=config is not None,
        config_error=config_error,
        node=node,
        account=account,
        key=key,
        grants=grants,
        ceiling=ceiling,
        kill_switch=_kill_switch(home),
        daemon=_daemon(home),
        approvals_pending=_approvals_pending(home),
        problems=home_problems(home),
    )


# --------------------------------------------------------------------------- parts


def _config(home: Home) -> tuple[Any, str | None]:
    from agent.config import ConfigError, load_config

    if not home.config_file.exists():
        return None, f"no {home.config_file}: write one with `near-agent init`"
    try:
        return load_config(home.config_file), None
    except ConfigError as exc:
        return None, str(exc)


def _read_only_db(path: Path) -> Any:
    """A read-only connection to an existing database, or None when there is none (a damaged
    file is reported as DamagedDatabase, naming it, as every command does)."""
    from memory.db import connect_read_only

    if not path.exists():
        return None
    return connect_read_only(path)


def _kill_switch(home: Home) -> KillSwitchStatus:
    import sqlite3

    conn = _read_only_db(home.memory_db)
    if conn is None:
        return KillSwitchStatus()
    try:
        row = conn.execute(
            "SELECT paused, reason, changed_at FROM kill_switch WHERE id = 1"
        ).fetchone()
    except sqlite3.OperationalError:  # no such table: never paused
        return KillSwitchStatus()
    finally:
        conn.close()
    if row is None:
        return KillSwitchStatus()
    return KillSwitchStatus(
        paused=bool(row[0]), reason=row[1], changed_at=datetime.fromisoformat(row[2])
    )


def _daemon(home: Home) -> DaemonStatus:
    from agent.daemon_lock import daemon_pid

    pid = daemon_pid(home.root)
    return DaemonStatus(running=pid is not None, pid=pid)


def _approvals_pending(home: Home) -> int:
    import sqlite3

    from memory.jobs import ts

    conn = _read_only_db(home.jobs_db)
    if conn is None:
        return 0
    now = ts(datetime.now(UTC))
    try:
        row = conn.execute(
            "SELECT COUNT(*) FROM inbox WHERE status = 'pending' AND expires_at > ?", (now,)
        ).fetchone()
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()
    return int(row[0])


def read_grants(home: Home) -> tuple[list[GrantStatus], list[WindowBudget]]:
    """Every grant's latest version with each window's budget used and left, and the global
    ceiling's windows (``grants list --json`` and ``grants show --json`` show the same)."""
    from policies.grants import NEAR_DECIMALS, Ceiling, Grant, grant_status
    from policies.store import PolicyLedger
    from policies.windows import check_windows, to_us
    from tools.action import NEAR

    if not home.policy_db.exists():
        return [], []
    ledger = PolicyLedger(home.policy_db)
    try:
        now = datetime.now(UTC)
        now_us = to_us(now)
        decimals: dict[str, tuple[int, str]] = {NEAR: (NEAR_DECIMALS, "NEAR")}
        out: list[GrantStatus] = []
        for row in ledger.grants():
            grant = Grant.model_validate_json(row.body)
            for token, places in grant.decimals.items():
                decimals.setdefault(token, (places, grant.label(token)))
            lines = check_windows(grant.id, grant.windows, ledger, grant.id, now_us, {}, 0)
            out.append(
                GrantStatus(
                    grant_id=grant.id,
                    version=row.version,
                    status=grant_status(grant, revoked=row.revoked, now=now),
                    kinds=list(grant.kinds),
                    expires_at=grant.expires_at,
                    windows=[_window(line, decimals, ledger, grant.id, now_us) for line in lines],
                )
            )
        ceiling_row = ledger.ceiling()
        ceiling: list[WindowBudget] = []
        if ceiling_row is not None:
            windows = Ceiling.model_validate_json(ceiling_row[1]).windows
            lines = check_windows("global", windows, ledger, None, now_us, {}, 0)
            ceiling = [_window(line, decimals, ledger, None, now_us) for line in lines]
        return out, ceiling
    finally:
        ledger.close()


def _window(
    line: Any, decimals: dict[str, tuple[int, str]], ledger: Any, grant_id: str | None, now_us: int
) -> WindowBudget:
    from policies.windows import EPOCH, US

    def amount(units: int) -> Amount:
        return Amount(units=units, display=_display(units, line.measure, decimals))

    oldest = ledger.oldest_live(grant_id, now_us - line.period_s * US)
    frees_at = (
        None
        if oldest is None or line.used == 0
        else EPOCH + timedelta(microseconds=oldest + line.period_s * US)
    )
    return WindowBudget(
        measure=line.measure,
        period_s=line.period_s,
        cap=amount(line.cap),
        used=amount(line.used),
        left=amount(line.left),
        frees_at=frees_at,
    )


def _display(units: int, measure: str, decimals: dict[str, tuple[int, str]]) -> str:
    """Whole tokens as a person reads them; the exact amount is ``units`` beside it."""
    from tools.amounts import display_amount

    if measure == "usd":
        return f"${display_amount(units, 6)}"
    if measure in decimals:
        places, label = decimals[measure]
        return f"{display_amount(units, places)} {label}"
    return f"{units} base units of {measure}"


# --------------------------------------------------------------------------- the chain


def _chain_parts(
    home: Home, config: Any, probe: bool, deadline_s: float | None
) -> tuple[NodeStatus, AccountStatus, KeyStatus]:
    from tools.errors import NetworkConfigError
    from tools.network import configured_network

    account = AccountStatus(account_id=config.account_id)
    try:
        network = configured_network(
            config.network,
            rpc_url=config.rpc_url,
            devnet_manifest=config.devnet_manifest,
            home_devnet_dir=home.devnet_dir,
            overrides=config.network_overrides,
        )
    except NetworkConfigError as exc:
        node = NodeStatus(
            network=config.network, error=exc.message, how_to_start=_start(home, config)
        )
        return node, account, KeyStatus(error="the network is not configured")
    key = _key(config, network).model_copy(update=_pool(home, config.account_id))
    node = NodeStatus(
        network=config.network,
        rpc_url=network.rpc_url,
        chain_id=network.extra.get("chain_id") or network.network_id,
    )
    if not probe:
        return node, account, key
    limit = deadline_s if deadline_s is not None else config.rpc.deadline_s
    return (*asyncio.run(_probe(home, config, network, node, account, limit)), key)


def _start(home: Home, config: Any) -> str | None:
    return devnet_start_command(home) if config.network == "devnet" else None


def devnet_start_command(home: Home) -> str:
    """The command that starts this home's devnet (``--home`` named unless it is the default)."""
    default = Home.resolve(Path.home() / ".near-agent").root
    return DEVNET_START if home.root == default else f"near-agent --home {home.root} devnet"


def _pool(home: Home, account_id: str) -> dict[str, Any]:
    """The account's pool keys in HOME/keys (read without opening a secret)."""
    from tools.keystore import Keystore

    entries = Keystore(home.keys_dir).entries()
    return {
        "pool": [
            PoolKeyStatus(public_key=e.public_key, in_use=e.pool_active)
            for e in entries
            if e.account_id == account_id and e.pool
        ]
    }


def _key(config: Any, network: Any) -> KeyStatus:
    import json

    from tools.key_sealing import is_encrypted_file
    from tools.keys import check_permissions, default_credentials_path

    path = config.key_file or (
        network.key_file_for(config.account_id)
        if config.network == "devnet"
        else default_credentials_path(network.network_id, config.account_id)
    )
    if path is None:
        return KeyStatus(error=f"no key file for {config.account_id}")
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return KeyStatus(kept_at=str(path), error=f"key file {path} does not exist")
    except (OSError, ValueError):
        return KeyStatus(kept_at=str(path), error=f"key file {path} is unreadable or not JSON")
    if not isinstance(raw, dict):
        return KeyStatus(kept_at=str(path), error=f"key file {path} must hold a JSON object")
    error = None
    try:
        check_permissions(path)
    except Exception as exc:  # CredentialsError: readable by others
        error = getattr(exc, "message", str(exc))
    public = raw.get("public_key")
    return KeyStatus(
        public_key=public if isinstance(public, str) else None,
        kept_at=str(path),
        encrypted=is_encrypted_file(raw),
        error=error,
    )


async def _probe(
    home: Home,
    config: Any,
    network: Any,
    node: NodeStatus,
    account: AccountStatus,
    deadline_s: float,
) -> tuple[NodeStatus, AccountStatus]:
    from tools.amounts import display_amount
    from tools.balance import balance_row
    from tools.base import ToolContext
    from tools.chain_setup import RpcSettings, chain_client_for
    from tools.errors import ToolError

    rpc = replace(RpcSettings.from_config(config), deadline_s=deadline_s)
    try:
        chain = chain_client_for(
            network, timeout_s=min(config.rpc.timeout_s, deadline_s), retries=0, rpc=rpc
        )
        ctx = ToolContext(network=network, chain=chain, account_id=config.account_id)
    except ToolError as exc:
        failed = node.model_copy(update={"probed": True, "answers": False, "error": exc.message})
        return failed, account
    try:
        try:
            status = await ctx.chain.rpc("status", [])
        except ToolError as exc:
            down = node.model_copy(
                update={
                    "probed": True,
                    "answers": False,
                    "error": exc.message,
                    "how_to_start": _start(home, config),
                }
            )
            return down, account.model_copy(update={"error": "the node does not answer"})
        sync = status.get("sync_info", {}) if isinstance(status, dict) else {}
        height = sync.get("latest_block_height")
        node = node.model_copy(
            update={
                "probed": True,
                "answers": True,
                "chain_id": status.get("chain_id", node.chain_id)
                if isinstance(status, dict)
                else node.chain_id,
                "latest_block_height": height if isinstance(height, int) else None,
            }
        )
        rows: list[TokenBalance] = []
        try:
            for info in await ctx.tokens.all_listed():
                row = await balance_row(ctx, info)
                units = int(row["balance"])
                shown = display_amount(units, int(row["decimals"]))
                rows.append(
                    TokenBalance(
                        symbol=row["symbol"],
                        token=row["token"],
                        decimals=row["decimals"],
                        balance=Amount(units=units, display=f"{shown} {row['symbol']}"),
                    )
                )
        except ToolError as exc:
            return node, account.model_copy(update={"balances": rows, "error": exc.message})
        return node, account.model_copy(update={"balances": rows})
    finally:
        await ctx.aclose()
