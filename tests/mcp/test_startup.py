"""The MCP SDK loads only for ``near-agent mcp``: every other command starts without it."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.mcp.clients import ROOT, _env

SERVER_STACK = ("mcp", "mcp_types", "uvicorn", "starlette", "anyio", "httpx2")

PROBE = """
import atexit, json, sys
atexit.register(lambda: sys.stderr.write("\\nLOADED " + json.dumps(
    sorted(m for m in {stack!r} if m in sys.modules)) + "\\n"))
sys.argv = ["near-agent", *{argv!r}]
from agent.cli import main
main()
"""


def loaded(*argv: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(stack=SERVER_STACK, argv=list(argv))],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    [line] = [x for x in done.stderr.splitlines() if x.startswith("LOADED ")]
    return json.loads(line.removeprefix("LOADED "))


def test_help_and_planning_load_no_part_of_the_mcp_server() -> None:
    assert loaded("--help") == []
    assert loaded("mcp", "--help") == []
    assert loaded("plan", "send 1 NEAR to bob.near", "--no-check") == []
