from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from agent.cli_contacts import contacts_app, prefs_app
from agent.home import Home
from memory.contacts import AddressBook
from memory.preferences import PreferencesStore

runner = CliRunner()


@pytest.fixture
def app(tmp_path: Path) -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def _home(ctx: typer.Context) -> None:
        ctx.obj = Home(tmp_path)

    root.add_typer(contacts_app, name="contacts")
    root.add_typer(prefs_app, name="prefs")
    return root


def test_contacts_add_list_resolve_remove(app: typer.Typer, tmp_path: Path) -> None:
    empty = runner.invoke(app, ["contacts", "list"])
    assert empty.exit_code == 0 and "No contacts yet" in empty.output
    added = runner.invoke(app, ["contacts", "add", "Bob", "bob.near", "--note", "brother"])
    assert added.exit_code == 0 and "Bob -> bob.near" in added.output
    listed = runner.invoke(app, ["contacts", "list"])
    assert "Bob" in listed.output and "bob.near" in listed.output and "brother" in listed.output
    assert runner.invoke(app, ["contacts", "resolve", "bob"]).output.strip() == "bob.near"
    with AddressBook(Home(tmp_path).memory_db) as book:
        assert book.resolve("BOB") == "bob.near"
    removed = runner.invoke(app, ["contacts", "remove", "BOB"])
    assert removed.exit_code == 0 and "Removed Bob" in removed.output
    gone = runner.invoke(app, ["contacts", "resolve", "bob"])
    assert gone.exit_code == 1 and "neither a contact" in gone.output


def test_contacts_errors_exit_nonzero_with_the_reason(app: typer.Typer) -> None:
    bad = runner.invoke(app, ["contacts", "add", "bob", "Bob.Near"])
    assert bad.exit_code == 1 and "lowercase" in bad.output
    runner.invoke(app, ["contacts", "add", "bob", "bob.near"])
    taken = runner.invoke(app, ["contacts", "add", "bob", "eve.near"])
    assert taken.exit_code == 1 and "already bob.near" in taken.output
    moved = runner.invoke(app, ["contacts", "add", "bob", "eve.near", "--replace"])
    assert moved.exit_code == 0
    missing = runner.invoke(app, ["contacts", "remove", "carol"])
    assert missing.exit_code == 1 and "no contact named" in missing.output


def test_prefs_show_set_reset(app: typer.Typer, tmp_path: Path) -> None:
    shown = runner.invoke(app, ["prefs", "show"])
    assert shown.exit_code == 0 and "default_slippage_bps" in shown.output and "50" in shown.output
    done = runner.invoke(app, ["prefs", "set", "default_slippage_bps", "30"])
    assert done.exit_code == 0 and "default_slippage_bps = 30" in done.output
    with PreferencesStore(Home(tmp_path).memory_db) as store:
        assert store.load().default_slippage_bps == 30
    bad = runner.invoke(app, ["prefs", "set", "default_slippage_bps", "lots"])
    assert bad.exit_code == 1 and "integer" in bad.output
    unknown = runner.invoke(app, ["prefs", "set", "colour", "blue"])
    assert unknown.exit_code == 1 and "unknown preference" in unknown.output
    assert runner.invoke(app, ["prefs", "reset"]).exit_code == 0
    with PreferencesStore(Home(tmp_path).memory_db) as store:
        assert store.load().default_slippage_bps == 50
