"""``near-agent audit``: read, verify, export and anchor the tamper-evident audit log."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agent.cli_group import command_group
from agent.home import Home

if TYPE_CHECKING:
    from rich.table import Table

    from memory.audit import AuditEntry, AuditLog, Head
    from memory.audit.anchor import AnchorNotary
    from memory.audit.anchorers import Anchorer

audit_app = command_group(
    name="audit",
    help="The tamper-evident record of everything the agent did, and why.",
    no_args_is_help=True,
)

_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``30m``, ``2h``, ``7d`` (ago) or an ISO date/time (UTC unless it says otherwise)."""
    now = now or datetime.now(UTC)
    match = _RELATIVE.match(text)
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a time: use 30m, 2h, 7d or an ISO date like 2026-05-01T12:00"
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


def _short(text: str | None, width: int) -> str:
    text = text or ""
    return text if len(text) <= width else text[: width - 1] + "…"


@audit_app.command("list")
def list_entries(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option(help="30m, 2h, 7d or an ISO time.")] = None,
    kind: Annotated[str | None, typer.Option(help="Entry kind, e.g. tx_outcome.")] = None,
    tool: Annotated[str | None, typer.Option(help="Tool name, e.g. swap.")] = None,
    status: Annotated[str | None, typer.Option(help="Status, e.g. denied.")] = None,
    actor: Annotated[str | None, typer.Option(help="user, scheduler or system.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most the newest N.")] = 50,
) -> None:
    """List entries, oldest first, filtered."""
    from rich.console import Console

    from memory.audit import AuditKind, AuditReadError

    if kind is not None and kind not in {k.value for k in AuditKind}:
        known = ", ".join(k.value for k in AuditKind)
        raise typer.BadParameter(f"unknown kind {kind!r}; known: {known}", param_hint="--kind")
    when = parse_since(since) if since else None
    with _open(ctx) as log:
        try:
            rows = log.entries(
                since=when, kind=kind, tool=tool, status=status, actor=actor, limit=limit
            )
        except AuditReadError as exc:
            raise _damaged(exc) from exc
    if not rows:
        typer.echo("No audit entries match.")
        return
    console = Console()
    if not console.is_terminal:  # piped or captured: don't wrap at a guessed 80 columns
        console = Console(width=160)
    console.print(entries_table(rows))


def entries_table(rows: list[AuditEntry]) -> Table:
    """The table `audit list` and chat's /audit show: one row per entry, oldest first."""
    from rich.table import Table

    from memory.audit.story import describe

    table = Table(show_lines=False)
    for column in ("id", "time (UTC)", "actor", "kind", "tool", "status", "intent", "details"):
        table.add_column(column, overflow="fold")
    for e in rows:
        table.add_row(
            str(e.id),
            e.ts[:19].replace("T", " "),
            e.actor,
            e.kind.value,
            e.tool or "",
            e.status or "",
            e.correlation_id[:8],
            _short(describe(e), 80),
        )
    return table


def _story_for(log: AuditLog, ident: str) -> list[AuditEntry]:
    if ident.isdigit():
        entry = log.get(int(ident))
        if entry is not None:
            return log.story(entry.correlation_id)
    story = log.story(ident)
    if story:
        return story
    matches = log.correlation_ids(ident) if len(ident) >= 4 else []
    if len(matches) == 1:
        return log.story(matches[0])
    if len(matches) > 1:
        raise typer.BadParameter(f"{ident!r} matches several intents: {', '.join(matches)}")
    raise typer.BadParameter(f"no audit entry or intent {ident!r}")


@audit_app.command("show")
def show(
    ctx: typer.Context,
    ident: Annotated[str, typer.Argument(metavar="ID", help="Entry id or (prefix of) intent id.")],
) -> None:
    """One intent's whole story: message -> plan -> decision -> approval -> tx -> outcome."""
    import json

    from memory.audit import AuditReadError
    from memory.audit.story import render_story

    with _open(ctx) as log:
        try:
            story = _story_for(log, ident)
        except AuditReadError as exc:
            raise _damaged(exc) from exc
    highlight = int(ident) if ident.isdigit() else None
    typer.echo(f"Intent {story[0].correlation_id} ({len(story)} steps)")
    typer.echo(render_story(story))
    if highlight is not None:
        chosen = next(e for e in story if e.id == highlight)
        typer.echo(f"\nEntry #{chosen.id} data:")
        typer.echo(json.dumps(chosen.data, indent=2, ensure_ascii=False, sort_keys=True))


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
    from memory.audit.export import verify_jsonl

    expected = _parse_head(expect_head) if expect_head else None
    with file.open(encoding="utf-8") as lines:
        report = verify_jsonl(lines, expected_head=expected)
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
