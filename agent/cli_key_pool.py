"""``near-agent keys pool``: more full-access keys for the account, so actions sign in parallel.

Why a group of its own: adding keys to an account is a transaction the user signs with the main
key, so it is shown and confirmed first (unless --yes), and removing them deletes them on chain
before the agent forgets their secrets. The work is agent.key_pool_setup's; heavy imports stay
inside the commands.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from agent.cli_errors import run_onchain_change
from agent.cli_group import command_group, fail

if TYPE_CHECKING:
    from agent.home import Home
    from agent.key_pool_setup import Confirm
    from tools.keystore import Keystore

pool_app = command_group(
    name="pool",
    help="A pool of full-access keys for the account, so independent actions sign in parallel.",
    no_args_is_help=True,
    add_completion=False,
)


def _confirmer(yes: bool) -> Confirm:
    def confirm(plan: str) -> bool:
        typer.echo(f"This will {plan}")
        if yes:
            return True
        try:
            return typer.confirm("Go ahead?", default=False)
        except typer.Abort:  # no terminal to answer on
            return False

    return confirm


def _keystore(home: Home) -> Keystore:
    from tools.keystore import Keystore, passphrase_from_env_or_prompt

    return Keystore(home.keys_dir, passphrase=passphrase_from_env_or_prompt)


@pool_app.command("add")
def add(
    ctx: typer.Context,
    count: Annotated[
        int,
        typer.Option(
            "--count",
            help="How many keys the pool holds besides the main key afterwards (1 to 64); "
            "keys already there count, so running it again adds nothing.",
        ),
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Add full-access keys to the account in one transaction signed by the main key.

    Each secret is written to HOME/keys first (owner-only, sealed when the keystore is
    encrypted), so a crash never leaves a key on chain that nobody holds; running the command
    again adds what a crash left unsent. Every action is still checked by the policy engine,
    whichever key signs it.
    """
    from agent.key_pool_setup import add_pool_keys, check_count
    from agent.onchain import OnchainError

    home: Home = ctx.obj
    try:
        check_count(count)
    except OnchainError as exc:
        fail(str(exc))
    report = run_onchain_change(add_pool_keys(home, count, _confirmer(yes), _keystore(home)))
    for line in report.lines:
        typer.echo(line)


@pool_app.command("remove")
def remove(
    ctx: typer.Context,
    public_keys: Annotated[
        list[str] | None,
        typer.Argument(help="The pool keys to remove (default: every pool key)."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete pool keys from the chain, then forget them (never the main key)."""
    from agent.key_pool_setup import remove_pool_keys

    home: Home = ctx.obj
    report = run_onchain_change(
        remove_pool_keys(home, public_keys or [], _confirmer(yes), _keystore(home))
    )
    for line in report.lines:
        typer.echo(line)


@pool_app.command("list")
def list_pool(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON: the account and its keys.")] = (
        False
    ),
) -> None:
    """The account's main key and its pool keys (read from HOME/keys; no secret is read)."""
    from agent.key_pool_setup import read_pool

    home: Home = ctx.obj
    view = read_pool(home)
    if as_json:
        body = {
            "account_id": view.account_id,
            "main_key": view.main_key,
            "pool": [
                {"public_key": e.public_key, "state": e.pool, "path": str(e.path)}
                for e in view.keys
            ],
        }
        typer.echo(json.dumps(body, indent=2))
        return
    typer.echo(f"{view.account_id}  main key {view.main_key or '(none found)'}")
    if not view.keys:
        typer.echo("No pool keys: `near-agent keys pool add --count K` adds some.")
        return
    for entry in view.keys:
        state = "in use" if entry.pool_active else "pending: not on chain yet, not used"
        typer.echo(f"  {entry.public_key}  {state}{'  (encrypted)' if entry.encrypted else ''}")
    typer.echo(f"{len(view.active) + 1} key(s) sign independent actions in parallel.")
