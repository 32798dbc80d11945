"""``near-agent contacts`` (the address book) and ``near-agent prefs`` (the user's defaults)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from agent.cli_group import command_group
from agent.home import Home

if TYPE_CHECKING:
    from memory.contacts import AddressBook
    from memory.preferences import PreferencesStore

contacts_app = command_group(
    name="contacts", help="Names for NEAR accounts, usable in any intent.", no_args_is_help=True
)
prefs_app = command_group(
    name="prefs",
    help="Defaults the planner uses when an intent leaves them out.",
    no_args_is_help=True,
)


def _book(ctx: typer.Context) -> AddressBook:
    from memory.contacts import AddressBook

    home: Home = ctx.obj
    return AddressBook(home.memory_db)


def _prefs(ctx: typer.Context) -> PreferencesStore:
    from memory.preferences import PreferencesStore

    home: Home = ctx.obj
    return PreferencesStore(home.memory_db)


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)


@contacts_app.command("add")
def add_contact(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The name you will use, e.g. bob.")],
    account_id: Annotated[str, typer.Argument(help="The NEAR account, e.g. bob.near.")],
    note: Annotated[str, typer.Option(help="A reminder of who this is.")] = "",
    replace: Annotated[
        bool, typer.Option("--replace", help="Point an existing name at a new account.")
    ] = False,
) -> None:
    """Save NAME as ACCOUNT_ID."""
    from memory.contacts import ContactError

    with _book(ctx) as book:
        try:
            contact = book.add(name, account_id, note=note, replace=replace)
        except ContactError as exc:
            raise _fail(str(exc)) from exc
    typer.echo(f"{contact.name} -> {contact.account_id}")


@contacts_app.command("list")
def list_contacts(
    ctx: typer.Context,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="JSON: a list of {name, account_id, note, added_at}."),
    ] = False,
) -> None:
    """Every saved contact."""
    import json

    with _book(ctx) as book:
        contacts = book.list()
    if as_json:
        rows = [
            {"name": c.name, "account_id": c.account_id, "note": c.note, "added_at": c.added_at}
            for c in contacts
        ]
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not contacts:
        typer.echo("No contacts yet: add one with `near-agent contacts add bob bob.near`.")
        return
    width = max(len(c.name) for c in contacts)
    for c in contacts:
        typer.echo(f"{c.name:<{width}}  {c.account_id}" + (f"  ({c.note})" if c.note else ""))


@contacts_app.command("remove")
def remove_contact(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The contact's name.")]
) -> None:
    """Forget a contact."""
    from memory.contacts import ContactError

    with _book(ctx) as book:
        try:
            removed = book.remove(name)
        except ContactError as exc:
            raise _fail(str(exc)) from exc
    typer.echo(f"Removed {removed.name} ({removed.account_id})")


@contacts_app.command("resolve")
def resolve_contact(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="A name or an account id.")]
) -> None:
    """Print the account a name stands for (what the planner will use)."""
    from memory.contacts import ContactError

    with _book(ctx) as book:
        try:
            account = book.resolve(name)
        except ContactError as exc:
            raise _fail(str(exc)) from exc
    typer.echo(account)


@prefs_app.command("show")
def show_prefs(ctx: typer.Context) -> None:
    """Every preference, its value and what it does."""
    from memory.preferences import PreferenceError, describe_preferences

    with _prefs(ctx) as store:
        try:
            prefs = store.load()
        except PreferenceError as exc:
            raise _fail(str(exc)) from exc
    help_texts = describe_preferences()
    width = max(len(k) for k in help_texts)
    for key, value in prefs.model_dump().items():
        typer.echo(f"{key:<{width}}  {value!s:<8}  {help_texts[key]}")


@prefs_app.command("set")
def set_pref(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="e.g. default_slippage_bps")],
    value: Annotated[str, typer.Argument(help="e.g. 30")],
) -> None:
    """Change one preference."""
    from memory.preferences import PreferenceError

    with _prefs(ctx) as store:
        try:
            prefs = store.set(key, value)
        except PreferenceError as exc:
            raise _fail(str(exc)) from exc
    typer.echo(f"{key} = {getattr(prefs, key)}")


@prefs_app.command("reset")
def reset_prefs(
    ctx: typer.Context,
    key: Annotated[str | None, typer.Argument(help="One preference [default: all].")] = None,
) -> None:
    """Back to the defaults."""
    from memory.preferences import PreferenceError

    with _prefs(ctx) as store:
        try:
            store.reset(key)
        except PreferenceError as exc:
            raise _fail(str(exc)) from exc
    typer.echo(f"Reset {key or 'all preferences'}")
