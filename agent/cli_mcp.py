"""``near-agent mcp``: serve the agent's policy-guarded tools to an MCP client.

The MCP SDK and the agent session load only when this command runs (agent/mcp_server/).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from agent.home import Home


def mcp(
    ctx: typer.Context,
    http: Annotated[
        int | None,
        typer.Option(
            "--http",
            metavar="PORT",
            min=0,
            max=65535,
            help="Serve streamable HTTP on 127.0.0.1:PORT (0: any free port) behind a bearer "
            "token, instead of stdio.",
        ),
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file",
            help="With --http: read the bearer token from this file (mode 0600); default: "
            "$NEAR_AGENT_MCP_TOKEN, else a new token printed at start.",
        ),
    ] = None,
) -> None:
    """Serve balance, transfer, swap, tasks, check and recent activity to an MCP client, every
    call under your grants and in the audit log (stdio unless --http)."""
    import anyio

    home: Home = ctx.obj
    if token_file is not None and http is None:
        typer.echo("--token-file goes with --http PORT.", err=True)
        raise typer.Exit(2)
    try:
        anyio.run(_serve, home, http, token_file)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


async def _serve(home: Home, http: int | None, token_file: Path | None) -> None:
    from contextlib import asynccontextmanager

    from agent.config import ConfigError
    from agent.mcp_server import transports
    from agent.mcp_server.server import build_server, open_app
    from tools.errors import ToolError

    sock = token = source = None
    if http is not None:
        try:
            token, source = transports.load_token(token_file)
            sock = transports.bind_loopback(http)
        except (transports.TokenError, OSError) as exc:
            typer.echo(f"near-agent mcp: {exc}", err=True)
            raise typer.Exit(2) from None
    try:
        opened = open_app(home)
        app = await opened.__aenter__()
    except (ConfigError, ToolError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    try:

        @asynccontextmanager
        async def lifespan(_: Any) -> Any:
            yield app

        server = build_server(lifespan)
        if sock is None:
            await transports.serve_stdio(server)
        else:
            assert token is not None and source is not None
            transports.announce_http(sock, token, source)
            await transports.serve_http(server, sock, token)
    finally:
        await opened.__aexit__(None, None, None)
