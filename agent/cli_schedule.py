"""``near-agent schedule``, ``approvals``, ``daemon``, ``pause`` and ``resume``.

Strategies are typed configs (agent/scheduler/strategies.py), never free text. Every command
here only reads or writes the job store and the kill switch; the daemon is the one process that
acts. Heavy modules are imported inside the commands so ``near-agent --help`` stays fast.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agent.cli_group import command_group
from agent.home import Home

if TYPE_CHECKING:
    from memory.audit import Actor
    from memory.jobs import JobStore

schedule_app = command_group(
    name="schedule",
    help="Strategies the daemon runs unattended (DCA, limit orders, stop-loss, ...).",
    no_args_is_help=True,
)
approvals_app = command_group(
    name="approvals",
    help="Scheduled actions the policy wants you to confirm (they expire).",
    no_args_is_help=True,
)


def _store(ctx: typer.Context) -> JobStore:
    from agent.scheduler.daemon import jobs_db
    from memory.jobs import JobStore

    home: Home = ctx.obj
    return JobStore(jobs_db(home))


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _value(text: str) -> Any:
    """``key=value`` values: JSON lists/objects/numbers/booleans as such, anything else text."""
    if text[:1] in "[{" or text in ("true", "false"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def spec_from_pairs(pairs: list[str]) -> dict[str, Any]:
    """``kind=dca id=d1 guards.max_trades=3 weights.NEAR=50`` as a nested config dict."""
    spec: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"{pair!r} is not key=value")
        *parents, leaf = key.split(".")
        node = spec
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"{key!r} mixes a value and sub-keys")
        node[leaf] = _value(value)
    return spec


def _strategy_file(file: Path) -> dict[str, Any]:
    """A strategy file's settings, read the way every user file is (``load_yaml``: a key
    written twice is an error); ValueError naming the file when it cannot be used."""
    import yaml

    from memory.user_files import load_yaml

    try:
        spec = load_yaml(file.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{file}: not UTF-8 text; save the file as UTF-8") from exc
    except RecursionError as exc:
        raise ValueError(f"{file}: not readable YAML: it is nested too deeply") from exc
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{file}: {exc}") from exc
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise ValueError(f"{file}: the file must hold one strategy, a mapping of its settings")
    return spec


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


def _late(delta: timedelta) -> str:
    ms = int(delta.total_seconds() * 1000)
    return f"{ms} ms" if ms < 10_000 else f"{ms // 1000} s"


@schedule_app.command("add")
def add(
    ctx: typer.Context,
    pairs: Annotated[
        list[str] | None,
        typer.Argument(
            help="key=value settings, e.g. kind=dca id=d1 sell=USDC buy=NEAR "
            "amount=10 every=1d guards.max_trades=1"
        ),
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="A YAML or JSON file holding one strategy.")
    ] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Replace one with this id.")] = False,
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            help="First fire, e.g. 2026-12-01T09:00:00Z (default: now); "
            "later fires follow every interval from it.",
        ),
    ] = None,
) -> None:
    """Add a strategy; the daemon's next tick picks it up."""
    import sqlite3

    from pydantic import ValidationError

    from agent.scheduler.strategies import parse_strategy
    from tools.validation import describe_validation_error

    try:
        spec = {**(_strategy_file(file) if file else {}), **spec_from_pairs(pairs or [])}
        strategy = parse_strategy(spec)
    except ValidationError as exc:
        raise _fail(f"Not a valid strategy: {describe_validation_error(exc)}", 2) from exc
    except ValueError as exc:
        raise _fail(f"Not a valid strategy: {exc}", 2) from exc
    now = datetime.now(UTC)
    try:
        first = datetime.fromisoformat(start.replace("Z", "+00:00")) if start else now
    except ValueError as exc:
        raise _fail(f"--start {start!r} is not an ISO time like 2026-12-01T09:00:00Z", 2) from exc
    if first.tzinfo is None:
        first = first.replace(tzinfo=UTC)
    with _store(ctx) as store:
        try:
            store.add_strategy(
                strategy.id,
                strategy.kind,
                strategy.model_dump(mode="json"),
                source="cli",
                next_fire_at=first,
                now=now,
                replace=replace,
            )
        except sqlite3.IntegrityError as exc:
            raise _fail(f"A strategy {strategy.id!r} exists already (use --replace).") from exc
    typer.echo(f"Added {strategy.id}: {strategy.describe()}; first fire {_when(first)}")


@schedule_app.command("list")
def list_(ctx: typer.Context) -> None:
    """Every strategy with its status and next fire."""
    from rich.console import Console
    from rich.table import Table

    from agent.scheduler.strategies import parse_strategy

    with _store(ctx) as store:
        rows = store.strategies()
    if not rows:
        typer.echo("No strategies. Add one with `near-agent schedule add` or in agent.yaml.")
        return
    table = Table("id", "kind", "status", "next fire", "what", "last")
    for row in rows:
        try:
            what = parse_strategy(row.config).describe()
        except ValueError:
            what = "(invalid config)"
        status = row.status + (f" ({row.status_reason})" if row.status_reason else "")
        table.add_row(row.id, row.kind, status, _when(row.next_fire_at), what, row.last_note)
    Console().print(table)


@schedule_app.command("show")
def show(
    ctx: typer.Context,
    strategy_id: Annotated[str, typer.Argument(help="The strategy's id.")],
    fires: Annotated[int, typer.Option("--fires", help="How many recent fires to list.")] = 10,
) -> None:
    """A strategy's config, misfire policy, guard rails and what its recent fires did."""
    from agent.scheduler.strategies import parse_strategy

    with _store(ctx) as store:
        row = store.strategy(strategy_id)
        if row is None:
            raise _fail(f"No strategy {strategy_id!r}.")
        strategy = parse_strategy(row.config)
        g = strategy.guards
        now = datetime.now(UTC)
        used = store.count_trades(row.id, now - g.period)
        failures = store.consecutive_failures(row.id)
        recent = store.fires(row.id, limit=fires)
    say = typer.echo
    say(f"{row.id} ({row.kind}, from {row.source}): {strategy.describe()}")
    say(f"status: {row.status}" + (f" ({row.status_reason})" if row.status_reason else ""))
    say(f"next fire: {_when(row.next_fire_at)}   last: {row.last_note or '-'}")
    coalesce = (
        "coalesce: missed fires run once, at the latest due time"
        if strategy.coalesce
        else "no coalescing: each due fire runs in turn"
    )
    say(f"misfires: a fire later than {strategy.misfire_grace} is missed (never run); {coalesce}")
    cooldown = f", cooldown {g.cooldown}" if g.cooldown else ""
    say(
        f"guards: {used} of {g.max_trades} trades used per {g.per}{cooldown}; auto-pause after "
        f"{g.max_failures} failures in a row ({failures} now)"
    )
    say("config: " + json.dumps(row.config, sort_keys=True))
    if not recent:
        say("fires: none yet")
        return
    say("fires (newest first):")
    for fire in recent:
        late = _late(fire.started_at - fire.scheduled_at)
        detail = fire.detail
        text = detail.get("recovered") or detail.get("message") or detail.get("guard") or ""
        hashes = detail.get("tx_hashes") or []
        tail = f" tx {', '.join(hashes)}" if hashes else ""
        if detail.get("inbox"):
            tail += f" [inbox {detail['inbox']}]"
        say(f"  #{fire.id} {_when(fire.scheduled_at)} +{late} {fire.status}: {text}{tail}")


def _set_status(ctx: typer.Context, strategy_id: str, status: str, reason: str) -> None:
    from memory.audit import AuditKind, AuditLog, new_correlation_id

    home: Home = ctx.obj
    with _store(ctx) as store:
        row = store.strategy(strategy_id)
        if row is None:
            raise _fail(f"No strategy {strategy_id!r}.")
        if row.status == "completed":
            raise _fail(f"{strategy_id} has completed (it fired once); add a new one instead.")
        store.set_status(strategy_id, status, reason)
    kind = AuditKind.PAUSED if status == "paused" else AuditKind.RESUMED
    with AuditLog(home.audit_db) as audit:
        audit.append(
            kind,
            actor="user",
            correlation_id=new_correlation_id(),
            data={"strategy_id": strategy_id, "reason": reason},
        )
    typer.echo(f"{strategy_id} is {status}.")


@schedule_app.command("pause")
def pause_one(ctx: typer.Context, strategy_id: str) -> None:
    """Stop one strategy (its schedule keeps its place)."""
    _set_status(ctx, strategy_id, "paused", "paused by the user")


@schedule_app.command("resume")
def resume_one(ctx: typer.Context, strategy_id: str) -> None:
    """Start a paused strategy again (also one the guards paused)."""
    _set_status(ctx, strategy_id, "active", "")


@schedule_app.command("remove")
def remove(ctx: typer.Context, strategy_id: str) -> None:
    """Delete a strategy (its fire history stays in the ledger and the audit log)."""
    with _store(ctx) as store:
        if not store.remove_strategy(strategy_id):
            raise _fail(f"No strategy {strategy_id!r}.")
    typer.echo(f"Removed {strategy_id}.")


def set_paused(home: Home, paused: bool, reason: str, actor: Actor = "user") -> None:
    """Pull or lift the kill switch, audited: `pause`/`resume`, chat's twins and the console."""
    from memory.audit import AuditLog
    from memory.switch import KillSwitch

    with AuditLog(home.audit_db) as audit:
        switch = KillSwitch(home.memory_db, audit)
        try:
            if paused:
                switch.pause(actor=actor, reason=reason)
            else:
                switch.resume(actor=actor, reason=reason)
        finally:
            switch.close()


def pause(
    ctx: typer.Context,
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "",
) -> None:
    """Kill switch: stop every autonomous action at once (the daemon checks it every tick)."""
    set_paused(ctx.obj, True, reason or "near-agent pause")
    typer.echo("Paused: no scheduled action will run until `near-agent resume`.")


def resume(
    ctx: typer.Context,
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "",
) -> None:
    """Lift the kill switch: scheduled strategies run again."""
    set_paused(ctx.obj, False, reason or "near-agent resume")
    typer.echo("Resumed: scheduled strategies run again.")


def daemon(
    ctx: typer.Context,
    run_for: Annotated[
        float | None, typer.Option("--run-for", help="Stop after this many seconds.")
    ] = None,
    tick: Annotated[float, typer.Option("--tick", help="Seconds between checks.")] = 0.2,
) -> None:
    """Run the scheduler: strategies fire on time, through the policy engine, until stopped."""
    import asyncio

    from agent.config import ConfigError
    from agent.scheduler.daemon import run_daemon

    try:
        code = asyncio.run(
            run_daemon(ctx.obj, tick_s=tick, run_for=run_for, say=lambda s: typer.echo(s))
        )
    except (ConfigError, ValueError) as exc:
        raise _fail(str(exc), 2) from exc
    raise typer.Exit(code)


@approvals_app.command("list")
def approvals_list(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include resolved requests.")] = False,
) -> None:
    """Requests waiting for you (expired ones are marked expired first)."""
    from agent.scheduler.inbox import Inbox
    from memory.audit import AuditLog

    home: Home = ctx.obj
    with _store(ctx) as store, AuditLog(home.audit_db) as audit:
        inbox = Inbox(store, audit)
        items = store.inbox() if all_ else inbox.pending()
    if not items:
        typer.echo("Nothing waiting for approval.")
        return
    for item in items:
        typer.echo(f"{item.id}  {item.status:9} {item.strategy_id}: {item.preview}")
        typer.echo(f"    why: {', '.join(item.reasons)}; expires {_when(item.expires_at)}")


@approvals_app.command("approve")
def approvals_approve(
    ctx: typer.Context,
    item_id: str,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Approve the fresh preview.")] = False,
) -> None:
    """Prepare the request again, show the fresh preview and, if you agree, run it now."""
    import asyncio

    from agent.scheduler.inbox import Inbox, InboxError, approve_item
    from agent.session import AgentSession, describe

    async def go() -> int:
        session = await AgentSession.open(ctx.obj)
        try:
            with _store(ctx) as store:
                inbox = Inbox(store, session.audit)

                def confirm(action: Any, decision: Any) -> bool:
                    typer.echo(f"now: {action.preview}  ({', '.join(decision.reasons)})")
                    return yes or typer.confirm("Run it?", default=False)

                try:
                    report = await approve_item(session, inbox, item_id, confirm)
                except InboxError as exc:
                    typer.echo(str(exc), err=True)
                    return 1
            typer.echo(describe(report))
            return 0 if report.ok else 1
        finally:
            await session.close()

    raise typer.Exit(asyncio.run(go()))


@approvals_app.command("deny")
def approvals_deny(ctx: typer.Context, item_id: str) -> None:
    """Refuse a request; it can never run."""
    from agent.scheduler.inbox import Inbox, InboxError
    from memory.audit import AuditLog

    home: Home = ctx.obj
    with _store(ctx) as store, AuditLog(home.audit_db) as audit:
        try:
            Inbox(store, audit).deny(item_id)
        except InboxError as exc:
            raise _fail(str(exc)) from exc
    typer.echo(f"Denied {item_id}.")
