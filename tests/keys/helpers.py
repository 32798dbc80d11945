"""A configured home on a devnet, and a CLI with the keys commands, for the key tests."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import typer
from typer.testing import CliRunner, Result

from agent.cli import app as main_app
from agent.cli_keys import keys_app
from agent.demo import demo_grants
from agent.home import Home
from agent.setup_home import write_config
from tests.support.grants import give_home_grants

ALICE = "alice.test.near"
T = TypeVar("T")


def make_home(devnet: Any, root: Path, *, key_file: Path | None = None) -> Home:
    home = Home(root)
    write_config(
        home,
        network="devnet",
        account_id=ALICE,
        devnet_manifest=devnet.state_dir / "manifest.json",
        key_file=key_file,
    )
    (home.root / "grants.yaml").write_text(demo_grants(datetime.now(UTC) + timedelta(days=1)))
    give_home_grants(home)
    return home


def cli_app() -> typer.Typer:
    """The real CLI plus the keys commands (registered here in case cli.py does not yet)."""
    names = {group.name for group in main_app.registered_groups}
    if "keys" in names:
        return main_app
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.add_typer(keys_app, name="keys")
    for group in main_app.registered_groups:
        app.registered_groups.append(group)
    app.registered_commands.extend(main_app.registered_commands)
    app.registered_callback = main_app.registered_callback
    return app


def cli(home: Home, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli_app(), ["--home", str(home.root), *args], env=env)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)
