"""The RPC transport seam: how one JSON-RPC request reaches a node and what comes back.

Why a seam: the chain client's logic (retries, exactly-once delivery, refusing malformed answers)
is the same whatever carries the bytes, so it is tested against an in-process transport, and the
real one (HTTP, below) stays a thin layer checked end to end against the devnet. Why HTTP read
here rather than through py-near: nearcore answers some errors with HTTP 408, 429 or 5xx and a
JSON-RPC body; py-near flattens every non-200 reply into ``RPC_ERROR``, losing the cause.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from tools.errors import RpcError, TransientRpcError
from tools.rpc_errors import classify_rpc_error

if TYPE_CHECKING:
    import aiohttp  # imported where a request is made: planning never loads it


@dataclass(frozen=True)
class RpcReply:
    """What a node answered one request with: the HTTP status, the raw body, and the
    Retry-After header of a 429 (a rate limit says how long to wait there)."""

    status: int
    body: bytes
    retry_after: str | None = None


class RpcTransport(Protocol):
    """Carries one JSON-RPC request to a node; raises TransientRpcError when nothing came back."""

    async def request(self, method: str, params: Any) -> RpcReply: ...

    async def close(self) -> None: ...


def display_url(url: str) -> str:
    """The URL without its credentials (an API key may sit in its user part), for messages."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def read_result(reply: RpcReply, method: str, where: str) -> Any:
    """The ``result`` of a JSON-RPC reply, or the typed error it carries.

    An error body is classified whatever the HTTP status (nearcore sends TIMEOUT_ERROR with 408,
    INTERNAL_ERROR with 500); any other non-200 reply, and a body that is not a JSON-RPC answer,
    is transient: the request may be tried again (a read) or its transaction looked up by hash.
    """
    try:
        envelope = json.loads(reply.body.decode("utf-8")) if reply.body else None
    except (UnicodeDecodeError, ValueError):
        envelope = None
    error = envelope.get("error") if isinstance(envelope, Mapping) else None
    if isinstance(error, Mapping):
        raise classify_rpc_error(error)
    if reply.status != 200:
        raise TransientRpcError(
            f"RPC {where} answered {method} with HTTP {reply.status}", cause="HTTP_ERROR"
        )
    if error is not None:
        raise RpcError(f"RPC error: {error}")
    if envelope is None:
        raise TransientRpcError(f"RPC {where} did not answer {method}")
    if not isinstance(envelope, Mapping):
        raise TransientRpcError(f"RPC {where} answered garbage to {method}")
    if "result" not in envelope:
        raise TransientRpcError(f"RPC {where} answered {method} without a result")
    return envelope["result"]


class HttpTransport:
    """JSON-RPC over HTTP POST with aiohttp; one session per event loop.

    ``headers`` go with every request (an API key: see tools.endpoints). A URL of the form
    ``https://KEY@host`` sends KEY as a bearer token (as py-near did).
    """

    def __init__(
        self, url: str, *, timeout_s: float = 10.0, headers: Mapping[str, str] | None = None
    ) -> None:
        parts = urlsplit(url)
        self._headers: dict[str, str] = dict(headers or {})
        if "@" in parts.netloc:
            key, host = parts.netloc.rsplit("@", 1)
            self._headers["Authorization"] = f"Bearer {key}"
            parts = parts._replace(netloc=host)
        self._post_url = urlunsplit(parts)
        self.where = display_url(url)
        self.timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"HttpTransport({self.where!r})"

    def _session_here(self) -> aiohttp.ClientSession:
        import aiohttp

        loop = asyncio.get_running_loop()
        if self._session is None or self._session_loop is not loop or self._session.closed:
            # a session from another (finished) loop cannot be used or closed from this one
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_s)
            )
            self._session_loop = loop
        return self._session

    async def request(self, method: str, params: Any) -> RpcReply:
        import aiohttp

        payload = {"jsonrpc": "2.0", "id": "dontcare", "method": method, "params": params}
        try:
            async with self._session_here().post(
                self._post_url, json=payload, headers=self._headers
            ) as response:
                return RpcReply(
                    response.status, await response.read(), response.headers.get("Retry-After")
                )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise TransientRpcError(
                f"RPC {self.where} unreachable ({type(exc).__name__}: {exc})"
            ) from exc

    async def close(self) -> None:
        """Close the HTTP session (only from the event loop that opened it)."""
        session, loop = self._session, self._session_loop
        self._session = None
        if session is not None and loop is asyncio.get_running_loop():
            await session.close()
