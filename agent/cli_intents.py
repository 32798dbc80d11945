"""``near-agent plan``, ``do`` and ``chat``: the user's words in, policy-checked actions out."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agent.cli_group import fail
from agent.home import Home

if TYPE_CHECKING:
    from agent.executor import RunReport
    from agent.session import AgentSession


async def _open(home: Home, *, recover: bool = False) -> AgentSession:
    """Open the session and report what a crash left behind (grants are never re-stored)."""
    from agent.config import ConfigError
    from agent.session import AgentSession
    from tools.errors import ToolError

    try:
        session = await AgentSession.open(home)
    except (ConfigError, ToolError) as exc:
        fail(str(exc), 2)
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
    """Show what the agent would do, without doing it.

    Exit codes: 0 every step could run (allowed, or allowed once you confirm); 2 the intent was
    refused at the door (hidden characters, a key or seed phrase) or the command was misused;
    3 not understood, or the planner refused it (no plan); 4 the policy would deny a step;
    5 a step cannot be prepared (an unknown token, not enough balance, ...).
    """
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
    code = plan_exit_code(body, checks)
    if as_json:
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
        raise typer.Exit(code)
    if "error" in body:
        typer.echo(body["error"])
        raise typer.Exit(code)
    for index, step in enumerate(body["steps"], start=1):
        args = ", ".join(f"{k}={v}" for k, v in step["args"].items())
        typer.echo(f"{index}. {step['tool']}({args})")
        if checks is not None:
            check_row = checks[index - 1]
            detail = check_row.get("preview") or check_row.get("error", "")
            typer.echo(f"   policy: {check_row['outcome']} {detail}")
            if check_row.get("why"):
                typer.echo(f"   because: {'; '.join(check_row['why'])}")
    raise typer.Exit(code)


EXIT_NOT_UNDERSTOOD, EXIT_DENIED, EXIT_CANNOT_PREPARE = 3, 4, 5


def plan_exit_code(body: dict[str, Any], checks: list[dict[str, Any]] | None) -> int:
    """``plan``'s exit code (see its help): no plan, then a denied step, then an unpreparable
    one; 0 when every step could run."""
    if "error" in body:
        return EXIT_NOT_UNDERSTOOD
    outcomes = {row["outcome"] for row in checks or []}
    if "deny" in outcomes:
        return EXIT_DENIED
    if "refused" in outcomes:
        return EXIT_CANNOT_PREPARE
    return 0


def _offline_plan(home: Home, intent: str) -> dict[str, Any]:
    from agent.planner import OfflinePlanner
    from memory.contacts import AddressBook

    book = AddressBook(home.memory_db) if home.root.exists() else None
    try:
        contacts = (lambda n: c.account_id if (c := book.get(n)) else None) if book else None
        planner = OfflinePlanner(
            contacts=contacts, unavailable=_unavailable_tools(home), language=_preferred(home)
        )
        return planner.plan_text(intent).to_json_dict()
    finally:
        if book is not None:
            book.close()


def _preferred(home: Home) -> str:
    """The reply-language preference, read without creating anything ("auto" without a home)."""
    if not home.memory_db.exists():
        return "auto"
    from memory.preferences import PreferencesStore

    with PreferencesStore(home.memory_db) as store:
        return store.load().language


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
    from policies.explain import deciding_words
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
                    "why": deciding_words(decision),
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
            "asked (and not sent when there is no terminal to ask on).",
        ),
    ] = False,
) -> None:
    """Carry out one intent, asking before anything is signed."""
    report = asyncio.run(_do(ctx.obj, intent, yes))
    raise typer.Exit(0 if report.ok else 1)


async def _do(home: Home, intent: str, yes: bool) -> RunReport:
    from rich.console import Console

    from agent.chat_prompt import Terminal

    session = await _open(home, recover=True)
    terminal = Terminal(Console(), history=None)
    try:
        language = _language(session, intent)
        asker = Asker(terminal, language)
        report = await session.run(intent, asker, review=None if yes else asker)
    finally:
        await session.close()
    _print_report(report, language, unasked=asker.unasked)
    return report


def _language(session: AgentSession, intent: str) -> str:
    from agent.replies import reply_language

    return reply_language(session.preferences.load().language, intent)


class Asker:
    """The y/N question before signing, in the user's language; remembers when no one could be
    asked (no terminal), so the reply says that rather than "you declined"."""

    def __init__(self, terminal: Any, language: str) -> None:
        self.terminal = terminal
        self.language = language
        self.unasked = False

    def __call__(self, action: Any, decision: Any) -> bool:
        from agent.replies import say
        from policies.explain import deciding_words

        self.terminal.stop_spinner()
        words = deciding_words(decision) if decision.outcome == "confirm" else []
        why = f"  [{say('why_asked', self.language)}: {'; '.join(words)}]" if words else ""
        self.terminal.console.print(f"{action.preview}{why}", markup=False, highlight=False)
        answer = self.terminal.ask(say("confirm", self.language))
        if answer is None:
            self.unasked = True
            return False
        return answer


def _print_report(report: RunReport, language: str = "en", *, unasked: bool = False) -> None:
    from agent.replies import render

    for line in render(report, language, unasked=unasked):
        typer.echo(line)


def chat(ctx: typer.Context) -> None:
    """Talk to the agent; /help lists the slash commands.

    Ctrl-C discards the line being typed (during an action it stops the command safely);
    Ctrl-D or /quit leaves. Lines pasted together are shown and run as one request only if you
    say yes.
    """
    asyncio.run(_chat(ctx.obj))


HELP = """Say what you want, e.g. "send 2 NEAR to bob", "swap 5 NEAR to USDC", "claim my rewards".
/balance   your balances        /audit   the latest intents in the audit log
/grants    your grants          /pause   stop scheduled actions   /resume   allow them again
/help      this text            /quit    leave (or Ctrl-D)
Arrow keys edit the line and recall earlier ones; Ctrl-C discards the line."""

PASTED = {
    "en": "You pasted {count} lines; they would run as one request:",
    "ja": "{count} 行が貼り付けられました。1 つの依頼として実行します:",
    "zh": "您粘贴了 {count} 行，将作为一个请求执行:",
}
CONTROL_CODES = (
    "That line holds terminal control codes ({shown}), e.g. from arrow keys where no line "
    "editor runs; nothing was run or kept. Retype it."
)


async def _chat(home: Home) -> None:
    from rich.console import Console

    from agent.chat_prompt import HISTORY_FILE, Terminal, joined
    from agent.intent_screen import IntentRefused, screen_intent
    from agent.replies import reply_language, say

    console = Console()
    session = await _open(home, recover=True)
    terminal = Terminal(console, history=home.root / HISTORY_FILE)
    console.print(
        f"near-agent on {session.config.network} as {session.config.account_id}. /help for help.",
        markup=False,
        highlight=False,
    )
    try:
        while True:
            line = terminal.read()
            if line.text is None:
                break
            if line.rejected is not None:
                console.print(
                    CONTROL_CODES.format(shown=line.rejected), markup=False, highlight=False
                )
                continue
            text = line.text
            if line.pasted:
                language = reply_language(session.preferences.load().language, line.pasted[0])
                console.print(
                    PASTED[language].format(count=len(line.pasted)), markup=False, highlight=False
                )
                for pasted in line.pasted:
                    console.print(f"  {pasted}", markup=False, highlight=False)
                if not terminal.ask(say("confirm", language)):
                    continue
                text = joined(line.pasted)
            if not text:
                continue
            if text in ("/quit", "/exit"):
                break
            if text.startswith("/"):
                terminal.remember(text)
                await _slash(session, console, text)
                continue
            try:
                screen_intent(text)
            except IntentRefused as exc:  # nothing was kept; the conversation goes on
                console.print(exc.message, markup=False, highlight=False)
                continue
            terminal.remember(text)
            language = _language(session, text)
            asker = Asker(terminal, language)
            terminal.start_spinner()
            try:
                report = await session.run(text, asker, review=asker)
            except IntentRefused as exc:
                terminal.stop_spinner()
                console.print(exc.message, markup=False, highlight=False)
                continue
            finally:
                terminal.stop_spinner()
            _print_report(report, language, unasked=asker.unasked)
    finally:
        terminal.stop_spinner()
        await session.close()


async def _slash(session: AgentSession, console: Any, text: str) -> None:
    command = text.split()[0]
    if command == "/help":
        console.print(HELP)
    elif command == "/balance":
        from agent.plan import Plan, PlanStep

        balance = Plan(intent="/balance", steps=[PlanStep(tool="balance")], planner="offline")
        _print_report(await session.run_plan(balance, None), _language(session, ""))
    elif command == "/audit":  # the newest intents, as `near-agent audit list` shows them
        from agent.cli_audit import intents_table
        from memory.audit import AuditReadError
        from memory.audit.activity import list_activity
        from memory.audit.units import known_token_units

        try:
            page = list_activity(
                session.audit,
                limit=10,
                units=known_token_units(session.home.pools_db),
                network=session.config.network,
            )
        except AuditReadError as exc:  # a damaged log: say so, the conversation goes on
            console.print(str(exc), markup=False, highlight=False)
            return
        console.print(intents_table(page.items) if page.items else "No audit entries yet.")
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
