"""How every near-agent command group is built: plain help, each command's whole summary.

Why plain: typer's rich help formatting imports rich's markdown and layout machinery, a third of
``near-agent --help``'s time, for boxes around the same text; click's own formatter prints that
text without it. Why a group class: click shortens a command's summary to fit the line, where
the rich help showed its whole first paragraph; ``PlainHelpGroup`` keeps it whole.
"""

from __future__ import annotations

import inspect
import re
from typing import Any, NoReturn

import typer
from typer._click.core import Command, Context  # typer's own click
from typer._click.formatting import HelpFormatter
from typer.core import TyperCommand, TyperGroup


def summary(command: Command) -> str:
    """The first paragraph of a command's help on one line (its ``short_help`` if it has one)."""
    text = command.short_help or inspect.cleandoc(command.help or "").partition("\f")[0]
    return " ".join(text.split("\n\n")[0].split())


class PlainHelpGroup(TyperGroup):
    """A command group whose help lists every command with its whole summary."""

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, summary(command)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def command_group(*, cls: type[TyperGroup] = PlainHelpGroup, **settings: Any) -> typer.Typer:
    """A Typer app with plain help (``rich_markup_mode=None``); ``settings`` as for Typer."""
    return typer.Typer(cls=cls, rich_markup_mode=None, **settings)


_NEGATIVE_NUMBER = re.compile(r"-\d+")


class NegativeNumbersAreArguments(TyperCommand):
    """A command whose argument may be a negative number (``audit show -1``): click would read
    ``-1`` as an unknown option; here such a word is an argument, as if written after ``--``."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        end = args.index("--") if "--" in args else len(args)
        numbers = [a for a in args[:end] if _NEGATIVE_NUMBER.fullmatch(a)]
        if numbers:
            options = [a for a in args[:end] if not _NEGATIVE_NUMBER.fullmatch(a)]
            args = [*options, "--", *numbers, *args[end + 1 :]]
        return super().parse_args(ctx, args)


def fail(message: str, code: int = 1) -> NoReturn:
    """Say why a command did nothing, on stderr in one line, and exit with ``code``."""
    typer.echo(message, err=True)
    raise typer.Exit(code)
