"""``near-agent keys``: the keys the agent holds in HOME/keys, never showing a secret.

Why a command of its own: importing a near-cli key copies it under the agent's control (0600,
optionally sealed with a passphrase), so agent.yaml can point at a file whose safety the agent
guarantees instead of a world-readable file somewhere. Heavy imports stay inside the commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agent.cli_group import command_group, fail
from agent.cli_key_pool import pool_app

if TYPE_CHECKING:
    from agent.home import Home
    from tools.keystore import KeyEntry, Keystore

keys_app = command_group(
    name="keys",
    help="Import, list and encrypt the keys the agent signs with (secrets are never shown).",
    no_args_is_help=True,
    add_completion=False,
)
keys_app.add_typer(pool_app, name="pool")


def _keystore(home: Home, *, confirm: bool = False) -> Keystore:
    from tools.keystore import Keystore, passphrase_from_env_or_prompt

    return Keystore(
        home.keys_dir, passphrase=lambda: passphrase_from_env_or_prompt(confirm=confirm)
    )


def _point_config_at(home: Home, account_id: str, key_file: Path) -> bool:
    """Set agent.yaml's key_file when the file is for the configured account."""
    import yaml

    from agent.config import AgentConfig

    if not home.config_file.exists():
        return False
    text = home.config_file.read_text()
    body = yaml.safe_load(text) or {}
    if not isinstance(body, dict) or body.get("account_id") != account_id:
        return False
    body["key_file"] = str(key_file)
    AgentConfig.model_validate(body)
    header = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
    home.config_file.write_text(header + yaml.safe_dump(body, sort_keys=False))
    return True


@keys_app.command("import")
def import_key(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A near-cli credentials file (mode 600).")],
    account: Annotated[
        str | None, typer.Option("--account", help="The account (default: the file's).")
    ] = None,
    encrypt: Annotated[
        bool,
        typer.Option(
            "--encrypt",
            help="Encrypt the keystore with a passphrase "
            "($NEAR_AGENT_PASSPHRASE or asked on the terminal).",
        ),
    ] = False,
) -> None:
    """Copy a key into HOME/keys (0600; sealed when the keystore is encrypted)."""
    from agent.config import ConfigError
    from tools.errors import CredentialsError
    from tools.keys import load_credentials

    home: Home = ctx.obj
    store = _keystore(home, confirm=encrypt)
    try:
        creds = load_credentials(file, account)
        if encrypt:
            store.enable_encryption()
        entry = store.store(creds.account_id, creds.key_pair, note=f"imported from {file}")
        pointed = _point_config_at(home, creds.account_id, entry.path)
    except CredentialsError as exc:
        fail(exc.message)
    except (ConfigError, ValueError) as exc:
        fail(f"the key was stored but agent.yaml was not changed: {exc}")
    state = "encrypted" if entry.encrypted else "not encrypted"
    typer.echo(
        f"Stored the key {entry.public_key} of {entry.account_id} in {entry.path} ({state})."
    )
    if pointed:
        typer.echo(f"agent.yaml now signs with it (key_file: {entry.path}).")


@keys_app.command("list")
def list_keys(
    ctx: typer.Context,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="JSON: the keystore's folder, whether it is encrypted, and each key."
        ),
    ] = False,
) -> None:
    """Every stored key: account, public key, what it may do, whether it is encrypted."""
    from tools.amounts import format_amount

    home: Home = ctx.obj
    store = _keystore(home)
    entries = store.entries()
    if as_json:
        body = {
            "keystore": str(home.keys_dir),
            "encrypted": store.encrypted,
            "keys": [_key_json(e) for e in entries],
        }
        typer.echo(json.dumps(body, indent=2))
        return
    if not entries:
        typer.echo(f"No keys in {home.keys_dir}. Import one with `near-agent keys import FILE`.")
        return
    typer.echo(f"keystore {home.keys_dir} ({'encrypted' if store.encrypted else 'plain'})")
    for e in entries:
        if e.pool:
            scope = "full access, key pool" + ("" if e.pool_active else " (pending: not used yet)")
        elif e.permission is None:
            scope = "full access"
        else:
            allowance = (
                "unlimited gas"
                if e.permission.allowance is None
                else f"{format_amount(e.permission.allowance, 24)} NEAR of gas"
            )
            scope = (
                f"calls {', '.join(e.permission.method_names) or 'any method'} on "
                f"{e.permission.receiver_id}, {allowance}"
            )
        typer.echo(
            f"{e.account_id}  {e.public_key}  {scope}{'  (encrypted)' if e.encrypted else ''}"
        )


def _key_json(entry: KeyEntry) -> dict[str, Any]:
    """One key as ``keys list --json`` shows it (never its secret)."""
    from tools.amounts import format_amount

    permission = entry.permission
    return {
        "account_id": entry.account_id,
        "public_key": entry.public_key,
        "path": str(entry.path),
        "encrypted": entry.encrypted,
        "full_access": permission is None,
        "pool": entry.pool or None,  # a key of the account's key pool: "active" or "pending"
        "permission": None
        if permission is None
        else {
            "receiver_id": permission.receiver_id,
            "method_names": list(permission.method_names),
            "allowance": None
            if permission.allowance is None
            else {
                "units": str(permission.allowance),
                "display": f"{format_amount(permission.allowance, 24)} NEAR",
            },
        },
    }


@keys_app.command("encrypt")
def encrypt(ctx: typer.Context) -> None:
    """Seal every stored key with a passphrase; keys stored later are sealed too."""
    from tools.errors import CredentialsError

    home: Home = ctx.obj
    store = _keystore(home, confirm=True)
    try:
        store.enable_encryption()
    except CredentialsError as exc:
        fail(exc.message)
    typer.echo(f"The keystore {home.keys_dir} is encrypted ({len(store.entries())} key(s)).")
