"""How every CLI command reports a file it cannot use: one message, exit 2, no traceback."""

from __future__ import annotations

import typer
from typer._click.core import Context  # typer's own click (it no longer uses the click package)

from agent.cli_group import PlainHelpGroup


class ReportsUnusableFiles(PlainHelpGroup):
    """A command group whose commands render UnusableFile (a damaged database, a malformed
    agent.yaml or grants file) as the file, what is wrong and what to do, and exit 2."""

    def invoke(self, ctx: Context) -> object:
        from memory.user_files import UnusableFile

        try:
            return super().invoke(ctx)
        except UnusableFile as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
