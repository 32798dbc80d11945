"""The ``near-agent`` command line itself, run as a user runs it (a separate process): where
``--home`` may go, a home that is not there, help, version, completion, bad ports."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from agent.home import Home


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


READ_ONLY = [
    ("status",),
    ("audit", "list"),
    ("audit", "verify"),
    ("audit", "head"),
    ("grants", "list"),
    ("grants", "show", "demo-transfers"),
    ("grants", "check", "send 1 NEAR to bob.near"),
    ("schedule", "list"),
    ("approvals", "list"),
    ("keys", "list"),
    ("contacts", "list"),
    ("prefs", "show"),
    ("plan", "send 1 NEAR to bob.near"),
    ("pause",),  # a kill switch pulled on a mistyped home would stop nothing
    ("do", "what's my balance", "--yes"),
]


@pytest.mark.parametrize("args", READ_ONLY, ids=" ".join)
def test_a_missing_home_is_named_and_never_created(tmp_path: Path, args: tuple[str, ...]) -> None:
    missing = tmp_path / "typo"
    done = run("--home", str(missing), *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"No near-agent home at {missing}" in done.stderr
    assert "near-agent init" in done.stderr and "near-agent demo" in done.stderr
    assert "Traceback" not in done.stderr
    assert not missing.exists()


def test_home_is_accepted_after_the_subcommand(home: Home) -> None:
    before = run("--home", str(home.root), "grants", "list")
    assert before.returncode == 0 and "demo-transfers" in before.stdout
    for args in (
        ("grants", "list", "--home", str(home.root)),
        ("grants", "list", f"--home={home.root}"),
        ("grants", "--home", str(home.root), "list"),
    ):
        after = run(*args, env={"NEAR_AGENT_HOME": "/nonexistent/elsewhere"})
        assert after.returncode == 0, after.stderr
        assert after.stdout == before.stdout


def test_an_argument_after_double_dash_is_not_taken_for_home(home: Home) -> None:
    done = run("--home", str(home.root), "plan", "--json", "--", "--home")
    assert done.returncode == 3, done.stderr  # planned and not understood, not a bad --home
    assert '"--home"' in done.stdout


def test_h_is_help_everywhere_and_no_help_page_shows_a_bool_metavar() -> None:
    from typer._click.core import Context
    from typer.main import get_command

    from agent.cli import app

    pages = 0

    def walk(command: object, path: list[str]) -> None:
        nonlocal pages
        ctx = Context(command, info_name=" ".join(path))  # type: ignore[arg-type]
        text = command.get_help(ctx)  # type: ignore[attr-defined]
        pages += 1
        assert "<bool>" not in text, path
        if hasattr(command, "list_commands"):
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name), [*path, name])

    walk(get_command(app), ["near-agent"])
    assert pages > 40
    for args in (("-h",), ("audit", "list", "-h"), ("devnet", "-h")):
        done = run(*args)
        assert done.returncode == 0 and done.stdout.startswith("Usage:"), done.stderr
        assert "<bool>" not in done.stdout


def test_version_is_the_installed_package_s() -> None:
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"near-agent {version('near-agent')}"


def test_shell_completion_completes_commands_and_subcommands(tmp_path: Path) -> None:
    script = run("--show-completion", "bash")
    assert script.returncode == 0 and "complete" in script.stdout
    entry = Path(sys.executable).with_name("near-agent")
    if not entry.exists():
        pytest.skip("the near-agent entry point is not installed next to this interpreter")

    def complete(words: str) -> list[str]:
        done = subprocess.run(
            [str(entry)],
            capture_output=True,
            text=True,
            timeout=60,
            env={
                **os.environ,
                "_NEAR_AGENT_COMPLETE": "complete_bash",
                "COMP_WORDS": words,
                "COMP_CWORD": str(len(words.split()) - 1),
            },
        )
        return done.stdout.split()

    assert complete("near-agent aud") == ["audit"]
    assert "list" in complete("near-agent audit l")
    assert "status" in complete("near-agent st")


@pytest.mark.parametrize("port", ["99999", "0", "-1"])
def test_a_port_out_of_range_is_a_clear_error(tmp_path: Path, port: str) -> None:
    done = run("--home", str(tmp_path / "home"), "devnet", "--port", port)
    assert done.returncode == 2
    assert "--port" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "home").exists()
