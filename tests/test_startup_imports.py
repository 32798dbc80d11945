"""Start-up pays only for what it uses: planning text and ``--help`` load no chain client and
no LLM client.

Why: ``near-agent plan "..."`` and ``near-agent --help`` are read offline, and importing
py-near, aiohttp, langchain and openai once cost most of their start-up. Each case runs the real
CLI entry point in a fresh interpreter and reads which of those modules it ended up holding.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("py_near", "py_near_primitives", "aiohttp", "langchain_openai", "langchain_core", "openai")

_PROBE = textwrap.dedent(
    """
    import atexit, json, sys

    heavy = {heavy!r}

    def report() -> None:
        loaded = sorted(name for name in heavy if name in sys.modules)
        sys.stderr.write("\\nLOADED " + json.dumps(loaded) + "\\n")

    atexit.register(report)
    {body}
    """
)


def _loaded(body: str) -> list[str]:
    code = _PROBE.format(heavy=HEAVY, body=body)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    marker = [line for line in done.stderr.splitlines() if line.startswith("LOADED ")]
    assert marker, done.stderr
    loaded: list[str] = json.loads(marker[-1].removeprefix("LOADED "))
    return loaded


def _cli(*args: str) -> str:
    return f"sys.argv = ['near-agent', *{list(args)!r}]\nfrom agent.cli import main\nmain()"


def test_importing_the_plan_loads_no_chain_or_llm_client() -> None:
    assert _loaded("import agent.plan, agent.planner, tools.registry") == []


def test_the_tool_declarations_load_no_chain_or_llm_client() -> None:
    assert _loaded("from tools import registry\nregistry.tool_schemas()") == []


@pytest.mark.parametrize(
    "args",
    [
        ("plan", "send 1 NEAR to bob", "--json"),
        ("plan", "swap 5 NEAR to USDC"),
        ("--help",),
        ("plan", "--help"),
    ],
)
def test_the_cli_plans_and_helps_without_chain_or_llm_client(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    (tmp_path / "home").mkdir()  # a command needs a home (only init and the like make one)
    assert _loaded(_cli("--home", str(tmp_path / "home"), *args)) == []


@pytest.mark.parametrize("args", [("--help",), ("plan", "--help"), ("grants", "--help")])
def test_help_is_formatted_without_rich(args: tuple[str, ...], tmp_path: Path) -> None:
    """Rich's help layout cost a third of ``--help``; the plain formatter prints the same text."""
    body = _cli("--home", str(tmp_path / "home"), *args)
    probe = f"{body}\n"
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write("
        "'\\nRICH ' + str('typer.rich_utils' in sys.modules) + '\\n'))\n" + probe
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "RICH False" in done.stderr
    assert "Usage:" in done.stdout


def _groups() -> list[tuple[list[str], Any]]:
    from typer.main import get_command

    from agent.cli import app

    top = get_command(app)
    found: list[tuple[list[str], Any]] = [([], top)]
    for name, sub in getattr(top, "commands", {}).items():
        if getattr(sub, "commands", None):
            found.append(([name], sub))
    return found


@pytest.mark.parametrize("group", _groups(), ids=lambda g: " ".join(g[0]) or "near-agent")
def test_help_lists_every_command_with_its_whole_summary(
    group: tuple[list[str], Any], tmp_path: Path
) -> None:
    """Plain help must not shorten a command's summary (``agent.cli_group.summary``)."""
    from agent.cli_group import summary

    path, command = group
    done = subprocess.run(
        [sys.executable, "-m", "agent", "--home", str(tmp_path / "home"), *path, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    shown = "".join(done.stdout.split())
    for name, sub in command.commands.items():
        if not sub.hidden:
            assert "".join(summary(sub).split()) in shown, (name, summary(sub))
