"""``near-agent plan``, ``do`` and ``chat``: the user's words in, policy-checked actions out."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from agent.home import Home

if TYPE_CHECKING:
    from agent.executor import RunReport
    from agent.session import AgentSession


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


async def _open(home: Home, *, recover: bool = False) -> AgentSession:
    """Open the session and report what a crash left behind (grants are never re-stored)."""
    from agent.config import ConfigError
    from agent.session import AgentSession
    from tools.errors import ToolError

    try:
        session = await AgentSession.open(home)
    except (ConfigError, ToolError) as exc:
        _fail(str(exc))
    if notice := session.grants_file_notice():
        typer.echo(notice, err=True)
    if recover:
        for item in await session.reconcile():
            typer.echo(f"recovered: {item.describe()}")
    return session


def reconcile(ctx: typer.Context) -> None:
    """Resolve actions a crash interrupted: settle what landed, release what did not.

    Actions still under way in a running process are left alone (one that ended with an unknown
    outcome is not under way: it is resolved); nothing is ever sent again.
    """

    async def run() -> None:
        session = await _open(ctx.obj)
        try:
            items = await session.reconcile()
        finally:
            await session.close()
        for item in items:
            typer.echo(item.describe())
        if not items:
            typer.echo("Nothing to recover.")

    asyncio.run(run())


def plan(
    ctx: typer.Context,
    intent: Annotated[str, typer.Argument(help='What you want, e.g. "send 2 NEAR to bob".')],
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check/--no-check",
            help="Also prepare each step and show the policy's dry-run decision "
            "(needs a configured home; nothing is signed or reserved).",
        ),
    ] = True,
) -> None:
    """Show what the agent would do, without doing it."""
    from agent.intent_screen import IntentRefused, screen_intent

    try:
        screen_intent(intent)  # also when no home is configured and no session opens
    except IntentRefused as exc:
        if as_json:  # a script reading --json gets JSON too; the intent is not echoed back
            refused = {"steps": [], "error": exc.message, "refused": True}
            typer.echo(json.dumps(refused, ensure_ascii=False, indent=2))
        raise  # the entry point says why on stderr and exits 2
    home: Home = ctx.obj
    checks = None
    if check and home.config_file.exists():
        body, checks = asyncio.run(_plan_and_check(home, intent))
    else:
        body = _offline_plan(home, intent)
    if checks is not None:
        body["checks"] = checks
    if as_json:
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    if "error" in body:
        typer.echo(body["error"])
        return
    for index, step in enumerate(body["steps"], start=1):
        args = ", ".join(f"{k}={v}" for k, v in step["args"].items())
        typer.echo(f"{index}. {step['tool']}({args})")
        if checks is not None:
            check_row = checks[index - 1]
            detail = check_row.get("preview") or check_row.get("error", "")
            typer.echo(f"   policy: {check_row['outcome']} {detail}")


def _offline_plan(home: Home, intent: str) -> dict[str, Any]:
    from agent.planner import OfflinePlanner
    from memory.contacts import AddressBook

    book = AddressBook(home.memory_db) if home.root.exists() else None
    try:
        contacts = (lambda n: c.account_id if (c := book.get(n)) else None) if book else None
        planner = OfflinePlanner(contacts=contacts, unavailable=_unavailable_tools(home))
        return planner.plan_text(intent).to_json_dict()
    finally:
        if book is not None:
            book.close()


def _unavailable_tools(home: Home) -> dict[str, str]:
    """The tools the configured network cannot run, read offline; none when the home has no
    usable configuration (planning without a check never needed one)."""
    if not home.config_file.exists():
        return {}
    from agent.config import ConfigError, load_config
    from tools import registry
    from tools.errors import NetworkConfigError
    from tools.network import configured_network

    try:
        config = load_config(home.config_file)
        network = configured_network(
            config.network,
            rpc_url=config.rpc_url,
            devnet_manifest=config.devnet_manifest,
            home_devnet_dir=home.devnet_dir,
            overrides=config.network_overrides,
        )
    except (ConfigError, NetworkConfigError):
        return {}
    return registry.unavailable(network)


async def _plan_and_check(home: Home, intent: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from tools.errors import ToolError

    session = await _open(home)
    try:
        plan_ = await session.plan(intent)
        checks: list[dict[str, Any]] = []
        for step in plan_.steps:
            try:
                action, decision = await session.check(step)
            except ToolError as exc:
                checks.append({"tool": step.tool, "outcome": "refused", "error": exc.message})
                continue
            checks.append(
                {
                    "tool": step.tool,
                    "outcome": decision.outcome,
                    "reasons": decision.reasons,
                    "preview": action.preview,
                }
            )
        return plan_.to_json_dict(), checks
    finally:
        await session.close()


def do(
    ctx: typer.Context,
    intent: Annotated[str, typer.Argument(help='What you want, e.g. "swap 5 NEAR to USDC".')],
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            "-y",
            help="Run what the policy allows without asking; what it wants confirmed is still "
            "asked (and declined when there is no terminal).",
        ),
    ] = False,
) -> None:
    """Carry out one intent, asking before anything is signed."""
    report = asyncio.run(_do(ctx.obj, intent, yes))
    raise typer.Exit(0 if report.ok else 1)


async def _do(home: Home, intent: str, yes: bool) -> RunReport:
    session = await _open(home, recover=True)
    try:
        report = await session.run(intent, _ask, review=None if yes else _ask)
    finally:
        await session.close()
    _print_report(report)
    return report


def _ask(action: Any, decision: Any) -> bool:
    """y/N on the terminal; no terminal means no."""
    reasons = ", ".join(r for r in decision.reasons if r) if decision.outcome == "confirm" else ""
    typer.echo(f"{action.preview}" + (f"  [{reasons}]" if reasons else ""))
    if not sys.stdin.isatty():
        typer.echo("No terminal to ask on: declined.")
        return False
    return typer.confirm("Go ahead?", default=False)


def _print_report(report: RunReport) -> None:
    from agent.session import describe

    typer.echo(describe(report))
    typer.echo(f"(audit: near-agent audit show {report.correlation_id})")


def chat(ctx: typer.Context) -> None:
    """Talk to the agent; /help lists the slash commands."""
    asyncio.run(_chat(ctx.obj))


HELP = """Say what you want, e.g. "send 2 NEAR to bob", "swap 5 NEAR to USDC", "claim my rewards".
/balance   your balances        /audit   the last entries of the audit log
/grants    your grants          /pause   stop scheduled actions   /resume   allow them again
/help      this text            /quit    leave"""


async def _chat(home: Home) -> None:
    from rich.console import Console

    from agent.intent_screen import IntentRefused

    console = Console()
    session = await _open(home, recover=True)
    console.print(
        f"near-agent on {session.config.network} as {session.config.account_id}. /help for help."
    )
    try:
        while True:
            try:
                text = console.input("[bold cyan]you>[/] ").strip()
            except (EOFError, KeyboardInterrupt):
                break
            if not text:
                continue
            if text in ("/quit", "/exit"):
                break
            if text.startswith("/"):
                await _slash(session, console, text)
                continue
            try:
                with console.status("working…"):
                    report = await session.run(text, _ask, review=_ask)
            except IntentRefused as exc:  # nothing was kept; the conversation goes on
                console.print(exc.message, markup=False, highlight=False)
                continue
            _print_report(report)
    finally:
        await session.close()


async def _slash(session: AgentSession, console: Any, text: str) -> None:
    command = text.split()[0]
    if command == "/help":
        console.print(HELP)
    elif command == "/balance":
        from agent.plan import Plan, PlanStep

        balance = Plan(intent="/balance", steps=[PlanStep(tool="balance")], planner="offline")
        _print_report(await session.run_plan(balance, None))
    elif command == "/audit":
        from agent.cli_audit import entries_table
        from memory.audit import AuditReadError

        try:
            rows = session.audit.entries(limit=15)
        except AuditReadError as exc:  # a damaged log: say so, the conversation goes on
            console.print(str(exc), markup=False, highlight=False)
            return
        console.print(entries_table(rows) if rows else "No audit entries yet.")
    elif command == "/grants":
        from agent.cli_grants import NO_GRANTS, grant_summaries

        summaries = grant_summaries(session.home)
        for g in summaries:
            console.print(
                f"{g.grant_id} v{g.version} {g.status}, expires {g.expires_at:%Y-%m-%d %H:%M} UTC",
                markup=False,
                highlight=False,
            )
        if not summaries:
            console.print(NO_GRANTS, markup=False, highlight=False)
    elif command in ("/pause", "/resume"):
        from agent.cli_schedule import set_paused

        set_paused(session.home, command == "/pause", f"chat {command}")
        if command == "/pause":
            console.print("Paused: no scheduled action will run until /resume.")
        else:
            console.print("Resumed: scheduled strategies run again.")
    else:
        console.print(f"Unknown command {command}. /help lists them.")
