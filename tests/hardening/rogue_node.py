"""A JSON-RPC node that answers whatever a test scripts: wrong shapes, garbage, lies.

Unlike ``tests.tools.fake_node`` (a faithful node with scripted faults), every answer here comes
from a per-method override, so any field of any response can be malformed. Methods not overridden
get sane answers so that a test reaches the step it means to break, or, with ``upstream`` set,
are forwarded to a real node (a devnet) and optionally rewritten on the way back: a lying proxy.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import base58
from aiohttp import ClientSession, web

Reply = bytes | dict[str, Any] | Callable[[Any], bytes | dict[str, Any]]
Rewrite = Callable[[dict[str, Any]], dict[str, Any]]


def sane(method: str, params: Any) -> dict[str, Any]:
    """A well-formed ``result`` for the reads the chain adapter makes."""
    if method == "block":
        return {"header": {"hash": base58.b58encode(bytes(32)).decode(), "height": 10}}
    kind = params.get("request_type") if isinstance(params, dict) else None
    if kind == "view_account":
        return {"amount": str(10**25), "locked": "0", "storage_usage": 100, "code_hash": "1" * 32}
    if kind == "view_access_key":
        return {"nonce": 7, "permission": "FullAccess", "block_height": 10, "block_hash": "x"}
    if kind == "call_function":
        return {"result": list(b'{"ok":true}'), "logs": [], "block_height": 10, "block_hash": "x"}
    return {}


@dataclass
class RogueNode:
    """``replies[key]``: key is the method or the query's request_type; value is the raw body
    (bytes) or the envelope (a dict, sent as JSON) or a function of the params giving either."""

    replies: dict[str, Reply] = field(default_factory=dict)
    upstream: str | None = None  # forward what is not overridden to a real node
    rewrites: dict[str, Rewrite] = field(default_factory=dict)  # edit a forwarded envelope
    seen: list[str] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def __aenter__(self) -> RogueNode:
        app = web.Application()
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        method, params = body.get("method"), body.get("params")
        key = params.get("request_type", method) if isinstance(params, dict) else method
        self.seen.append(key)
        reply = self.replies.get(key)
        if callable(reply):
            reply = reply(params)
        if reply is None and self.upstream is not None:
            reply = await self._forward(body)
            if key in self.rewrites:
                reply = self.rewrites[key](reply)
        if reply is None:
            reply = {"jsonrpc": "2.0", "id": body.get("id"), "result": sane(method, params)}
        if isinstance(reply, bytes):
            return web.Response(body=reply, content_type="application/json")
        return web.Response(body=json.dumps(reply).encode(), content_type="application/json")

    async def _forward(self, body: dict[str, Any]) -> dict[str, Any]:
        assert self.upstream is not None
        return await _forward_to(self.upstream, body)


async def _forward_to(url: str, body: dict[str, Any]) -> dict[str, Any]:
    async with ClientSession() as session, session.post(url, json=body) as response:
        return await response.json(content_type=None)


def envelope(result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": "x", "result": result}
