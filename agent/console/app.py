"""The console's routes: each page reads through agent/console/pages.py, each action calls the
library function the matching CLI command calls, audited with actor ``console``."""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from agent.console import pages
from agent.console.security import ConsoleGuard, cookie_name, csrf_for, said_mac
from agent.home import Home

if TYPE_CHECKING:
    from memory.audit import Actor

HERE = Path(__file__).parent
ACTOR: Actor = "console"


def _templates() -> Jinja2Templates:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    env.filters["segment"] = path_segment
    return Jinja2Templates(env=env)


def path_segment(value: object) -> str:
    """One path segment of a link or form action, every reserved character encoded ("/"
    included): an id (a strategy named by an MCP client, a grant id) can never walk the
    browser to another path with "..". The routes take such ids with ``:path``."""
    from urllib.parse import quote

    return quote(str(value), safe="")


class Console:
    """The page's state: the home it shows and the secret its forms carry."""

    def __init__(self, home: Home, token: str) -> None:
        self.home = home
        self._token = token
        self.csrf = csrf_for(token)
        self.templates = _templates()

    def render(self, request: Request, name: str, **context: Any) -> Response:
        flash = request.query_params.get("said", "")
        mac = request.query_params.get("mac", "")
        if not hmac.compare_digest(mac.encode(), said_mac(self._token, flash).encode()):
            flash = ""  # not the console's own words: a link carried them
        return self.templates.TemplateResponse(
            request,
            name,
            {"csrf": self.csrf, "said": flash, "page": name.removesuffix(".html"), **context},
        )

    # ------------------------------------------------------------------ pages

    async def overview(self, request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        from agent.status import read_status

        status = await run_in_threadpool(read_status, self.home)  # it runs its own event loop
        return self.render(request, "overview.html", s=status, audit=pages.audit_state(self.home))

    async def approvals(self, request: Request) -> Response:
        items = pages.pending_items(self.home)
        strategies = sorted({i.strategy_id for i in items})
        return self.render(request, "approvals.html", items=items, strategies=strategies)

    async def activity(self, request: Request) -> Response:
        from memory.audit.activity import (
            OUTCOMES,
            ActivityFilter,
            IntentNotFound,
            find,
            list_activity,
            parse_outcome,
        )

        q = request.query_params
        problem = ""
        text = q.get("text") or None
        if text and q.get("go") == "tx":  # a tx hash: straight to its story
            try:
                story = find(self.home.audit_db, text)
            except IntentNotFound as exc:
                problem = str(exc)
            else:
                return RedirectResponse(f"/activity/{story.intent.intent_id}", 303)
        try:
            outcome = parse_outcome(q["outcome"]) if q.get("outcome") else None
            flt = ActivityFilter(
                actor=q.get("actor") or None,
                strategy=q.get("strategy") or None,
                outcome=outcome,
                text=text,
            )
            units, network = pages.units_and_network(self.home)
            page = list_activity(
                self.home.audit_db,
                flt,
                limit=50,
                before_cursor=q.get("before") or None,
                units=units,
                network=network,
            )
        except ValueError as exc:
            problem, page, flt = str(exc), None, ActivityFilter()
        return self.render(
            request,
            "activity.html",
            rows=page.items if page else [],
            next_cursor=page.next_cursor if page else None,
            f=flt,
            outcomes=OUTCOMES,
            problem=problem,
        )

    async def story(self, request: Request) -> Response:
        from memory.audit.activity import IntentNotFound, find

        units, network = pages.units_and_network(self.home)
        try:
            story = find(
                self.home.audit_db, request.path_params["intent_id"], units=units, network=network
            )
        except IntentNotFound as exc:
            return self.render(request, "missing.html", problem=str(exc), status_code=404)
        return self.render(request, "story.html", s=story)

    async def grants(self, request: Request) -> Response:
        return self.render(request, "grants.html", grants=pages.grant_views(self.home))

    async def strategies(self, request: Request) -> Response:
        return self.render(request, "strategies.html", strategies=pages.strategy_views(self.home))

    async def live(self, request: Request) -> Response:
        """What changes while the daemon works, for the page's poll (no secrets, no text)."""
        return JSONResponse(pages.live_state(self.home))

    # ------------------------------------------------------------------ actions

    async def approve(self, request: Request) -> Response:
        from agent.scheduler.inbox import InboxError, approve_item
        from agent.session import describe

        item_id = request.path_params["item_id"]
        async with pages.session_inbox(self.home) as (session, inbox):
            try:
                report = await approve_item(session, inbox, item_id, _approve, actor=ACTOR)
            except InboxError as exc:
                return self._back("/approvals", str(exc))
        return self._back("/approvals", f"{item_id}: {describe(report)}")

    async def deny(self, request: Request) -> Response:
        from agent.scheduler.inbox import InboxError

        item_id = request.path_params["item_id"]
        with pages.inbox_of(self.home) as inbox:
            try:
                inbox.deny(item_id, actor=ACTOR)
            except InboxError as exc:
                return self._back("/approvals", str(exc))
        return self._back("/approvals", f"Denied {item_id}.")

    async def approve_strategy(self, request: Request) -> Response:
        from agent.scheduler.inbox import approve_all

        strategy_id = request.path_params["strategy_id"]
        async with pages.session_inbox(self.home) as (session, inbox):
            outcomes = await approve_all(session, inbox, strategy_id, _approve, actor=ACTOR)
        said = "; ".join(f"{o.item_id}: {o.message}" for o in outcomes)
        return self._back("/approvals", said or f"Nothing of {strategy_id} was waiting.")

    async def deny_strategy(self, request: Request) -> Response:
        from agent.scheduler.inbox import deny_all

        strategy_id = request.path_params["strategy_id"]
        with pages.inbox_of(self.home) as inbox:
            outcomes = deny_all(inbox, strategy_id, actor=ACTOR)
        said = "; ".join(f"{o.item_id}: {o.message}" for o in outcomes)
        return self._back("/approvals", said or f"Nothing of {strategy_id} was waiting.")

    async def revoke(self, request: Request) -> Response:
        from agent.grant_changes import UnknownGrant, revoke_grants
        from policies.engine import to_us

        grant_id = request.path_params["grant_id"]
        try:
            revoked = revoke_grants(
                self.home,
                grant_id,
                "revoked in the console",
                now_us=to_us(pages.now()),
                actor=ACTOR,
            )
        except UnknownGrant as exc:
            return self._back("/grants", str(exc))
        return self._back("/grants", f"Revoked: {', '.join(revoked) or '(no grants)'}")

    async def switch(self, request: Request) -> Response:
        from agent.cli_schedule import set_paused

        form = await request.form()
        to = form.get("to")
        if to not in ("pause", "resume"):  # never lifted (or pulled) by a mangled form
            return PlainTextResponse("Refused: say to=pause or to=resume.", 400)
        pause = to == "pause"
        set_paused(
            self.home,
            pause,
            "kill switch pulled in the console" if pause else "resumed in the console",
            actor=ACTOR,
        )
        return self._back(
            "/",
            "Paused: no scheduled action will run."
            if pause
            else "Resumed: scheduled strategies run again.",
        )

    def _back(self, path: str, said: str) -> Response:
        """Back to ``path``, showing ``said`` there (sealed as the console's own words)."""
        from urllib.parse import urlencode

        said = said[:2000]
        query = urlencode({"said": said, "mac": said_mac(self._token, said)})
        return RedirectResponse(f"{path}?{query}", 303)


def _approve(action: Any, decision: Any) -> bool:
    """The user pressed Approve on this item (and confirmed the dialog): as `approve --yes`."""
    return True


def build_app(home: Home, *, token: str, hosts: frozenset[str], port: int | None = None) -> Any:
    """The console as an ASGI app: routes behind the guard (token, Host, CSRF, CSP); ``port``
    names its cookie (see :func:`cookie_name`)."""
    c = Console(home, token)
    routes = [
        Route("/", c.overview),
        Route("/approvals", c.approvals),
        Route("/activity", c.activity),
        Route("/activity/{intent_id:path}", c.story),
        Route("/grants", c.grants),
        Route("/strategies", c.strategies),
        Route("/live", c.live),
        Route("/approvals/{item_id:path}/approve", c.approve, methods=["POST"]),
        Route("/approvals/{item_id:path}/deny", c.deny, methods=["POST"]),
        Route("/strategies/{strategy_id:path}/approve", c.approve_strategy, methods=["POST"]),
        Route("/strategies/{strategy_id:path}/deny", c.deny_strategy, methods=["POST"]),
        Route("/grants/{grant_id:path}/revoke", c.revoke, methods=["POST"]),
        Route("/switch", c.switch, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    from memory.user_files import UnusableFile

    handlers = {UnusableFile: _unusable_file}
    app = Starlette(routes=routes, exception_handlers=handlers)
    return ConsoleGuard(app, token=token, hosts=hosts, cookie=cookie_name(port))


async def _unusable_file(request: Request, exc: Exception) -> Response:
    """A damaged database or a malformed file: its name, what is wrong and what to do, as the
    CLI says it (the page cannot be shown until it is fixed)."""
    return PlainTextResponse(str(exc) + "\n", 503)
