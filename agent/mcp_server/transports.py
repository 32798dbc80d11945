"""How a client reaches the server: stdio (the client starts ``near-agent mcp``), or streamable
HTTP on 127.0.0.1 behind a bearer token, with the Host and Origin headers checked so a web page
cannot reach it through DNS rebinding.

The token comes from ``NEAR_AGENT_MCP_TOKEN``, or a file only its owner can read (0600), or is
generated for this run and printed once. Every HTTP request without it is refused (401) before
it reaches the MCP layer; it is compared in constant time.
"""

from __future__ import annotations

import hmac
import os
import secrets
import socket
import stat
import sys
from pathlib import Path
from typing import Any

TOKEN_ENV = "NEAR_AGENT_MCP_TOKEN"
MIN_TOKEN_CHARS = 32
MCP_PATH = "/mcp"
LOOPBACK = "127.0.0.1"


class TokenError(Exception):
    """The configured token cannot be used; the message says why and what to do."""


def _checked(token: str, where: str) -> str:
    token = token.strip()
    if len(token) < MIN_TOKEN_CHARS or not token.isprintable() or " " in token:
        raise TokenError(
            f"the token in {where} must be at least {MIN_TOKEN_CHARS} printable characters "
            "without spaces (generate one with `python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'`)"
        )
    return token


def load_token(token_file: Path | None) -> tuple[str, str]:
    """(token, where it came from): the file, the environment, or generated now."""
    if token_file is not None:
        try:
            mode = token_file.stat().st_mode
            text = token_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TokenError(f"cannot read the token file {token_file}: {exc}") from None
        if stat.S_IMODE(mode) & 0o077:
            raise TokenError(
                f"{token_file} can be read by others (mode {stat.S_IMODE(mode):o}); "
                f"make it private: chmod 600 {token_file}"
            )
        return _checked(text, str(token_file)), str(token_file)
    if env := os.environ.get(TOKEN_ENV):
        return _checked(env, TOKEN_ENV), TOKEN_ENV
    return secrets.token_urlsafe(32), "generated"


class BearerGate:
    """ASGI: only requests carrying ``Authorization: Bearer <token>``, from a process of the
    server's own user, reach the app."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":  # lifespan: the app's own start and stop
            await self.app(scope, receive, send)
            return
        from agent.peer_user import foreign_local_peer

        given = dict(scope.get("headers") or []).get(b"authorization", b"")
        foreign = foreign_local_peer(scope.get("client"), scope.get("server"))
        if hmac.compare_digest(given, self._expected) and not foreign:
            await self.app(scope, receive, send)
            return
        body = b'{"error": "unauthorized: send Authorization: Bearer <token>"}'
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"www-authenticate", b'Bearer realm="near-agent"'),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def serve_stdio(server: Any) -> None:
    """Serve on the process's stdin and stdout.

    The SDK claims fd 1 for the wire and points it at stderr, so stray output cannot corrupt the
    protocol; it needs the real stream to do that, so the CLI's redacting wrapper of stdout is
    set aside while the claim is made (what is printed afterwards is still redacted, on stderr).
    """
    from contextlib import AsyncExitStack

    from mcp.server.stdio import stdio_server

    async with AsyncExitStack() as stack:
        wrapped = sys.stdin, sys.stdout
        sys.stdin, sys.stdout = sys.__stdin__, sys.__stdout__
        try:
            read, write = await stack.enter_async_context(stdio_server())
        finally:
            sys.stdin, sys.stdout = wrapped
        await server.run(read, write, server.create_initialization_options())


def bind_loopback(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1 (``port`` 0: any free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


async def serve_http(server: Any, sock: socket.socket, token: str) -> None:
    import uvicorn
    from mcp.server.transport_security import TransportSecuritySettings

    port = sock.getsockname()[1]
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{LOOPBACK}:{port}", f"localhost:{port}"],
        allowed_origins=[f"http://{LOOPBACK}:{port}", f"http://localhost:{port}"],
    )
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH, transport_security=security, host=LOOPBACK
    )
    config = uvicorn.Config(BearerGate(app, token), log_level="warning", lifespan="on")
    await uvicorn.Server(config).serve(sockets=[sock])


def announce_http(sock: socket.socket, token: str, source: str) -> None:
    """Where to connect, and the token when it was generated for this run (stdout, once)."""
    url = f"http://{LOOPBACK}:{sock.getsockname()[1]}{MCP_PATH}"
    print(f"near-agent MCP server listening on {url}", flush=True)
    if source == "generated":
        print(f"Authorization: Bearer {token}", flush=True)
    else:
        print(f"token: from {source}", flush=True)
    sys.stdout.flush()
