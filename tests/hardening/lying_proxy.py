"""A lying HTTP proxy in front of a real node (a devnet), for end-to-end tests over real HTTP.

The chain client's own logic is tested in process (``tests.support.fake_chain``); this proxy is
for what only a socket shows: the whole agent pointed at a URL whose answers are rewritten on
their way back (``rewrites``), and the HTTP transport meeting replies a real node sends with an
HTTP status of its own (``answers``: method or request_type -> (status, body), not forwarded).
A view call is keyed ``call_function:<method_name>`` first, then ``call_function``, so one
contract method's answer can be rewritten alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, web

Rewrite = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class LyingProxy:
    upstream: str
    rewrites: dict[str, Rewrite] = field(default_factory=dict)  # edit a forwarded envelope
    answers: dict[str, tuple[int, bytes]] = field(default_factory=dict)  # answered, not forwarded
    seen: list[str] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)  # each request's header
    url: str = ""
    _runner: web.AppRunner | None = None

    async def __aenter__(self) -> LyingProxy:
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
        self.authorizations.append(request.headers.get("Authorization"))
        if key in self.answers:
            status, raw = self.answers[key]
            return web.Response(status=status, body=raw, content_type="application/json")
        async with ClientSession() as session, session.post(self.upstream, json=body) as response:
            reply = await response.json(content_type=None)
        view = f"{key}:{params.get('method_name')}" if key == "call_function" else None
        if view in self.rewrites:
            reply = self.rewrites[view](reply)
        elif key in self.rewrites:
            reply = self.rewrites[key](reply)
        return web.json_response(reply)
