"""Tool-call overhead through MCP next to the same call in-process: ``python -m bench.mcp_bench``.

The same calls run three ways against one devnet home, interleaved round by round: in-process
(the server's own ``Calls``, no protocol), through ``near-agent mcp`` over stdio, and over
streamable HTTP (the SDK's client for both). Two calls make no chain request at all, so their
figures hold no chain time: a call whose arguments the tool's model refuses (validated and
audited) and ``recent_activity`` (an audited read). For a transfer the policy denies (prepared
against the chain, decided, audited), chain time is the same both ways and cancels in the
difference shown. Figures are medians; each MCP figure's ratio is to the in-process median of
the same call, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import baseline

ROOT = Path(__file__).resolve().parents[1]
CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "refused": ("transfer", {"receiver_id": "bob.test.near", "amount": 1.5, "token": "NEAR"}),
    "activity": ("recent_activity", {"limit": 5}),
    "denied": ("transfer", {"receiver_id": "bob.test.near", "amount": "6", "token": "NEAR"}),
}


Call = Callable[[], Awaitable[Any]]


async def _interleaved(
    ways: dict[str, dict[str, Call]], rounds: int
) -> dict[str, dict[str, float]]:
    """Median ms per way and call; each round runs every way once, one after the other, so a
    burst of load on the shared machine (a slow fsync) falls on all of them alike."""
    times: dict[str, dict[str, list[float]]] = {w: {c: [] for c in CALLS} for w in ways}
    for calls in ways.values():  # warm: imports, caches, connections
        for call in calls.values():
            await call()
    for _ in range(rounds):
        for name in CALLS:
            for way, calls in ways.items():
                start = time.perf_counter()
                await calls[name]()
                times[way][name].append(time.perf_counter() - start)
    return {
        way: {name: statistics.median(ts) * 1000 for name, ts in by_call.items()}
        for way, by_call in times.items()
    }


def _in_process_calls(app: Any) -> dict[str, Call]:
    from agent.mcp_server.calls import Calls

    calls = Calls(app, "bench in-process")

    def one(tool: str, args: dict[str, Any]) -> Call:
        if tool == "recent_activity":
            return lambda: calls.recent_activity(args)
        return lambda: calls.agent_tool(tool, args)

    return {name: one(tool, args) for name, (tool, args) in CALLS.items()}


def _session_calls(session: Any) -> dict[str, Call]:
    async def call(tool: str, args: dict[str, Any]) -> None:
        result = await session.call_tool(tool, args)
        assert result.structured_content is not None

    def one(tool: str, args: dict[str, Any]) -> Call:
        return lambda: call(tool, args)

    return {name: one(tool, args) for name, (tool, args) in CALLS.items()}


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return {**env, **(extra or {})}


async def _all_ways(home: Any, rounds: int) -> dict[str, dict[str, float]]:
    """The server's ``Calls`` here, and ``near-agent mcp`` over stdio and over HTTP."""
    import mcp_types as types
    from mcp import ClientSession, StdioServerParameters, stdio_client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    from agent.mcp_server.server import open_app

    token = secrets.token_urlsafe(32)
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "agent", "--home", str(home.root), "mcp"], env=_env()
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent", "--home", str(home.root), "mcp", "--http", "0"],
        env=_env({"NEAR_AGENT_MCP_TOKEN": token}),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split("listening on ", 1)[1].strip()
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
        with open(os.devnull, "w") as quiet:
            async with (
                open_app(home) as app,
                stdio_client(params, errlog=quiet) as (read, write),
                ClientSession(
                    read, write, client_info=types.Implementation(name="bench stdio", version="1")
                ) as stdio,
                http,
                streamable_http_client(url, http_client=http) as (hread, hwrite),
                ClientSession(
                    hread, hwrite, client_info=types.Implementation(name="bench http", version="1")
                ) as over_http,
            ):
                await stdio.initialize()
                await over_http.initialize()
                ways = {
                    "inprocess": _in_process_calls(app),
                    "stdio": _session_calls(stdio),
                    "http": _session_calls(over_http),
                }
                return await _interleaved(ways, rounds)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _home(root: Path) -> Any:
    from agent.demo import demo_grants
    from agent.grant_changes import give_grants
    from agent.home import Home
    from agent.setup_home import write_config
    from memory.audit import AuditLog

    home = Home(root)
    write_config(home, network="devnet", account_id="alice.test.near")
    (root / "grants.yaml").write_text(demo_grants(datetime.now(UTC) + timedelta(days=1)))
    with AuditLog(home.audit_db) as audit:  # the user's `grants add grants.yaml`
        give_grants(home, root / "grants.yaml", audit)
    return home


def measure(rounds: int) -> dict[str, dict[str, float]]:
    import anyio

    from devnet.server import start_devnet

    with tempfile.TemporaryDirectory(prefix="near-agent-mcp-bench-") as tmp:
        root = Path(tmp) / "home"
        node = start_devnet(root / "devnet", port=0, reset=True)
        try:
            return anyio.run(_all_ways, _home(root), rounds)
        finally:
            node.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100, help="calls timed per figure")
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    rounds = 15 if args.quick else args.rounds
    found = measure(rounds)
    inproc = found["inprocess"]
    figures = {
        f"{name}_{way}_ms": round(found[way][name], 3)
        for way in ("stdio", "http")
        for name in CALLS
    }
    for way in ("stdio", "http"):
        figures[f"denied_overhead_{way}_ms"] = round(found[way]["denied"] - inproc["denied"], 3)
    in_process = {f"{name}_inprocess_ms": inproc[name] for name in CALLS}
    if args.json:
        print(json.dumps(figures))
        baseline.emit(**in_process)
        return
    print(f"tool call through MCP vs in-process (median of {rounds} calls, ms):")
    print(f"  {'call':<10} {'in-process':>11} {'stdio':>9} {'ratio':>7} {'http':>9} {'ratio':>7}")
    for name in CALLS:
        a, s, h = inproc[name], found["stdio"][name], found["http"][name]
        print(f"  {name:<10} {a:11.3f} {s:9.3f} {s / a:6.1f}x {h:9.3f} {h / a:6.1f}x")
    print(
        "  denied transfer, MCP overhead without chain time: "
        f"stdio {figures['denied_overhead_stdio_ms']:.3f} ms, "
        f"http {figures['denied_overhead_http_ms']:.3f} ms"
    )
    baseline.emit(**in_process)


if __name__ == "__main__":
    main()
