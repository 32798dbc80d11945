"""What keeps the console's page to its user: a secret token, CSRF tokens, the Host check, CSP.

The page runs on the user's machine, where any web site in the same browser could send it
requests. So: every request needs the secret the console printed (taken once from the URL,
then kept in an HttpOnly SameSite=Strict cookie); every POST also carries a CSRF token; a
connection from another user of this machine is refused (a browser sends the cookie to every
port of 127.0.0.1, so another user's page there receives it); a Host header other than the one
the console serves on is refused (DNS rebinding); a strict Content-Security-Policy forbids
inline script, so text from the chain or a model cannot run.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

COOKIE = "near_agent_console"
TOKEN_PARAM = "token"
CSRF_FIELD = "csrf"
MAX_FORM_BYTES = 64 * 1024
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # the token is in the first URL (redirected at once); never sent to another site
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def cookie_name(port: int | None) -> str:
    """The cookie of the console on ``port``: a browser keeps one cookie per name for every
    port of a host, so each console (one per home) needs a name of its own."""
    return COOKIE if port is None else f"{COOKIE}_{port}"


def csrf_for(token: str) -> str:
    """The CSRF token the page embeds in its forms: derived from the secret, never the secret."""
    return hmac.new(token.encode(), b"csrf", hashlib.sha256).hexdigest()


def said_mac(token: str, said: str) -> str:
    """The seal on the line a page shows after an action (``?said=...&mac=...``): a link from
    another page on 127.0.0.1 (the same site, so it arrives with the cookie) cannot forge it."""
    return hmac.new(token.encode(), b"said\0" + said.encode(), hashlib.sha256).hexdigest()


def is_loopback(host: str) -> bool:
    """A loopback address, or localhost; a name that merely starts with "127." is a name, which
    can resolve to any address."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def allowed_hosts(host: str, port: int, extra: Iterable[str] = ()) -> frozenset[str]:
    """The Host header values a browser sends for this console (and nothing a rebinding DNS
    name could send); ``extra``: this machine's own names, when it listens on every address."""
    names = set(LOOPBACK) | {host} | set(extra)
    return frozenset(f"[{name}]:{port}" if ":" in name else f"{name}:{port}" for name in names)


@dataclass(frozen=True)
class Refusal:
    status: int
    text: str


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _cookie(scope: dict[str, Any], name: str) -> str | None:
    raw = _header(scope, b"cookie") or ""
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


class ConsoleGuard:
    """ASGI middleware: Host check, token (URL once, then cookie), CSRF on POST, headers."""

    def __init__(self, app: Any, *, token: str, hosts: Iterable[str], cookie: str = COOKIE) -> None:
        self.app = app
        self.token = token
        self.cookie = cookie
        self.csrf = csrf_for(token)
        self.hosts = frozenset(hosts)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._check_request(scope)
        if refusal is not None:
            await _plain(send, refusal)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if TOKEN_PARAM in query:  # the printed URL: trade the token for a cookie, drop it
            rest = {k: v for k, v in query.items() if k != TOKEN_PARAM}
            location = scope["path"] + ("?" + urlencode(rest, doseq=True) if rest else "")
            await _redirect(send, location, self.cookie, self.token)
            return
        if scope["method"] == "POST":
            body = await _read_body(receive)
            if body is None:
                await _plain(send, Refusal(413, "Request too large."))
                return
            form = parse_qs(body.decode("utf-8", "replace"))
            sent = (form.get(CSRF_FIELD) or [""])[0]
            if not hmac.compare_digest(sent.encode(), self.csrf.encode()):
                await _plain(send, Refusal(403, "Refused: the form's CSRF token is missing."))
                return
            receive = _replay(body)
        await self.app(scope, receive, _with_headers(send))

    def _check_request(self, scope: dict[str, Any]) -> Refusal | None:
        from agent.peer_user import foreign_local_peer

        if foreign_local_peer(scope.get("client"), scope.get("server")):
            return Refusal(403, "Refused: this console serves only the user who started it.")
        host = _header(scope, b"host")
        if host not in self.hosts:
            return Refusal(421, "Refused: this console does not answer to that Host name.")
        origin = _header(scope, b"origin")
        if origin is not None and origin.split("://", 1)[-1] not in self.hosts:
            return Refusal(403, "Refused: the request came from another site.")
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        offered = (query.get(TOKEN_PARAM) or [None])[0] or _cookie(scope, self.cookie)
        if offered is None or not hmac.compare_digest(offered.encode(), self.token.encode()):
            return Refusal(
                403, "Refused: open the console with the URL `near-agent console` printed."
            )
        if scope["method"] not in ("GET", "HEAD", "POST"):
            return Refusal(405, "Method not allowed.")
        return None


async def _read_body(receive: Any) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes) -> Any:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _with_headers(send: Any) -> Any:
    async def wrapped(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *HEADERS]}
        await send(message)

    return wrapped


async def _plain(send: Any, refusal: Refusal) -> None:
    body = (refusal.text + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": refusal.status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), *HEADERS],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _redirect(send: Any, location: str, name: str, token: str) -> None:
    cookie = f"{name}={token}; HttpOnly; SameSite=Strict; Path=/"
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", location.encode()),
                (b"set-cookie", cookie.encode()),
                *HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})
