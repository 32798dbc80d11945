"""``near-agent audit``: read, verify, export and anchor the tamper-evident audit log."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agent.cli_group import NegativeNumbersAreArguments, command_group
from agent.home import Home

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from memory.audit import AuditEntry, AuditLog, Head
    from memory.audit.activity import IntentRow, IntentStory, TokenUnits
    from memory.audit.anchor import AnchorNotary
    from memory.audit.anchorers import Anchorer

audit_app = command_group(
    name="audit",
    help="The tamper-evident record of everything the agent did, and why.",
    no_args_is_help=True,
)

_RELATIVE = re.compile(
    r"^\s*(\d+)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?|d|days?|w|weeks?)"
    r"(\s+ago)?\s*$",
    re.IGNORECASE,
)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
TIME_HELP = "24h, 30m, 7d, today, yesterday, now or an ISO date/time (UTC unless it says)."


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """A point in time as people say it: ``30m``, ``2h``, ``7d``, ``2 hours ago`` (before now),
    ``today``, ``yesterday`` (their start, UTC), ``now``, or an ISO date/time (UTC unless it says
    otherwise)."""
    now = now or datetime.now(UTC)
    word = text.strip().lower()
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    named = {"now": now, "today": midnight, "yesterday": midnight - timedelta(days=1)}
    if word in named:
        return named[word]
    match = _RELATIVE.match(text)
    if match:
        unit = _UNITS[match.group(2)[0].lower()]
        return now - timedelta(**{unit: int(match.group(1))})
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a time: use 30m, 2h, 7d, today, yesterday, now or an ISO date "
            "like 2026-05-01T12:00"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _open(ctx: typer.Context) -> AuditLog:
    from memory.audit import AuditLog

    home: Home = ctx.obj
    return AuditLog(home.audit_db)


def load_notary(home: Home, *, signing: bool, anchorer: Anchorer | None = None) -> AnchorNotary:
    """The chain-backed notary for the configured network and account (agent.yaml), or for a
    recorded ``anchorer`` (its account, notary contract and network; reading only).

    Reading anchors back needs no key; publishing one (``signing``) does. A network without a
    notary contract (testnet and mainnet unless agent.yaml sets ``contracts.notary``: the notary
    is near-agent's own contract) is refused first, before any key is looked for, saying so.
    """
    from dataclasses import replace

    from agent.config import load_config
    from tools.base import context_from_config
    from tools.network import configured_network
    from tools.notary import ANCHORING, ChainNotary

    config = load_config(home.config_file)
    if anchorer is None:
        configured_network(
            config.network,
            rpc_url=config.rpc_url,
            devnet_manifest=config.devnet_manifest,
            home_devnet_dir=home.devnet_dir,
            overrides=config.network_overrides,
        ).require("notary", ANCHORING)
    ctx = context_from_config(
        config, home_devnet_dir=home.devnet_dir, require_key=signing, state_dir=home.state_dir
    )
    if anchorer is None:
        return ChainNotary(ctx)
    same_network = anchorer.network == ctx.network.network_id
    network = replace(
        ctx.network,
        network_id=anchorer.network,
        rpc_url=ctx.network.rpc_url if same_network or not anchorer.rpc_url else anchorer.rpc_url,
        notary_id=anchorer.contract,
    )
    return ChainNotary(replace(ctx, network=network), account_id=anchorer.account)


def _notary_or_exit(ctx: typer.Context, *, signing: bool) -> AnchorNotary:
    try:
        return load_notary(ctx.obj, signing=signing)
    except Exception as exc:  # configuration, keys or a missing contract: say which and stop
        typer.echo(f"Cannot use the anchor notary: {exc}", err=True)
        raise typer.Exit(2) from exc


def _anchorer_of(notary: AnchorNotary) -> Anchorer | None:
    """Who publishes through ``notary`` (None when it does not say, as a stand-in may not)."""
    from memory.audit.anchorers import Anchorer

    account = getattr(notary, "account_id", None)
    if not account:
        return None
    return Anchorer(
        str(account),
        str(getattr(notary, "network", "") or ""),
        str(getattr(notary, "contract_id", "") or ""),
        str(getattr(notary, "rpc_url", "") or ""),
    )


def _anchored_notaries(ctx: typer.Context, account: str | None) -> tuple[AnchorNotary, list[str]]:
    """One notary reading the anchors of every account that anchored this home's log (recorded
    in the state folder) and of agent.yaml's account, or of ``account`` alone; and their names.
    """
    from memory.audit.anchor import AccountsNotary
    from memory.audit.anchorers import Anchorer, AnchorerRecord

    home: Home = ctx.obj
    configured = _notary_or_exit(ctx, signing=False)
    with AnchorerRecord(home.anchorers_db) as record:
        recorded = record.for_home(home.root)
    network = str(getattr(configured, "network", "") or "")
    contract = str(getattr(configured, "contract_id", "") or "")
    first = _anchorer_of(configured)
    if account is not None:
        recorded = [a for a in recorded if a.account == account]
        first = Anchorer(account, network, contract)
    notaries, names, seen = [], [], set()
    for anchorer in [first, *recorded]:
        key = None if anchorer is None else (anchorer.account, anchorer.network, anchorer.contract)
        if key in seen:
            continue
        seen.add(key)
        if anchorer is None:  # the configured notary does not name its account
            notaries.append(configured)
            names.append(f"the configured account on {contract} ({network})")
            continue
        try:
            notaries.append(
                configured
                if anchorer == first and account is None
                else load_notary(home, signing=False, anchorer=anchorer)
            )
        except Exception as exc:
            typer.echo(f"Cannot use the anchor notary of {anchorer.describe()}: {exc}", err=True)
            raise typer.Exit(2) from exc
        names.append(anchorer.describe())
    return AccountsNotary(notaries), names


def _damaged(exc: Exception) -> typer.Exit:
    typer.echo(str(exc), err=True)
    return typer.Exit(1)


def _parse_head(text: str) -> Head:
    from memory.audit import Head

    count, sep, digest = text.partition(":")
    if not (sep and count.isdigit() and re.fullmatch(r"[0-9a-f]{64}", digest)):
        raise typer.BadParameter("expected COUNT:HASH as printed by `near-agent audit head`")
    return Head(int(count), digest)


def _time_option(text: str | None, flag: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_since(text)
    except typer.BadParameter as exc:
        raise typer.BadParameter(str(exc), param_hint=flag) from None


# What people type for an entry's status -> the statuses entries store (decisions are stored as
# allow/deny/confirm, a strategy's fire as done/denied/...): declared once, used by --status.
_ENTRY_STATUS_WORDS: dict[str, tuple[str, ...]] = {
    "denied": ("deny", "denied"),
    "deny": ("deny", "denied"),
    "allowed": ("allow",),
    "allow": ("allow",),
    "confirm": ("confirm",),
    "needs_approval": ("confirm", "inbox", "awaiting_approval"),
    "done": ("ok", "done"),
    "ok": ("ok", "done"),
    "failed": ("failed",),
    "refused": ("refused",),
}


def _existing_log(home: Home) -> Path:
    """The home's audit.db; a clear stop (exit 2), creating nothing, when there is none."""
    if not home.audit_db.is_file():
        typer.echo(
            f"No audit log at {home.audit_db}: nothing has been recorded in {home.root} "
            "(is --home right?)",
            err=True,
        )
        raise typer.Exit(2)
    return home.audit_db


def _units_and_network(home: Home) -> tuple[TokenUnits, str | None]:
    """Whole-token units the home knows and its network (None if agent.yaml cannot say)."""
    from memory.audit.units import known_token_units

    network = None
    try:
        from agent.config import load_config

        network = load_config(home.config_file).network
    except Exception:  # no or unreadable agent.yaml: the view still works, without a network
        network = None
    return known_token_units(home.pools_db), network


def _console() -> Console:
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal:  # piped or captured: don't wrap at a guessed 80 columns
        console = Console(width=200, highlight=False)
    return console


def _echo_json(value: object) -> None:
    import json

    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


@audit_app.command("list")
def list_entries(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option(help=f"From: {TIME_HELP}")] = None,
    until: Annotated[str | None, typer.Option(help=f"Before: {TIME_HELP}")] = None,
    actor: Annotated[
        str | None, typer.Option(help="user, scheduler, system, console or mcp[:client].")
    ] = None,
    strategy: Annotated[str | None, typer.Option(help="Only this strategy's fires.")] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            "--outcome",
            help="What happened: done, denied, declined, refused, failed, unknown, "
            "needs_approval, expired, skipped, pending, recorded (deny, allowed, ok... work too).",
        ),
    ] = None,
    search: Annotated[
        str | None, typer.Option(help="Words of the intent, a tx hash or an intent id.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Rows per page.")] = 20,
    before: Annotated[
        str | None, typer.Option(help="The cursor a previous page printed: the page after it.")
    ] = None,
    entries: Annotated[
        bool, typer.Option("--entries", help="One row per audit entry instead of per intent.")
    ] = False,
    kind: Annotated[
        str | None, typer.Option(help="With --entries: entry kind, e.g. tx_outcome.")
    ] = None,
    tool: Annotated[str | None, typer.Option(help="Tool name, e.g. swap.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """What the agent did, newest first: one row per intent (or per entry with --entries)."""
    from memory.audit import AuditKind, AuditReadError

    when = _time_option(since, "--since")
    till = _time_option(until, "--until")
    if kind is not None and not entries:
        raise typer.BadParameter("only with --entries", param_hint="--kind")
    if kind is not None and kind not in {k.value for k in AuditKind}:
        known = ", ".join(k.value for k in AuditKind)
        raise typer.BadParameter(f"unknown kind {kind!r}; known: {known}", param_hint="--kind")
    if entries:
        _list_per_entry(
            ctx, when, till, kind, tool, status, actor, strategy, limit, before, as_json
        )
        return
    from memory.audit.activity import ActivityFilter, list_activity, parse_outcome

    try:
        outcome = parse_outcome(status) if status is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--status") from None
    home: Home = ctx.obj
    units, network = _units_and_network(home)
    text = " ".join(x for x in (search, tool) if x) or None
    flt = ActivityFilter(
        since=when, until=till, actor=actor, strategy=strategy, outcome=outcome, text=text
    )
    try:
        page = list_activity(
            _existing_log(home),
            flt,
            limit=limit,
            before_cursor=before,
            units=units,
            network=network,
        )
    except AuditReadError as exc:
        raise _damaged(exc) from exc
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--before") from None
    if as_json:
        _echo_json(page.model_dump(mode="json"))
        return
    if not page.items:
        typer.echo("No intents match.")
        return
    _console().print(intents_table(page.items))
    if page.next_cursor:
        typer.echo(f"More: --before {page.next_cursor}")


def intents_table(rows: list[IntentRow]) -> Table:
    """One row per intent: when, who, what was asked, what happened, amounts, fee, tx hashes.

    Every cell is plain text (rich markup in the data is not interpreted) and the rows' text is
    already made safe by ``memory.audit.activity.shown``.
    """
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=False)
    for column in ("when (UTC)", "who", "asked", "what happened", "amounts", "fee", "tx", "id"):
        whole = column in ("when (UTC)", "tx", "id")  # copied whole: never folded
        table.add_column(column, overflow="fold", no_wrap=whole)
    for r in rows:
        who = r.actor + (f"/{r.strategy}" if r.strategy else "")
        happened = r.outcome.replace("_", " ") + (f": {r.detail}" if r.detail else "")
        moved = ", ".join(a.display for a in r.amounts)
        if r.balance_changes:
            moved += (" -> " if moved else "") + ", ".join(a.display for a in r.balance_changes)
        table.add_row(
            *(
                Text(cell)
                for cell in (
                    r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                    who,
                    r.asked,
                    happened,
                    moved,
                    r.fee.display if r.fee else "",
                    "\n".join(r.tx_hashes),
                    r.intent_id[:8],
                )
            )
        )
    return table


def _list_per_entry(
    ctx: typer.Context,
    when: datetime | None,
    till: datetime | None,
    kind: str | None,
    tool: str | None,
    status: str | None,
    actor: str | None,
    strategy: str | None,
    limit: int,
    before: str | None,
    as_json: bool,
) -> None:
    from memory.audit import AuditReadError

    if before is not None and not before.isdigit():
        raise typer.BadParameter(f"{before!r} is not a cursor (an entry id)", param_hint="--before")
    wanted = _ENTRY_STATUS_WORDS.get(status.strip().lower(), (status,)) if status else (None,)
    match: dict[str, str | int] | None = {"strategy_id": strategy} if strategy else None
    rows: dict[int, AuditEntry] = {}
    with _open(ctx) as log:
        try:
            for stored in wanted:
                for e in log.entries(
                    since=when,
                    until=till,
                    kind=kind,
                    tool=tool,
                    status=stored,
                    actor=actor,
                    data_match=match,
                    before_id=int(before) if before else None,
                    limit=limit + 1,
                ):
                    rows[e.id] = e
        except AuditReadError as exc:
            raise _damaged(exc) from exc
    newest = sorted(rows.values(), key=lambda e: e.id, reverse=True)
    page, more = newest[:limit], len(newest) > limit
    cursor = str(page[-1].id) if more and page else None
    if as_json:
        _echo_json({"items": [e.to_dict() for e in page], "next_cursor": cursor})
        return
    if not page:
        typer.echo("No audit entries match.")
        return
    _console().print(entries_table(list(reversed(page))))
    if cursor:
        typer.echo(f"More: --entries --before {cursor}")


def entries_table(rows: list[AuditEntry]) -> Table:
    """The table `audit list --entries` and chat's /audit show: one row per entry, as given."""
    from rich.table import Table
    from rich.text import Text

    from memory.audit.story import entry_sentence
    from memory.audit.text import shown

    table = Table(show_lines=False)
    for column in ("id", "time (UTC)", "actor", "kind", "tool", "status", "intent", "details"):
        table.add_column(column, overflow="fold")
    for e in rows:
        table.add_row(
            *(
                Text(cell)
                for cell in (
                    str(e.id),
                    e.ts[:19].replace("T", " "),
                    shown(e.actor),
                    e.kind.value,
                    shown(e.tool or ""),
                    shown(e.status or ""),
                    shown(e.correlation_id[:8]),
                    entry_sentence(e),
                )
            )
        )
    return table


@audit_app.command("show", cls=NegativeNumbersAreArguments)
def show(
    ctx: typer.Context,
    ident: Annotated[
        str,
        typer.Argument(
            metavar="REF",
            help="A tx hash, an intent id (or its start), an entry id, or -N: the Nth newest "
            "intent (-1 is the first row of `audit list`).",
        ),
    ],
    trace: Annotated[
        bool, typer.Option("--trace", help="Also every entry in full and every rule's verdict.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Everything about one intent, in sentences: message -> plan -> each check -> approval ->
    transactions -> receipts -> balance changes."""
    from memory.audit import AuditReadError
    from memory.audit.activity import IntentNotFound, find

    home: Home = ctx.obj
    units, network = _units_and_network(home)
    try:
        if _POSITION.fullmatch(ident.strip()):
            ident = _intent_at(home, int(ident.strip()))
        story = find(_existing_log(home), ident, units=units, network=network)
    except IntentNotFound as exc:
        raise typer.BadParameter(str(exc), param_hint="REF") from None
    except AuditReadError as exc:
        raise _damaged(exc) from exc
    if as_json:
        _echo_json(story.model_dump(mode="json"))
        return
    typer.echo(render_story(story, trace=trace, entry_id=_entry_ref(ident, story)))


_POSITION = re.compile(r"-\d+")  # counted from the newest intent, as Python counts from the end
_PAGE = 500


def _intent_at(home: Home, position: int) -> str:
    """The id of the intent ``position`` places from the newest (-1: the newest), in the order
    `audit list` shows them; BadParameter when there is no such intent."""
    from memory.audit.activity import list_activity

    if position == 0:
        raise typer.BadParameter("-0 names no intent: -1 is the newest", param_hint="REF")
    wanted, seen, cursor = -position, 0, None
    while True:
        page = list_activity(_existing_log(home), limit=_PAGE, before_cursor=cursor)
        if wanted <= seen + len(page.items):
            return page.items[wanted - seen - 1].intent_id
        seen += len(page.items)
        cursor = page.next_cursor
        if cursor is None:
            held = f"only {seen} intent{'' if seen == 1 else 's'}" if seen else "no intents"
            raise typer.BadParameter(
                f"{position} names no intent: the audit log holds {held}", param_hint="REF"
            )


def _entry_ref(ident: str, story: IntentStory) -> int | None:
    if story.matched == "entry id" and ident.strip().isdigit():
        return int(ident.strip())
    return None


def render_story(story: IntentStory, *, trace: bool = False, entry_id: int | None = None) -> str:
    """The story as text: a summary, then one numbered sentence per step (then the trace)."""

    from memory.audit.text import shown

    r = story.intent
    took = (r.ended_at - r.started_at).total_seconds()
    who = r.actor + (f" (strategy {r.strategy})" if r.strategy else "")
    lines = [
        f"Intent {r.intent_id}: {r.outcome.replace('_', ' ')}"
        + (f" ({r.network})" if r.network else ""),
        f"  When:   {r.started_at:%Y-%m-%d %H:%M:%S} UTC, {took:.2f} s, "
        f"entries {r.first_entry}-{r.last_entry}",
        f"  Who:    {who}",
        f'  Asked:  "{r.asked}"',
    ]
    if r.detail:
        lines.append(f"  Result: {r.detail}")
    if r.amounts:
        lines.append(f"  Amount: {', '.join(a.display for a in r.amounts)}")
    if r.balance_changes:
        lines.append(f"  Moved:  {', '.join(a.display for a in r.balance_changes)}")
    if r.fee:
        lines.append(f"  Fee:    {r.fee.display}")
    for tx in r.tx_hashes:
        lines.append(f"  Tx:     {tx}")
    lines.append(f"  (found by {story.matched})")
    lines.append("")
    for number, step in enumerate(story.steps, start=1):
        ids = ", ".join(f"#{i}" for i in step.entry_ids)
        lines.append(f"{number:>3}. {step.sentence}  [{ids}]")
    if entry_id is not None:
        chosen = next((e for e in story.entries if e.get("id") == entry_id), None)
        if chosen is not None:
            lines += ["", f"Entry #{entry_id} data:", _data(chosen)]
    if trace:
        lines += ["", "Trace:"]
        checks = {i: s.verdicts for s in story.steps if s.verdicts for i in s.entry_ids}
        for e in story.entries:
            head = f"#{e['id']} {e['ts']} {shown(e['actor'])} {e['kind']}"
            extra = " ".join(shown(x) for x in (e.get("tool"), e.get("status")) if x)
            lines.append(f"{head} {extra}".rstrip())
            for v in checks.get(int(str(e["id"])), []):
                grant = f" [{v.grant}]" if v.grant else ""
                lines.append(f"    rule {v.rule}{grant}: {v.result} ({v.code}) {v.words}".rstrip())
            lines.append(_data(e))
    return "\n".join(lines)


def _data(entry: dict[str, object]) -> str:
    """An entry's data as indented JSON (a JSON string escapes every control character)."""
    import json
    import textwrap

    text = json.dumps(entry.get("data"), indent=2, ensure_ascii=True, sort_keys=True)
    return textwrap.indent(text, "    ")


@audit_app.command()
def verify(
    ctx: typer.Context,
    anchored: Annotated[
        bool,
        typer.Option(
            "--anchored",
            help="Also check the anchors on chain of every account that anchored this log.",
        ),
    ] = False,
    account: Annotated[
        str | None,
        typer.Option(help="With --anchored: check this account's anchors only."),
    ] = None,
    expect_head: Annotated[
        str | None,
        typer.Option(help="COUNT:HASH you recorded with `audit head`; catches a cut-off tail."),
    ] = None,
) -> None:
    """Re-hash the whole log; exits 1 and names the first bad entry if anything was altered.

    With --anchored the anchors are read back from the chain for every account recorded (in the
    user's state folder, outside the home) as having anchored this home's log, and for the
    account in agent.yaml.
    """
    if account is not None and not anchored:
        raise typer.BadParameter("only with --anchored", param_hint="--account")
    if account is not None:
        from tools.errors import InvalidAccountIdError
        from tools.network import check_account_id

        try:
            account = check_account_id(account)
        except InvalidAccountIdError as exc:
            raise typer.BadParameter(str(exc), param_hint="--account") from None
    expected = _parse_head(expect_head) if expect_head else None
    notary, names = _anchored_notaries(ctx, account) if anchored else (None, [])
    for name in names:
        typer.echo(f"Anchors read from chain: {name}")
    with _open(ctx) as log:
        try:
            report = log.verify(anchored=notary, expected_head=expected)
        except Exception as exc:  # the chain could not be read: not a verdict on the log
            typer.echo(f"Could not read the anchors back from chain: {exc}", err=True)
            raise typer.Exit(2) from exc
    if report.ok:
        checked = report.anchors_checked
        anchors = f", {checked} anchor(s) checked" if checked or anchored else ""
        where = " on chain" if anchored else ""
        typer.echo(f"OK: {report.count} entries, head {report.head_hash}{anchors}{where}")
        return
    typer.echo(f"TAMPERED: entry {report.first_bad_id}: {report.reason}", err=True)
    typer.echo(f"The first {report.count} entries verify.", err=True)
    raise typer.Exit(1)


@audit_app.command("verify-export")
def verify_export(
    file: Annotated[Path, typer.Argument(help="A JSON Lines file from `audit export`.")],
    expect_head: Annotated[
        str | None, typer.Option(help="COUNT:HASH the export must end at.")
    ] = None,
) -> None:
    """Check an exported log on its own, without the database (exits 1 if it was altered)."""
    from memory.audit.export import NotAnExport, check_jsonl_format, verify_jsonl

    expected = _parse_head(expect_head) if expect_head else None
    try:
        with file.open(encoding="utf-8") as lines:
            first = next((ln for ln in lines if ln.strip()), None)
            if first is not None:
                check_jsonl_format(first)
            lines.seek(0)
            report = verify_jsonl(lines, expected_head=expected)
    except NotAnExport as exc:
        typer.echo(f"{file}: {exc}", err=True)
        raise typer.Exit(2) from None
    except UnicodeDecodeError:
        typer.echo(f"{file}: not a text file, so not a JSON Lines export", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        typer.echo(f"Cannot read {file}: {exc.strerror or exc}", err=True)
        raise typer.Exit(2) from None
    if not report.ok:
        typer.echo(f"TAMPERED: entry {report.first_bad_id}: {report.reason}", err=True)
        raise typer.Exit(1)
    typer.echo(f"OK: {report.count} entries, head {report.head_hash}")


@audit_app.command()
def head(ctx: typer.Context) -> None:
    """Print COUNT:HASH of the newest entry; keep it to check the log later with --expect-head."""
    with _open(ctx) as log:
        tip = log.head()
    typer.echo(f"{tip.count}:{tip.hash}")


@audit_app.command()
def export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write [default: stdout].")
    ] = None,
) -> None:
    """Write every entry (with its hashes) as JSON Lines or CSV."""
    import sys

    from memory.audit import AuditReadError
    from memory.audit.export import EXPORT_FORMATS, is_export_format
    from memory.audit.export import export as write

    if not is_export_format(fmt):
        choices = " or ".join(EXPORT_FORMATS)
        raise typer.BadParameter(f"{fmt!r}: use {choices}", param_hint="--format")
    with _open(ctx) as log:
        try:
            if output is None:
                write(log, sys.stdout, fmt)
                return
            with output.open("w", encoding="utf-8", newline="") as out:
                count = write(log, out, fmt)
        except AuditReadError as exc:
            raise _damaged(exc) from exc
    typer.echo(f"Wrote {count} entries to {output}", err=True)


@audit_app.command()
def anchor(ctx: typer.Context) -> None:
    """Publish the log's head to the notary contract on NEAR."""
    from memory.audit.anchorers import AnchorerRecord

    notary = _notary_or_exit(ctx, signing=True)
    anchorer = _anchorer_of(notary)
    if anchorer is not None:  # recorded first, so `verify --anchored` knows whose anchors to read
        home: Home = ctx.obj
        with AnchorerRecord(home.anchorers_db) as record:
            record.add(home.root, anchorer)
    with _open(ctx) as log:
        try:
            made = log.anchor(notary, actor="user")
        except Exception as exc:  # empty log, rejected or failed transaction
            typer.echo(f"Anchoring failed: {exc}", err=True)
            raise typer.Exit(1) from exc
    typer.echo(f"Anchored {made.entries} entries (head {made.head_hash}) in tx {made.tx_hash}")
