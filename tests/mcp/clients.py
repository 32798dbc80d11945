"""The MCP SDK's own client against a ``near-agent mcp`` process: over stdio (the client starts
the process, as a desktop client does) or over streamable HTTP (``--http 0`` started here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import mcp_types as types
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from agent.home import Home

ROOT = Path(__file__).resolve().parents[2]
Elicit = Callable[[Any, types.ElicitRequestParams], Awaitable[types.ElicitResult]]


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


def answering(approve: bool, seen: list[str] | None = None) -> Elicit:
    """An elicitation callback that accepts with ``approve`` (recording each message)."""

    async def answer(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        if seen is not None:
            seen.append(params.message)
        if not approve:
            return types.ElicitResult(action="decline")
        return types.ElicitResult(action="accept", content={"approve": True})

    return answer


@asynccontextmanager
async def stdio_session(
    home: Home, client: str = "test-client", elicit: Elicit | None = None, *, modern: bool = False
) -> AsyncIterator[ClientSession]:
    """Connected and initialized; ``modern``: by ``server/discover`` (protocol 2026-07-28, no
    requests from the server) instead of the ``initialize`` handshake."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "agent", "--home", str(home.root), "mcp"],
        env=_env(),
        cwd=str(ROOT),
    )
    with open(home.root / "mcp-stderr.log", "a") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(
                read,
                write,
                elicitation_callback=elicit,
                client_info=types.Implementation(name=client, version="1.0"),
            ) as session,
        ):
            await (session.discover() if modern else session.initialize())
            yield session


@contextmanager
def http_server(home: Home, token: str) -> Iterator[str]:
    """``near-agent mcp --http 0`` in its own process; yields its URL (read from its stdout)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent", "--home", str(home.root), "mcp", "--http", "0"],
        env=_env({"NEAR_AGENT_MCP_TOKEN": token}),
        cwd=str(ROOT),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "listening on " not in line:
            proc.kill()
            raise AssertionError(f"no server: {line}{proc.communicate(timeout=30)}")
        yield line.split("listening on ", 1)[1].strip()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


@asynccontextmanager
async def http_session(
    url: str, token: str, client: str = "http-client", elicit: Elicit | None = None
) -> AsyncIterator[ClientSession]:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    async with (
        http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(
            read,
            write,
            elicitation_callback=elicit,
            client_info=types.Implementation(name=client, version="2.0"),
        ) as session,
    ):
        await session.initialize()
        yield session


def data(result: types.CallToolResult) -> dict[str, Any]:
    """The call's structured content, checked to be the same JSON as its text block."""
    assert isinstance(result.structured_content, dict), result
    [block] = result.content
    assert isinstance(block, types.TextContent)
    assert json.loads(block.text) == result.structured_content
    return result.structured_content
