"""The ``near-agent`` command line.

Start-up must stay fast: command modules import their heavy dependencies (py-near, langchain,
openai, the devnet runtime) inside the command functions, never at module level.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.cli_audit import audit_app
from agent.cli_console import console
from agent.cli_contacts import contacts_app, prefs_app
from agent.cli_grants import AllowLongExpiry, grants_app
from agent.cli_group import command_group
from agent.cli_intents import chat, do, plan, reconcile
from agent.cli_keys import keys_app
from agent.cli_mcp import mcp
from agent.cli_root import RootGroup, check_home, show_version
from agent.cli_schedule import approvals_app, daemon_app, pause, resume, schedule_app
from agent.cli_status import status
from agent.home import Home

app = command_group(
    cls=RootGroup,
    name="near-agent",
    help="An agent that acts on NEAR for you, only within the limits you granted.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

app.add_typer(audit_app, name="audit")
app.add_typer(grants_app, name="grants")
app.add_typer(keys_app, name="keys")
app.add_typer(contacts_app, name="contacts")
app.add_typer(prefs_app, name="prefs")
app.add_typer(schedule_app, name="schedule")
app.add_typer(approvals_app, name="approvals")
app.command()(plan)
app.command()(do)
app.command()(chat)
app.command()(reconcile)
app.add_typer(daemon_app, name="daemon")
app.command()(pause)
app.command()(resume)
app.command()(mcp)
app.command()(status)
app.command()(console)


@app.callback()
def _root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            envvar="NEAR_AGENT_HOME",
            help="Folder for configuration, keys and databases (default: ~/.near-agent); "
            "accepted anywhere on the line.",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    ctx.obj = Home.resolve(home)
    check_home(ctx, ctx.obj)


@app.command()
def devnet(
    ctx: typer.Context,
    port: Annotated[
        int, typer.Option(help="Port on 127.0.0.1 (1-65535).", min=1, max=65535)
    ] = 3030,
    state_dir: Annotated[
        Path | None,
        typer.Option(help="Keep the chain here across restarts (default: HOME/devnet)."),
    ] = None,
    reset: Annotated[bool, typer.Option("--reset", help="Start again from genesis.")] = False,
    manifest: Annotated[
        bool, typer.Option("--manifest", help="Print the running devnet's manifest and exit.")
    ] = False,
    market: Annotated[
        bool,
        typer.Option(
            "--market", help="Simulate market activity: random swaps from market.test.near."
        ),
    ] = False,
    market_interval: Annotated[float, typer.Option(help="Seconds between simulated trades.")] = 2.0,
    seed: Annotated[int | None, typer.Option(help="Make the simulated trades repeatable.")] = None,
    genesis: Annotated[
        str | None,
        typer.Option(
            "--genesis",
            help="The world a new chain starts from: default, mainnet or testnet (mainnet's or "
            "testnet's account names, token ids and decimals, thousands of exchange pools). "
            "Default: the state dir's chain, else the default genesis.",
        ),
    ] = None,
    pools: Annotated[
        int | None,
        typer.Option(
            "--pools",
            help="Exchange pools of a mainnet- or testnet-shaped genesis "
            "(default: 5000 for mainnet, 1000 for testnet).",
        ),
    ] = None,
    rate_limit: Annotated[
        str | None,
        typer.Option(
            "--rate-limit",
            help="Answer HTTP 429 with Retry-After beyond REQUESTS/PERIOD per client IP, "
            "as public endpoints do (e.g. 30/min, 5/s, 75/10min).",
        ),
    ] = None,
    block_interval: Annotated[
        str,
        typer.Option(
            "--block-interval",
            help="Time between blocks while there is work (e.g. 0.1s, 100ms, 1s). Each receipt "
            "hop takes a block; a block is final two blocks later.",
        ),
    ] = "0.1s",
    history_blocks: Annotated[
        int,
        typer.Option(
            "--history-blocks",
            min=0,
            help="How many recent blocks' state queries by block_id still answer.",
        ),
    ] = 1000,
) -> None:
    """Run the local NEAR-compatible network (JSON-RPC on 127.0.0.1)."""
    from devnet.block_time import parse_interval
    from devnet.genesis_choice import GenesisChoice, GenesisChoiceError
    from devnet.rate_limit import RateLimit
    from devnet.server import manifest_path, serve_forever

    try:
        interval_s = parse_interval(block_interval)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--block-interval") from None
    if rate_limit is not None:
        try:
            RateLimit.parse(rate_limit)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--rate-limit") from None

    home: Home = ctx.obj
    folder = state_dir or home.devnet_dir
    choice = None
    if genesis is not None or pools is not None:
        try:
            choice = GenesisChoice.parse(genesis or "default", pools)
        except GenesisChoiceError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
    if manifest:
        path = manifest_path(folder)
        if not path.exists():
            typer.echo(
                f"No devnet manifest at {path}: start one with `near-agent devnet`.", err=True
            )
            raise typer.Exit(1)
        typer.echo(path.read_text())
        return
    handle = None
    if market:
        from agent.scheduler.market_maker import start_market

        handle = start_market(
            f"http://127.0.0.1:{port}", manifest_path(folder), seed=seed, interval_s=market_interval
        )
    try:
        serve_forever(
            state_dir=folder,
            port=port,
            reset=reset,
            genesis=choice,
            rate_limit=rate_limit,
            block_interval_s=interval_s,
            history_blocks=history_blocks,
        )
    finally:
        if handle is not None:
            handle.stop()


@app.command()
def init(
    ctx: typer.Context,
    account: Annotated[str, typer.Option("--account", help="Your NEAR account id.")],
    network: Annotated[
        str, typer.Option("--network", help="devnet, testnet or mainnet.")
    ] = "devnet",
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help="near-cli credentials file (default: the devnet manifest's, or "
            "~/.near-credentials/NETWORK/ACCOUNT.json).",
        ),
    ] = None,
    manifest: Annotated[
        Path | None,
        typer.Option(
            "--manifest", help="The devnet manifest (default: HOME/devnet/manifest.json)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing agent.yaml.")] = False,
    grants: Annotated[
        Path | None,
        typer.Option(
            "--grants",
            help="Also add this grants file now, once, as `grants add FILE` would (audited). "
            "It is not re-read later: change grants with `grants add` and `grants revoke`.",
        ),
    ] = None,
    allow_long_expiry: AllowLongExpiry = False,
) -> None:
    """Write HOME/agent.yaml for an account (with devnet, from the running devnet's manifest)."""
    from agent.cli_grants import apply_grants_file
    from agent.config import ConfigError
    from agent.setup_home import NETWORKS, is_network, write_config
    from policies.store_grants import check_grants_file

    home: Home = ctx.obj
    if not is_network(network):
        choices = ", ".join(NETWORKS[:-1]) + " or " + NETWORKS[-1]
        typer.echo(f"Unknown network {network!r}: use {choices}.", err=True)
        raise typer.Exit(2)
    if grants is not None:  # refuse a bad file before anything is written
        check_grants_file(grants, allow_long_expiry=allow_long_expiry)
    try:
        path = write_config(
            home,
            network=network,
            account_id=account,
            key_file=key_file,
            devnet_manifest=manifest,
            overwrite=force,
            check_node=True,
        )
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"Wrote {path}.")
    if grants is None:
        typer.echo("Grant the agent limits next: near-agent grants add FILE")
    else:
        apply_grants_file(home, grants, allow_long_expiry=allow_long_expiry)


@app.command()
def demo(
    ctx: typer.Context,
    folder: Annotated[
        Path | None,
        typer.Option("--dir", help="Where to keep the demo's home (default: a new temp folder)."),
    ] = None,
) -> None:
    """Run the whole agent on an in-process devnet: a short session, then its audit log."""
    from agent.demo import run_demo

    raise typer.Exit(run_demo(folder))


def main() -> None:
    import os
    import sys

    from agent.intent_screen import IntentRefused
    from memory.redact_io import install_redaction

    install_redaction()  # secrets never reach the terminal or a log, whatever prints them
    os.umask(0o077)  # whatever the agent creates (home, databases, keys) is its user's alone
    try:
        app()
    except IntentRefused as exc:  # refused before anything saw it: say why, no traceback
        print(exc.message, file=sys.stderr)
        sys.exit(exc.exit_code)
