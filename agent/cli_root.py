"""What the ``near-agent`` root does before any command: where ``--home`` may be written, which
commands may make a home, the version.

Why here: a mistyped ``--home`` used to look healthy (the command made an empty home there and
reported "0 entries", "no grants", "paused"); only the commands that set a home up may create
one, every other one names the missing folder and how to make a home.
"""

from __future__ import annotations

from typing import Any

import typer
from typer._click.core import Context  # typer's own click

from agent.cli_errors import ReportsUnusableFiles
from agent.home import Home

HOME_OPTION = "--home"

# The commands that set a home up, and so may create its folder; every other one needs it.
MAKES_A_HOME = frozenset({("init",), ("demo",), ("devnet",), ("keys", "import"), ("grants", "add")})

_ARGV_KEY = "near_agent.argv"
_HELP = frozenset({"-h", "--help"})


def hoist_home(args: list[str]) -> list[str]:
    """``args`` with every ``--home X`` / ``--home=X`` moved before the command, so that
    ``near-agent audit list --home X`` means what ``near-agent --home X audit list`` does.
    Nothing after ``--`` is touched (it is an argument, whatever it looks like)."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        if arg == HOME_OPTION and i + 1 < len(args):
            front += args[i : i + 2]
            i += 2
            continue
        if arg.startswith(HOME_OPTION + "="):
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


class RootGroup(ReportsUnusableFiles):
    """The root command group: ``--home`` anywhere, and it remembers the command line so the
    root callback knows which command will run."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, hoist_home(list(args)))
        ctx.meta[_ARGV_KEY] = [*ctx._protected_args, *ctx.args]
        return rest


def _command_path(ctx: Context, argv: list[str]) -> tuple[str, ...]:
    """The command and, for a group, its subcommand, as the user wrote them."""
    if not argv:
        return ()
    group: Any = ctx.command
    first = group.get_command(ctx, argv[0])
    is_group = first is not None and hasattr(first, "list_commands")
    if is_group and len(argv) > 1 and not argv[1].startswith("-"):
        return (argv[0], argv[1])
    return (argv[0],)


def no_home_message(home: Home) -> str:
    return (
        f"No near-agent home at {home.root}: nothing was read or created. Make one with "
        "`near-agent init --account ID` (see `near-agent demo` for a tour on a local "
        "network), or pass the right --home."
    )


def check_home(ctx: Context, home: Home) -> None:
    """Refuse a command that needs a home when there is none (exit 2); keep an existing home's
    folder and databases owner-only."""
    argv: list[str] = ctx.meta.get(_ARGV_KEY, [])
    if ctx.resilient_parsing or _HELP.intersection(argv):
        return  # completion or help: nothing is read
    if home.root.is_dir():
        from agent.home_files import tighten_home

        tighten_home(home)
        return
    if _command_path(ctx, argv) in MAKES_A_HOME:
        return
    typer.echo(no_home_message(home), err=True)
    raise typer.Exit(2)


def show_version(value: bool) -> None:
    """``--version``: the installed package's version (its metadata, not a constant here)."""
    if not value:
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        number = version("near-agent")
    except PackageNotFoundError:
        number = "unknown (not installed as a package)"
    typer.echo(f"near-agent {number}")
    raise typer.Exit(0)
