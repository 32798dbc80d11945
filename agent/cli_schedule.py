"""``near-agent schedule``, ``approvals``, ``daemon``, ``pause`` and ``resume``.

Strategies are typed configs (agent/scheduler/strategies.py), never free text. Every command
here only reads or writes the job store and the kill switch; the daemon is the one process that
acts. Heavy modules are imported inside the commands so ``near-agent --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
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
    """The job store, with agent.yaml's ``strategies:`` synced into it first (the daemon syncs
    them too), so every command sees the strategies the file declares."""
    from agent.config import load_config
    from agent.scheduler.daemon import jobs_db, sync_config_strategies
    from memory.jobs import JobStore

    home: Home = ctx.obj
    store = JobStore(jobs_db(home))
    if home.config_file.exists():
        try:
            items = load_config(home.config_file).strategies  # unusable: the CLI says so, exit 2
            sync_config_strategies(store, items, datetime.now(UTC))
        except ValueError as exc:  # an id `schedule add` already uses
            typer.echo(f"warning: agent.yaml's strategies not loaded: {exc}", err=True)
        except BaseException:
            store.close()
            raise
    return store


def _switch(home: Home) -> Any:
    from memory.switch import switch_state

    return switch_state(home.memory_db)


def _held(switch: Any) -> str:
    """The line every listing starts with while the kill switch is pulled."""
    from agent.scheduler.daemon import describe_pause

    return describe_pause(switch, daemon=False)


def _status(row: Any, switch: Any) -> str:
    """A strategy's status as it is in effect: an active one is held while the switch is on."""
    if row.status == "active" and switch.paused:
        return "paused (kill switch)"
    return row.status + (f" ({row.status_reason})" if row.status_reason else "")


def _what(row: Any) -> str:
    from agent.scheduler.strategies import parse_strategy

    try:
        return parse_strategy(row.config).describe()
    except ValueError:
        return "(invalid config)"


def _row_json(row: Any, switch: Any) -> dict[str, Any]:
    what = _what(row)
    return {
        "id": row.id,
        "kind": row.kind,
        "source": row.source,
        "status": row.status,
        "status_reason": row.status_reason,
        "held_by_kill_switch": row.status == "active" and switch.paused,
        "next_fire_at": row.next_fire_at.isoformat() if row.next_fire_at else None,
        "what": what,
        "last": row.last_note,
        "config": row.config,
    }


def _switch_json(switch: Any) -> dict[str, Any]:
    return {
        "paused": switch.paused,
        "reason": switch.reason,
        "changed_at": switch.changed_at.isoformat() if switch.changed_at else None,
    }


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


def _preflight(home: Home, strategy: Any) -> list[str]:
    """Check the strategy against the network's tokens and the grants in force (see
    agent/scheduler/preflight.py); exits 2 on a lasting problem, returns notes otherwise."""
    import asyncio

    from agent.config import ConfigError
    from agent.scheduler.preflight import check_strategy
    from agent.session import AgentSession
    from tools.errors import ToolError

    if not home.config_file.exists():
        return ["not checked against tokens and grants: this home has no agent.yaml yet"]

    async def go() -> Any:
        session = await AgentSession.open(home)
        try:
            return await check_strategy(session, strategy)
        finally:
            await session.close()

    try:
        result = asyncio.run(go())
    except (ConfigError, ToolError, OSError) as exc:
        raise _fail(
            f"Not added: could not check {strategy.id} against the network and grants ({exc}); "
            "start the network, or add it unchecked with --no-check",
            2,
        ) from exc
    if result.refusal:
        raise _fail(f"Not added: {result.refusal}", 2)
    return result.notes


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
    no_check: Annotated[
        bool,
        typer.Option(
            "--no-check", help="Skip checking tokens and grants against the network (offline)."
        ),
    ] = False,
) -> None:
    """Add a strategy; the daemon's next tick picks it up.

    Refused: a token the network does not know, an order no grant in force could ever allow,
    and a DCA without `every=` (how often it spends).
    """
    import sqlite3

    from pydantic import ValidationError

    from agent.scheduler.strategies import interval_problem, parse_strategy, strategy_problems

    try:
        spec = {**(_strategy_file(file) if file else {}), **spec_from_pairs(pairs or [])}
        strategy = parse_strategy(spec)
    except ValidationError as exc:
        raise _fail(f"Not a valid strategy: {'; '.join(strategy_problems(exc))}", 2) from exc
    except ValueError as exc:
        raise _fail(f"Not a valid strategy: {exc}", 2) from exc
    if problem := interval_problem(spec):
        raise _fail(f"Not a valid strategy: {problem}", 2)
    now = datetime.now(UTC)
    try:
        first = datetime.fromisoformat(start.replace("Z", "+00:00")) if start else now
    except ValueError as exc:
        raise _fail(f"--start {start!r} is not an ISO time like 2026-12-01T09:00:00Z", 2) from exc
    if first.tzinfo is None:
        first = first.replace(tzinfo=UTC)
    notes = ["not checked against tokens and grants (--no-check)"] if no_check else []
    if not no_check:
        notes = _preflight(ctx.obj, strategy)
    with _store(ctx) as store:
        existing = store.strategy(strategy.id)
        if existing is not None and existing.source == "config":
            raise _fail(_declared_in_config(strategy.id))
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
    if "every" not in spec:
        typer.echo(
            f"  every {strategy.every}: the default for {strategy.kind}; set every= to change"
        )
    for note in notes:
        typer.echo(f"  note: {note}")


@schedule_app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every strategy (agent.yaml's too) with its status and next fire."""
    from rich.console import Console
    from rich.table import Table

    switch = _switch(ctx.obj)
    with _store(ctx) as store:
        rows = store.strategies()
    if as_json:
        out = {
            "kill_switch": _switch_json(switch),
            "strategies": [_row_json(r, switch) for r in rows],
        }
        typer.echo(json.dumps(out))
        return
    if switch.paused:
        typer.echo(_held(switch))
    if not rows:
        typer.echo("No strategies. Add one with `near-agent schedule add` or in agent.yaml.")
        return
    header = ("id", "kind", "status", "next fire", "what", "last")
    cells = [
        (r.id, r.kind, _status(r, switch), _when(r.next_fire_at), _what(r), r.last_note)
        for r in rows
    ]
    if not sys.stdout.isatty():  # piped: one tab-separated line per strategy, never wrapped
        for line in (header, *cells):
            typer.echo("\t".join(line))
        return
    table = Table(*header)
    for line in cells:
        table.add_row(*line)
    Console().print(table)


@schedule_app.command("show")
def show(
    ctx: typer.Context,
    strategy_id: Annotated[str, typer.Argument(help="The strategy's id.")],
    fires: Annotated[int, typer.Option("--fires", help="How many recent fires to list.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A strategy's config, misfire policy, guard rails and what its recent fires did."""
    from agent.scheduler.strategies import parse_strategy

    switch = _switch(ctx.obj)
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
        waiting = [i for i in store.inbox("pending") if i.strategy_id == row.id]
    if as_json:
        out = {
            **_row_json(row, switch),
            "kill_switch": _switch_json(switch),
            "guards": {
                "trades_used": used,
                "max_trades": g.max_trades,
                "per": g.per,
                "cooldown": g.cooldown,
                "consecutive_failures": failures,
                "max_failures": g.max_failures,
            },
            "misfire_grace": strategy.misfire_grace,
            "coalesce": strategy.coalesce,
            "pending_approvals": [i.id for i in waiting],
            "fires": [
                {
                    "id": f.id,
                    "scheduled_at": f.scheduled_at.isoformat(),
                    "started_at": f.started_at.isoformat(),
                    "status": f.status,
                    "detail": f.detail,
                }
                for f in recent
            ],
        }
        typer.echo(json.dumps(out, default=str))
        return
    say = typer.echo
    if switch.paused:
        say(_held(switch))
    say(f"{row.id} ({row.kind}, from {row.source}): {strategy.describe()}")
    say(f"status: {_status(row, switch)}")
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
    if waiting:
        ids = ", ".join(i.id for i in waiting)
        say(f"waiting for approval: {ids} (`near-agent approvals list`)")
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
        row = store.strategy(strategy_id)
        if row is not None and row.source == "config":
            raise _fail(_declared_in_config(strategy_id))
        if not store.remove_strategy(strategy_id):
            raise _fail(f"No strategy {strategy_id!r}.")
    typer.echo(f"Removed {strategy_id}.")


def _declared_in_config(strategy_id: str) -> str:
    return (
        f"{strategy_id} is declared in agent.yaml: change or delete it there "
        f"(`near-agent schedule pause {strategy_id}` stops it meanwhile)."
    )


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
    """Run the scheduler: strategies fire on time, through the policy engine, until stopped.

    One daemon per home (a second one is refused); it logs to HOME/logs/daemon.log.
    `near-agent daemon status` says whether one runs.
    """
    if ctx.invoked_subcommand is not None:
        return
    import asyncio

    from agent.config import ConfigError
    from agent.daemon_lock import DaemonRunning
    from agent.scheduler.daemon import daemon_since, run_daemon

    home: Home = ctx.obj
    try:
        code = asyncio.run(
            run_daemon(home, tick_s=tick, run_for=run_for, say=lambda s: typer.echo(s))
        )
    except DaemonRunning as exc:
        since = daemon_since(home)
        when = f", running since {_when(since)}" if since else ""
        kill = f" or `kill {exc.pid}`" if exc.pid else ""  # (0: it has not written it yet)
        raise _fail(
            f"Not started: {exc}{when}. Stop that one first (Ctrl-C in its terminal{kill}); "
            "`near-agent daemon status` shows it."
        ) from exc
    except KeyboardInterrupt:  # Ctrl-C before the scheduler ran: nothing had fired
        raise _fail("daemon stopped while starting (Ctrl-C): nothing had fired.", 130) from None
    except (ConfigError, ValueError) as exc:
        raise _fail(str(exc), 2) from exc
    raise typer.Exit(code)


daemon_app = command_group(
    name="daemon",
    help="Run the scheduler until stopped (Ctrl-C): strategies fire on time, through the policy "
    "engine. One daemon per home, logging to HOME/logs/daemon.log; `daemon status` says whether "
    "one runs.",
    invoke_without_command=True,
)
daemon_app.callback(invoke_without_command=True)(daemon)


def daemon_state(home: Home) -> dict[str, Any]:
    """Whether a daemon runs for ``home``: pid, since when, its log (reads, creates nothing)."""
    from agent.daemon_lock import daemon_pid
    from agent.scheduler.daemon import daemon_since, log_path

    pid = daemon_pid(home.root)
    since = daemon_since(home) if pid else None
    log = log_path(home)
    return {
        "running": pid is not None,
        "pid": pid,
        "since": since.isoformat() if since else None,
        "log": str(log) if log.exists() else None,
    }


@daemon_app.command("status")
def daemon_status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Whether a daemon runs for this home (exit 0), or not (exit 3): pid, since when, log."""
    home: Home = ctx.obj
    state = daemon_state(home)
    if as_json:
        typer.echo(json.dumps(state))
    elif state["running"]:
        since = datetime.fromisoformat(state["since"]) if state["since"] else None
        typer.echo(f"daemon running: pid {state['pid']}, since {_when(since)}")
    else:
        typer.echo(f"no daemon running for {home.root}; start one with `near-agent daemon`")
    if not as_json:
        typer.echo(f"log: {state['log'] or '(none yet)'}")
    raise typer.Exit(0 if state["running"] else 3)


def _item_json(item: Any) -> dict[str, Any]:
    return {
        "id": item.id,
        "strategy_id": item.strategy_id,
        "status": item.status,
        "tool": item.tool,
        "args": item.args,
        "preview": item.preview,
        "reasons": item.reasons,
        "created_at": item.created_at.isoformat(),
        "expires_at": item.expires_at.isoformat(),
        "fires": item.fires,
        "detail": item.detail,
    }


@approvals_app.command("list")
def approvals_list(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include resolved requests.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Requests waiting for you (expired ones are marked expired first)."""
    from agent.scheduler.inbox import Inbox
    from memory.audit import AuditLog

    home: Home = ctx.obj
    with _store(ctx) as store, AuditLog(home.audit_db) as audit:
        inbox = Inbox(store, audit)
        items = [inbox.view(i) for i in (store.inbox() if all_ else inbox.pending())]
    if as_json:
        typer.echo(json.dumps([_item_json(i) for i in items]))
        return
    if not items:
        typer.echo("Nothing waiting for approval.")
        return
    for item in items:
        fires = f" ({item.fires} fires asked for it)" if item.fires > 1 else ""
        typer.echo(f"{item.id}  {item.status:9} {item.strategy_id}: {item.preview}{fires}")
        typer.echo(f"    why: {', '.join(item.reasons)}; expires {_when(item.expires_at)}")


def _one_or_strategy(item_id: str | None, strategy_id: str | None) -> None:
    if (item_id is None) == (strategy_id is None):
        raise _fail("Name one request ID, or --strategy ID for all of one strategy's.", 2)


@approvals_app.command("approve")
def approvals_approve(
    ctx: typer.Context,
    item_id: Annotated[str | None, typer.Argument(help="The request's id.")] = None,
    strategy_id: Annotated[
        str | None,
        typer.Option("--strategy", help="Every pending request of this strategy, in turn."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Approve the fresh preview.")] = False,
) -> None:
    """Prepare the request again, show the fresh preview and, if you agree, run it now.

    With --strategy, each of that strategy's pending requests is handled so, one after another.
    """
    import asyncio

    from agent.scheduler.inbox import Inbox, InboxError, approve_all, approve_item
    from agent.session import AgentSession, describe

    _one_or_strategy(item_id, strategy_id)

    async def go() -> int:
        session = await AgentSession.open(ctx.obj)
        try:
            with _store(ctx) as store:
                inbox = Inbox(store, session.audit)

                def confirm(action: Any, decision: Any) -> bool:
                    typer.echo(f"now: {action.preview}  ({', '.join(decision.reasons)})")
                    return yes or typer.confirm("Run it?", default=False)

                if strategy_id is not None:
                    outcomes = await approve_all(session, inbox, strategy_id, confirm)
                    if not outcomes:
                        typer.echo(f"Nothing of {strategy_id} waits for approval.", err=True)
                        return 1
                    for outcome in outcomes:
                        typer.echo(f"{outcome.item_id}: {outcome.message}")
                    return 0 if all(o.ok for o in outcomes) else 1
                try:
                    report = await approve_item(session, inbox, item_id or "", confirm)
                except InboxError as exc:
                    typer.echo(str(exc), err=True)
                    return 1
            typer.echo(describe(report))
            return 0 if report.ok else 1
        finally:
            await session.close()

    raise typer.Exit(asyncio.run(go()))


@approvals_app.command("deny")
def approvals_deny(
    ctx: typer.Context,
    item_id: Annotated[str | None, typer.Argument(help="The request's id.")] = None,
    strategy_id: Annotated[
        str | None, typer.Option("--strategy", help="Every pending request of this strategy.")
    ] = None,
) -> None:
    """Refuse a request (or, with --strategy, all of one strategy's); it can never run."""
    from agent.scheduler.inbox import Inbox, InboxError, deny_all
    from memory.audit import AuditLog

    _one_or_strategy(item_id, strategy_id)
    home: Home = ctx.obj
    with _store(ctx) as store, AuditLog(home.audit_db) as audit:
        inbox = Inbox(store, audit)
        if strategy_id is not None:
            outcomes = deny_all(inbox, strategy_id)
            if not outcomes:
                raise _fail(f"Nothing of {strategy_id} waits for approval.")
            for outcome in outcomes:
                typer.echo(f"{outcome.item_id}: {outcome.message}")
            return
        try:
            inbox.deny(item_id or "")
        except InboxError as exc:
            raise _fail(str(exc)) from exc
    typer.echo(f"Denied {item_id}.")
