"""``near-agent grants``: the user's commands for the limits the agent acts within.

This is the only place grants are written: ``add`` stores a new version of each grant in a file
the user wrote (old versions are kept), ``revoke`` ends one grant or all. ``check`` is a dry run
of a canonical action. Heavy imports stay inside the commands so the CLI starts fast.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agent.cli_errors import ReportsUnusableFiles
from agent.cli_group import command_group, fail

if TYPE_CHECKING:
    from agent.home import Home
    from policies.grants import Grant

grants_app = command_group(
    cls=ReportsUnusableFiles,
    name="grants",
    help="Show, add, revoke and test the grants that limit what the agent may do.",
    no_args_is_help=True,
    add_completion=False,
)


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _amount(grant: Grant, token: str, units: int) -> str:
    from policies.grants import NEAR_DECIMALS
    from tools.action import NEAR
    from tools.amounts import format_amount

    decimals = NEAR_DECIMALS if token == NEAR else grant.decimals.get(token)
    if decimals is None:
        return f"{units} base units of {token}"
    return f"{format_amount(units, decimals)} {grant.label(token) if token != NEAR else 'NEAR'}"


def _usd(micro: int | None) -> str:
    from tools.amounts import format_amount

    return "-" if micro is None else f"${format_amount(micro, 6)}"


def configured_facts(home: Home) -> Any:
    """The exchange and wNEAR ids of the configured network, when it can be read offline.

    No agent.yaml, or a devnet whose manifest is missing, leaves the facts empty (swaps are then
    decoded via the grants' exchanges); any other failure is a bug and is not hidden.
    """
    from agent.config import ConfigError, load_config
    from policies.engine import chain_facts
    from policies.evaluator import ChainFacts
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
        return ChainFacts()
    return chain_facts(network)


@dataclass(frozen=True)
class GrantSummary:
    """One line of `grants list` (and of chat's /grants)."""

    grant_id: str
    version: int
    status: str
    kinds: tuple[str, ...]
    expires_at: datetime


def grant_summaries(home: Home, now: datetime | None = None) -> list[GrantSummary]:
    """Every grant's latest version and how it stands, as the user's grant book holds it."""
    from policies.grants import Grant, grant_status
    from policies.store import GrantBook

    book = GrantBook(home.policy_db)
    try:
        rows = book.grants()
    finally:
        book.close()
    now = now or _now()
    out = []
    for row in rows:
        grant = Grant.model_validate_json(row.body)
        out.append(
            GrantSummary(
                grant.id,
                row.version,
                grant_status(grant, revoked=row.revoked, now=now),
                tuple(grant.kinds),
                grant.expires_at,
            )
        )
    return out


NO_GRANTS = "No grants: the agent may do nothing. Add some with `near-agent grants add FILE`."


JsonOption = Annotated[
    bool, typer.Option("--json", help="JSON (the shape is documented in the README).")
]


@grants_app.command("list")
def list_grants(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every grant's latest version and whether it is active."""
    from rich.console import Console
    from rich.table import Table

    if as_json:
        from agent.status import read_grants

        grants, ceiling = read_grants(ctx.obj)
        body = {
            "grants": [g.model_dump(mode="json") for g in grants],
            "ceiling": [w.model_dump(mode="json") for w in ceiling],
        }
        typer.echo(json.dumps(body, indent=2, ensure_ascii=False))
        return
    summaries = grant_summaries(ctx.obj)
    if not summaries:
        typer.echo(NO_GRANTS)
        return
    table = Table(title="Grants")
    for column in ("id", "version", "status", "kinds", "expires (UTC)"):
        table.add_column(column)
    for g in summaries:
        table.add_row(
            g.grant_id,
            str(g.version),
            g.status,
            ", ".join(g.kinds),
            g.expires_at.strftime("%Y-%m-%d %H:%M"),
        )
    Console().print(table)


def grant_rules(g: Grant) -> list[tuple[str, str]]:
    """A grant's rules in words, field by field: what ``grants show`` prints and the console
    shows (one wording for both)."""
    rows: list[tuple[str, str]] = []

    def add(name: str, value: str) -> None:
        rows.append((name, value))

    add("description", g.description or "-")
    add("expires_at", g.expires_at.isoformat())
    add("kinds", ", ".join(g.kinds))
    add("tokens", ", ".join(g.label(t) for t in g.tokens) or "(none)")
    add("recipients", ", ".join(g.recipients) or "(none)")
    add(
        "contracts",
        "; ".join(f"{c.contract}: {', '.join(c.methods)}" for c in g.contracts) or "(none)",
    )
    add("exchanges", ", ".join(g.exchanges) or "(none)")
    add("per action", ", ".join(_amount(g, t, a) for t, a in g.per_action.items()) or "-")
    add("per action (USD)", _usd(g.per_action_usd_micro))
    for w in g.windows:
        cap = _amount(g, w.token, w.amount or 0) if w.token else _usd(w.usd_micro)
        add("window", f"{cap} in any {w.period_s}s")
    if g.rate_limit:
        add("rate limit", f"{g.rate_limit.count} per {g.rate_limit.period_s}s")
    if g.min_interval_s is not None:
        add("min interval", f"{g.min_interval_s}s")
    if g.max_slippage_bps is not None:
        add("max slippage", f"{g.max_slippage_bps} bps (quote <= {g.quote_max_age_s}s old)")
    if g.hours_utc:
        add(
            "hours (UTC)",
            ", ".join(
                f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in g.hours_utc
            ),
        )
    c = g.confirm
    triggers = [f"above {_amount(g, t, a)}" for t, a in c.above.items()]
    if c.above_usd_micro is not None:
        triggers.append(f"above {_usd(c.above_usd_micro)}")
    if c.first_time_recipient:
        triggers.append("first-time recipient")
    triggers += [f"every {k}" for k in c.kinds]
    add("confirm", "; ".join(triggers) or "-")
    return rows


@grants_app.command("show")
def show(
    ctx: typer.Context,
    grant_id: Annotated[str, typer.Argument(help="Grant id.")],
    history: Annotated[bool, typer.Option("--history", help="Every version.")] = False,
    as_json: JsonOption = False,
) -> None:
    """One grant in full, in whole tokens."""
    from rich.console import Console
    from rich.table import Table

    from policies.grants import Grant
    from policies.store import GrantBook

    home: Home = ctx.obj
    book = GrantBook(home.policy_db)
    try:
        rows = book.grants(grant_id, history=history)
    finally:
        book.close()
    if not rows:
        fail(f"No grant {grant_id!r}. `near-agent grants list` shows the grants there are.")
    if as_json:
        typer.echo(json.dumps(_versions_json(home, rows), indent=2, ensure_ascii=False))
        return
    console = Console()
    for row in rows:
        g = Grant.model_validate_json(row.body)
        table = Table(
            title=f"{g.id} v{row.version}" + (" (revoked)" if row.revoked else ""),
            show_header=False,
        )
        table.add_column("field")
        table.add_column("value")
        for name, value in grant_rules(g):
            table.add_row(name, value)
        console.print(table)


def _amount_json(grant: Grant, token: str, units: int) -> dict[str, str]:
    return {"token": token, "units": str(units), "display": _amount(grant, token, units)}


def _usd_json(micro: int | None) -> dict[str, str] | None:
    return None if micro is None else {"units": str(micro), "display": _usd(micro)}


def _versions_json(home: Home, rows: list[Any]) -> list[dict[str, Any]]:
    """``grants show --json``: each version in full, amounts as base-unit strings (micro-USD
    for USD) beside whole-token text; the latest version also with its budget used and left."""
    from datetime import UTC

    from agent.status import read_grants
    from policies.grants import Grant, grant_status

    now = _now()
    budgets = {g.grant_id: g for g in read_grants(home)[0]}
    out = []
    for row in rows:
        g = Grant.model_validate_json(row.body)
        latest = budgets.get(g.id)
        c = g.confirm
        out.append(
            {
                "grant_id": g.id,
                "version": row.version,
                "revoked": row.revoked,
                "status": grant_status(g, revoked=row.revoked, now=now),
                "description": g.description,
                "expires_at": g.expires_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "kinds": list(g.kinds),
                "tokens": [{"token": t, "label": g.label(t)} for t in g.tokens],
                "recipients": list(g.recipients),
                "contracts": [
                    {"contract": r.contract, "methods": list(r.methods)} for r in g.contracts
                ],
                "exchanges": list(g.exchanges),
                "per_action": [_amount_json(g, t, a) for t, a in g.per_action.items()],
                "per_action_usd": _usd_json(g.per_action_usd_micro),
                "windows": [
                    {
                        "period_s": w.period_s,
                        "cap": _amount_json(g, w.token, w.amount or 0)
                        if w.token
                        else _usd_json(w.usd_micro),
                    }
                    for w in g.windows
                ],
                "rate_limit": None
                if g.rate_limit is None
                else {"count": g.rate_limit.count, "period_s": g.rate_limit.period_s},
                "min_interval_s": g.min_interval_s,
                "max_slippage_bps": g.max_slippage_bps,
                "quote_max_age_s": g.quote_max_age_s,
                "hours_utc": [
                    [f"{s // 60:02d}:{s % 60:02d}", f"{e // 60:02d}:{e % 60:02d}"]
                    for s, e in g.hours_utc
                ],
                "confirm": {
                    "above": [_amount_json(g, t, a) for t, a in c.above.items()],
                    "above_usd": _usd_json(c.above_usd_micro),
                    "first_time_recipient": c.first_time_recipient,
                    "kinds": list(c.kinds),
                },
                "budget": [w.model_dump(mode="json") for w in latest.windows]
                if latest is not None and latest.version == row.version
                else None,
            }
        )
    return out


AllowLongExpiry = Annotated[
    bool,
    typer.Option(
        "--allow-long-expiry",
        help="Accept grants that expire more than 365 days from now (refused otherwise).",
    ),
]


@grants_app.command("add")
def add(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A grants YAML file you wrote.")],
    allow_long_expiry: AllowLongExpiry = False,
) -> None:
    """Store the grants in FILE; a changed grant becomes a new version (old ones are kept).

    An invalid file is refused whole (exit 2, nothing stored): unknown or repeated keys, rules
    that could never apply, an expiry in the past, or more than a year ahead without
    --allow-long-expiry. Limits written in wNEAR are NEAR limits (wNEAR counts as NEAR).
    """
    apply_grants_file(ctx.obj, file, allow_long_expiry=allow_long_expiry)


def apply_grants_file(home: Home, file: Path, *, allow_long_expiry: bool) -> None:
    """The user's own act of giving FILE's grants (``grants add``, ``init --grants``): stored,
    audited, and each change shown. GrantsRefused (nothing stored) for a file that is refused."""
    from agent.grant_changes import give_grants
    from memory.audit import AuditLog

    wrap_id = configured_facts(home).wrap_id  # the configured network's wNEAR is NEAR too
    with AuditLog(home.audit_db) as audit:
        results = give_grants(
            home,
            file,
            audit,
            allow_long_expiry=allow_long_expiry,
            wrapped_near=frozenset({wrap_id}) if wrap_id else frozenset(),
        )
    for grant_id, version, written in results:
        typer.echo(f"{grant_id}: {'stored as' if written else 'unchanged at'} version {version}")


@grants_app.command("revoke")
def revoke(
    ctx: typer.Context,
    grant_id: Annotated[str | None, typer.Argument(help="Grant id.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Revoke every grant.")] = False,
    reason: Annotated[str, typer.Option(help="Why, for the record.")] = "",
) -> None:
    """End one grant (every version so far) or, with --all, every grant, at once."""
    from agent.grant_changes import UnknownGrant, revoke_grants
    from policies.engine import to_us

    if (grant_id is None) == (not all_):
        fail("Give a grant id or --all (not both).")
    try:
        revoked = revoke_grants(ctx.obj, grant_id, reason, now_us=to_us(_now()))
    except UnknownGrant as exc:
        fail(str(exc))
    typer.echo(f"Revoked: {', '.join(revoked) if revoked else '(no grants)'}")


def _shower(measure: str, units: dict[str, tuple[int, str]]) -> Any:
    from policies.grants import NEAR_DECIMALS
    from tools.action import NEAR
    from tools.amounts import format_amount

    if measure == "usd":
        return lambda micro: f"${format_amount(micro, 6)}"
    if measure == NEAR:
        units[NEAR] = (NEAR_DECIMALS, "NEAR")
    if measure in units:
        decimals = units[measure][0]
        return lambda amount: format_amount(amount, decimals)
    return str


@grants_app.command("check")
def check(
    ctx: typer.Context,
    intent: Annotated[
        str | None, typer.Argument(help='An intent, e.g. "send 2 NEAR to bob".')
    ] = None,
    tool: Annotated[
        str | None, typer.Option("--tool", help="A tool call instead: the tool's name...")
    ] = None,
    args: Annotated[str, typer.Option("--args", help="...and its arguments as JSON.")] = "{}",
    action: Annotated[
        Path | None, typer.Option("--action", help="Or a canonical action JSON file.")
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="JSON: the decision for --action, a list (one per step) otherwise."
        ),
    ] = False,
) -> None:
    """Dry-run the policy on an intent, a tool call or a canonical action: decision, trace and
    budget left. Nothing is signed or reserved; exits 2 when anything would be denied."""
    home: Home = ctx.obj
    if sum(x is not None for x in (intent, tool, action)) != 1:
        fail("Give exactly one of: an intent, --tool NAME [--args JSON], or --action FILE.")
    if action is not None:
        decisions = [("action", _decide_file(home, action))]
    else:
        decisions = asyncio.run(_decide_live(home, intent, tool, args))
    units = _units(home)
    if as_json and action is not None:
        typer.echo(json.dumps(decisions[0][1].to_dict(), indent=2))
    elif as_json:
        typer.echo(json.dumps([{"step": s, **d.to_dict()} for s, d in decisions], indent=2))
    else:
        for step, decision in decisions:
            _show_decision(step, decision, units)
    if any(d.outcome == "deny" for _, d in decisions):
        raise typer.Exit(2)


def _decide_file(home: Home, action: Path) -> Any:
    from policies.engine import PolicyEngine

    try:
        data = json.loads(action.read_text())
    except FileNotFoundError:
        fail(f"{action} does not exist.")
    except (OSError, ValueError) as exc:
        fail(f"{action} is not valid JSON: {exc}")
    engine = PolicyEngine(home.policy_db, facts=configured_facts(home))
    try:
        return engine.dry_run(data)
    finally:
        engine.close()


async def _decide_live(
    home: Home, intent: str | None, tool: str | None, args: str
) -> list[tuple[str, Any]]:
    """Plan (or take the tool call), prepare on the live network, decide with fresh prices."""
    from agent.config import ConfigError
    from agent.plan import PlanStep, check_args
    from agent.session import AgentSession
    from memory.user_files import UnusableFile
    from tools.errors import ToolError

    steps: list[PlanStep] = []
    if tool is not None:
        try:
            checked = check_args(tool, json.loads(args))  # names the unknown tool or bad field
            steps = [PlanStep.model_validate({"tool": tool, "args": checked})]
        except ValueError as exc:  # bad JSON or a StepError naming the field
            fail(f"Not a valid tool call: {exc}")
    try:
        session = await AgentSession.open(home)
    except UnusableFile:
        raise  # a damaged or malformed file: the CLI's one message for it, exit 2
    except (ConfigError, ToolError) as exc:
        fail(str(exc))
    try:
        if intent is not None:
            plan = await session.plan(intent)
            if not plan.ok:
                fail(f"Not understood: {plan.error}")
            steps = plan.steps
        decisions = []
        for step in steps:
            try:
                prepared, decision = await session.check(step)
            except ToolError as exc:
                fail(f"{step.tool}: {exc.message}")
            decisions.append((f"{step.tool}: {prepared.preview}", decision))
        return decisions
    finally:
        await session.close()


def _units(home: Home) -> dict[str, tuple[int, str]]:
    from policies.engine import PolicyEngine

    engine = PolicyEngine(home.policy_db, facts=configured_facts(home))
    try:
        return {
            t: (d, g.grant.label(t)) for g in engine.grants() for t, d in g.grant.decimals.items()
        }
    finally:
        engine.close()


def _show_decision(step: str, decision: Any, units: dict[str, tuple[int, str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"{step}\n[bold]{decision.outcome.upper()}[/bold] ({', '.join(decision.reasons)})"
        + (f" under {decision.grant_id} v{decision.grant_version}" if decision.grant_id else "")
    )
    table = Table(title="Trace")
    for column in ("grant", "rule", "result", "code", "detail"):
        table.add_column(column)
    for t in decision.trace:
        table.add_row(t.grant or "-", t.rule, t.result, t.code, t.detail)
    console.print(table)
    if decision.budgets:
        budgets = Table(title="Budget left")
        for column in ("scope", "measure", "window", "cap", "used", "left"):
            budgets.add_column(column)
        for b in decision.budgets:
            show = _shower(b.measure, units)
            budgets.add_row(
                b.scope,
                units.get(b.measure, (0, b.measure))[1],
                f"{b.period_s}s",
                show(b.cap),
                show(b.used),
                show(b.left),
            )
        console.print(budgets)


@grants_app.command("onchain")
def onchain(
    ctx: typer.Context,
    tasks_key: Annotated[
        bool,
        typer.Option(
            "--tasks-key/--no-tasks-key",
            help="Add a function-call key that can only call submit_label and claim_rewards on "
            "the tasks contract (no deposits, a gas allowance); the agent then signs those "
            "actions with it instead of your full-access key.",
        ),
    ] = True,
    trading_account: Annotated[
        str | None,
        typer.Option(
            "--trading-account",
            help="Also create NAME.<your account>, funded with --fund and holding its own key. "
            "Trade from it: whatever happens to the agent's checks, the most it can lose is "
            "that account's balance, never your main account's.",
        ),
    ] = None,
    fund: Annotated[
        str | None,
        typer.Option(
            "--fund",
            help='NEAR to move into the trading account (e.g. "5"); refused when above the '
            "grant's NEAR budget (its smallest NEAR window cap, or the global ceiling's).",
        ),
    ] = None,
    grant: Annotated[
        str | None,
        typer.Option(
            "--grant",
            help="The grant whose budget caps --fund (default: the swap "
            "grant, when there is exactly one).",
        ),
    ] = None,
    allowance: Annotated[
        str, typer.Option("--allowance", help="NEAR of gas the function-call key may burn.")
    ] = "0.25",
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Delete the function-call key from the chain.")
    ] = False,
) -> None:
    """Back the grants with limits the chain itself enforces (safe to run again).

    The tasks key caps what the key the agent uses most can do: NEAR itself refuses it any
    transfer, deposit or other contract, so it can label and claim but never move funds. The
    trading account caps what a bypass of the off-chain policy could lose: at most its own
    balance, which --fund keeps within the grant's NEAR budget. Every key is stored in
    HOME/keys (owner-only, encrypted when the keystore is) and recorded in the audit log.
    """

    from agent.cli_errors import run_onchain_change
    from agent.onchain import apply_onchain
    from policies.grants import NEAR_DECIMALS
    from tools.amounts import parse_amount
    from tools.errors import AmountError

    home: Home = ctx.obj
    try:
        gas_allowance = parse_amount(allowance, NEAR_DECIMALS)
    except AmountError as exc:
        fail(f"Nothing more was done: {exc.message}")
    report = run_onchain_change(
        apply_onchain(
            home,
            tasks_key=tasks_key,
            revoke=revoke,
            trading_account=trading_account,
            fund=fund,
            grant_id=grant,
            allowance=gas_allowance,
        )
    )
    for line in report.lines:
        typer.echo(line)
