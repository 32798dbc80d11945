"""How every CLI command reports a file it cannot use: one message, exit 2, no traceback."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

import typer
from typer._click.core import Context  # typer's own click (it no longer uses the click package)

from agent.cli_group import PlainHelpGroup, fail

T = TypeVar("T")


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


def run_onchain_change(work: Coroutine[Any, Any, T]) -> T:
    """Run one change on chain (``grants onchain``, ``keys pool``): a refusal is one line on
    stderr saying nothing more was done, exit 1, no traceback; an unusable file is left to
    :class:`ReportsUnusableFiles` (exit 2)."""
    import asyncio

    from agent.config import ConfigError
    from agent.onchain import OnchainError
    from memory.user_files import UnusableFile
    from tools.errors import ToolError

    try:
        return asyncio.run(work)
    except UnusableFile:
        raise
    except (OnchainError, ConfigError) as exc:
        fail(f"Nothing more was done: {exc}")
    except ToolError as exc:
        fail(f"Nothing more was done: {exc.message}")
