"""Which RPC endpoints a network is reached through, and how many requests a command may make.

Why a module of its own: public NEAR endpoints are rate-limited (docs.near.org, "RPC Providers":
the near.org endpoints are deprecated and allow about 30 requests a minute), go down, and keep
old transactions only on archival nodes. So the agent talks to a *list* of endpoints, moves to
the next one when one is unreachable, failing (5xx) or rate-limiting (429, whose Retry-After it
honours up to a cap), looks old transactions up on an archival endpoint, and stops a command
that would make more requests than the user allows (``rpc.max_requests``) with a clear error.
An endpoint other than the first, and every archival one, is used only once it has said it
serves the network's chain (tools.chain_identity).

The per-network defaults below are data, declared once: the providers docs.near.org lists on
its "RPC Providers" and "Setup" pages (the near/docs repository), FastNEAR first.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tools.chain_identity import ChainGuard, ChainMismatchError, identity_from_status
from tools.errors import NetworkConfigError, RpcError, ToolError, TransientRpcError
from tools.transport import RpcReply, RpcTransport, read_result

DEFAULT_MAX_RETRY_AFTER_S = 30.0
"""The longest Retry-After the agent waits out; a longer one fails over or gives up."""

DEFAULT_RETRY_AFTER_S = 1.0
"""How long a 429 without a (readable) Retry-After keeps an endpoint aside."""

MIN_RETRY_AFTER_S = 0.1
"""The shortest rest after a 429, so that "Retry-After: 0" cannot make a busy loop."""

RATE_LIMITED_ROUNDS = 4
"""How many 429s one request takes from each endpoint before it gives up."""

DEFAULT_DEADLINE_S = 30.0
"""How long a command may wait on the network without an answer (``rpc.deadline_s``): every
request, retry, failover and Retry-After wait since the last answer together. Against a node
that never answers, this bounds the whole command; a node that answers, however slowly, or a
long-lived process's separate activities, are never cut by it."""

DEFAULT_API_KEY_HEADER = "Authorization"
"""FastNEAR takes its API key as ``Authorization: Bearer KEY`` (docs.fastnear.com, "Auth")."""


@dataclass(frozen=True)
class EndpointSet:
    """The endpoints of one network: regular ones in order of preference, and archival ones
    (which keep every transaction, for lookups of old hashes)."""

    urls: tuple[str, ...]
    archival_urls: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.urls:
            raise NetworkConfigError("an endpoint list needs at least one URL")


DEFAULT_ENDPOINTS: dict[str, EndpointSet] = {
    # docs.near.org lists FASTNEAR's free endpoint first for mainnet; Lava's public endpoint is
    # listed too; rpc.mainnet.near.org is deprecated (30 requests/min) and comes last.
    "mainnet": EndpointSet(
        urls=(
            "https://free.rpc.fastnear.com",
            "https://near.lava.build",
            "https://rpc.mainnet.near.org",
        ),
        # the deprecated but still served archival endpoint (about 4 requests/min); FASTNEAR's
        # archival service needs a paid key: set rpc.archival_urls and rpc.api_key_env for it
        archival_urls=("https://archival-rpc.mainnet.near.org",),
    ),
    "testnet": EndpointSet(
        urls=(
            "https://test.rpc.fastnear.com",
            "https://neart.lava.build",
            "https://rpc.testnet.near.org",
        ),
        archival_urls=("https://archival-rpc.testnet.near.org",),
    ),
}


def default_endpoints(network_id: str) -> EndpointSet:
    """The endpoints a public network is reached through unless agent.yaml names others."""
    try:
        return DEFAULT_ENDPOINTS[network_id]
    except KeyError:
        raise NetworkConfigError(
            f"no default RPC endpoints for network {network_id!r}; set rpc_url or rpc.urls"
        ) from None


def configured_endpoints(
    network_url: str,
    *,
    defaults: EndpointSet | None = None,
    rpc_url: str | None = None,
    urls: Sequence[str] = (),
    archival_urls: Sequence[str] = (),
) -> EndpointSet:
    """The endpoints agent.yaml's ``rpc_url`` and ``rpc:`` section name for a network.

    ``rpc.urls`` in order (``rpc_url``, the one-endpoint shorthand, first if it is not among
    them); else ``rpc_url``; else ``defaults`` (the real testnet's or mainnet's, never a devnet
    standing in for one); else ``network_url`` (a devnet's manifest). The default archival
    endpoints go with the default endpoints only: a user who names their own node names its
    archival endpoints too.
    """
    named = list(dict.fromkeys([*([rpc_url] if rpc_url else []), *urls]))
    if named:
        return EndpointSet(tuple(named), tuple(archival_urls))
    if defaults is not None:
        return EndpointSet(defaults.urls, tuple(archival_urls) or defaults.archival_urls)
    return EndpointSet((network_url,), tuple(archival_urls))


def api_key_headers(key: str | None, header: str = DEFAULT_API_KEY_HEADER) -> dict[str, str]:
    """The header an API key travels in: ``Authorization: Bearer KEY`` (FastNEAR's form), or
    the bare key under any other header name a provider asks for (e.g. ``x-api-key``)."""
    if not key:
        return {}
    if header.lower() == "authorization":
        return {"Authorization": f"Bearer {key}"}
    return {header: key}


# --------------------------------------------------------------------------- the budget


class CommandDeadlineExceeded(RpcError):
    """The command spent its whole ``rpc.deadline_s`` waiting on the network."""

    code = "rpc_deadline"


class RequestBudgetExceeded(ToolError):
    """The command would make more RPC requests than ``rpc.max_requests`` allows."""

    code = "request_budget_exceeded"


@dataclass
class RequestMeter:
    """Every RPC request one chain client made, by JSON-RPC method and by endpoint, and the
    command's budget (``max_requests``; None = unlimited).

    The budget is checked before each request and before each signature (``require``); the
    requests that learn a signed transaction's outcome are never refused (``unmetered``), so
    running out of budget can never lose a hash that was sent, nor are those of an action whose
    first transaction is signed (tools.base.execute_transactions checked the whole action's
    first): every request is counted, 429 answers included, but no action is left half-done.
    """

    max_requests: int | None = None
    deadline_s: float | None = None  # seconds of waiting on the network per command
    down_hint: str = ""  # what to do when the node does not answer (start the devnet)
    by_method: Counter[str] = field(default_factory=Counter)
    by_endpoint: Counter[str] = field(default_factory=Counter)
    rate_limited: Counter[str] = field(default_factory=Counter)  # 429 answers by endpoint
    _unmetered: int = 0  # outside any command
    # the command under way in this asyncio task (the daemon runs several fires at once, each a
    # command with its own budget, over one client): a task sees the command it (or the task
    # that made it) began, never another's
    _command: ContextVar[_CommandCount | None] = field(
        default_factory=lambda: ContextVar("request_command", default=None),
        repr=False,
        compare=False,
    )
    _waited_s: float = 0.0  # waited since the last answer, outside any command
    _begun: bool = False  # whether begin_command was called yet

    @property
    def total(self) -> int:
        return sum(self.by_method.values())

    @property
    def used(self) -> int:
        """Requests the current command made (all of them unless ``begin_command`` was called)."""
        command = self._command.get()
        return self.total if command is None else command.used

    def _unmetered_now(self) -> int:
        command = self._command.get()
        return self._unmetered if command is None else command.unmetered

    @property
    def remaining(self) -> int | None:
        return None if self.max_requests is None else max(0, self.max_requests - self.used)

    def begin_command(self) -> None:
        """A new command starts with the whole budget (a chat's next intent, a daemon's next
        fire), in this asyncio task; the counts by method and endpoint keep adding up. The
        deadline starts again too, except at the first command, which shares it with the
        session's opening (so ``near-agent do`` is bounded by one deadline in all)."""
        waited = 0.0 if self._begun else self._waited_s  # the first bears the opening's wait
        self._begun = True
        self._command.set(_CommandCount(waited_s=waited))

    # ---- the deadline: time spent waiting on the network, not time spent asking the user

    def time_left(self) -> float | None:
        """Seconds the current command may still wait on the network (None: no deadline)."""
        if self.deadline_s is None:
            return None
        command = self._command.get()
        return self.deadline_s - (self._waited_s if command is None else command.waited_s)

    def waited(self, seconds: float) -> None:
        command = self._command.get()
        if command is None:
            self._waited_s += max(0.0, seconds)
        else:
            command.waited_s += max(0.0, seconds)

    def _answered(self) -> None:
        """The node answered: the deadline bounds the wait for the next answer, from now."""
        command = self._command.get()
        if command is None:
            self._waited_s = 0.0
        else:
            command.waited_s = 0.0

    def out_of_time(self, where: str) -> CommandDeadlineExceeded:
        hint = f" {self.down_hint}" if self.down_hint else ""
        return CommandDeadlineExceeded(
            f"the RPC node ({where}) did not answer within this command's {self.deadline_s:g} s "
            f"(rpc.deadline_s in agent.yaml); nothing more was sent.{hint}",
            endpoint=where,
            deadline_s=self.deadline_s,
        )

    async def bounded(self, request: Awaitable[RpcReply], where: str) -> RpcReply:
        """Await one request within what is left of the deadline, counting the time it took."""
        left = self.time_left()
        if left is not None and left <= 0:
            if hasattr(request, "close"):
                request.close()
            raise self.out_of_time(where)
        started = time.monotonic()
        try:
            reply = await (request if left is None else asyncio.wait_for(request, left))
        except TimeoutError:
            self.waited(time.monotonic() - started)
            raise self.out_of_time(where) from None
        except BaseException:
            self.waited(time.monotonic() - started)
            raise
        self._answered()  # an answer (even an error or a 429): the node is there
        return reply

    async def pause(self, seconds: float, where: str) -> None:
        """Wait before a retry, within the deadline (CommandDeadlineExceeded when it would
        pass it)."""
        left = self.time_left()
        if left is not None and seconds > left:
            raise self.out_of_time(where)
        await asyncio.sleep(seconds)
        self.waited(seconds)

    def spend(self, method: str, where: str) -> None:
        """Count one request about to be sent; RequestBudgetExceeded if none is left."""
        limit = self.max_requests
        if self._unmetered_now() == 0 and limit is not None and self.used >= limit:
            raise RequestBudgetExceeded(
                f"this command reached its limit of {self.max_requests} RPC requests "
                f"(rpc.max_requests in agent.yaml) before {method}; nothing more was sent. "
                "Raise the limit or try a smaller request.",
                max_requests=self.max_requests,
                used=self.used,
            )
        self.by_method[method] += 1
        self.by_endpoint[where] += 1
        command = self._command.get()
        if command is not None:
            command.used += 1

    def require(self, needed: int, what: str) -> None:
        """Refuse, before anything is signed, a step that needs more requests than are left."""
        left = self.remaining
        if left is not None and self._unmetered_now() == 0 and needed > left:
            raise RequestBudgetExceeded(
                f"{what} needs up to {needed} more RPC requests but this command has "
                f"{left} of its {self.max_requests} left (rpc.max_requests in agent.yaml); "
                "nothing was signed.",
                max_requests=self.max_requests,
                used=self.used,
            )

    def unmetered(self) -> _Unmetered:
        """A context in which requests are counted but never refused (a sent transaction's
        lookups: its hash must never be lost to the budget)."""
        return _Unmetered(self)

    def snapshot(self) -> dict[str, Any]:
        """What a benchmark or a status line reads: totals by method and endpoint."""
        return {
            "total": self.total,
            "command": self.used,
            "by_method": dict(self.by_method),
            "by_endpoint": dict(self.by_endpoint),
            "rate_limited": dict(self.rate_limited),
            "max_requests": self.max_requests,
        }


@dataclass
class _CommandCount:
    """One command's requests, how deep it is in ``unmetered`` contexts, and how long it has
    waited on the network (against ``deadline_s``)."""

    used: int = 0
    unmetered: int = 0
    waited_s: float = 0.0


class _Unmetered:
    """Unmetered for the command under way in this task only (outside any command: for the
    whole meter)."""

    def __init__(self, meter: RequestMeter) -> None:
        self._meter = meter
        self._command: _CommandCount | None = None

    def __enter__(self) -> None:
        self._command = self._meter._command.get()
        if self._command is None:
            self._meter._unmetered += 1
        else:
            self._command.unmetered += 1

    def __exit__(self, *exc: object) -> None:
        if self._command is None:
            self._meter._unmetered -= 1
        else:
            self._command.unmetered -= 1


# --------------------------------------------------------------------------- 429 handling


class RateLimitedError(RpcError):
    """Every endpoint is rate-limiting beyond what the agent waits out. Not a TransientRpcError:
    the transport already waited what it may, so retrying at once would only be refused again."""

    code = "rpc_rate_limited"


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """A Retry-After header in seconds: delta-seconds or an HTTP date (RFC 9110 10.2.3);
    None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (now if now is not None else datetime.now(UTC).timestamp())
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


@dataclass
class _Endpoint:
    transport: RpcTransport
    where: str
    resting_until: float = 0.0  # monotonic time before which a 429 keeps it aside
    asked_wait_s: float = 0.0


class FailoverTransport:
    """An :class:`RpcTransport` over several endpoints, tried in order of preference.

    An endpoint that is unreachable or answers HTTP 5xx passes the request to the next one; a
    429 rests the endpoint for its Retry-After and passes on too. When every endpoint is resting,
    the shortest rest is waited out if it is at most ``max_retry_after_s``; otherwise
    RateLimitedError names the endpoint and the wait. The endpoint that answered stays preferred.
    Sending the same request to another endpoint is safe: reads are reads, and a transaction is
    only ever re-sent as the same signed bytes (it cannot execute twice).

    With a ``guard`` (tools.chain_identity), an endpoint is asked which chain it serves before
    its first use and never used if it serves another; the first endpoint is trusted as is when
    ``trust_first`` and the guard's chain comes from configuration (the primary of a devnet or a
    public network: no extra request on the normal path), never for archival ones. When the
    guard knows no chain yet (a custom network), the first regular endpoint to answer names it
    (a dead first endpoint fails over like any other); an archival transport (not
    ``trust_first``) never names it, and asks ``reference`` (by default its own first endpoint;
    given the regular FailoverTransport, the first regular endpoint to answer).
    A ``status`` request that checks an endpoint is its own answer: it is sent once.
    """

    def __init__(
        self,
        endpoints: Sequence[tuple[RpcTransport, str]],
        *,
        meter: RequestMeter | None = None,
        max_retry_after_s: float = DEFAULT_MAX_RETRY_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        guard: ChainGuard | None = None,
        trust_first: bool = True,
        reference: tuple[RpcTransport, str] | None = None,
    ) -> None:
        if not endpoints:
            raise NetworkConfigError("a failover transport needs at least one endpoint")
        self._endpoints = [_Endpoint(t, where) for t, where in endpoints]
        self._guard = guard
        self._trust_first = trust_first
        self._reference = reference or (endpoints[0][0], endpoints[0][1])
        self.meter = meter if meter is not None else RequestMeter()
        self.max_retry_after_s = max_retry_after_s
        self._clock = clock
        self._sleep = sleep
        self._preferred = 0

    @property
    def where(self) -> str:
        return ", ".join(e.where for e in self._endpoints)

    def __repr__(self) -> str:
        return f"FailoverTransport({self.where!r})"

    async def request(self, method: str, params: Any) -> RpcReply:
        failed: dict[int, str] = {}  # endpoints that failed this request, and how
        wrong_chain = False  # whether one of them serves another chain
        for i, known in enumerate(self._endpoints):
            if self._guard is not None and (why := self._guard.refusal(known.where)):
                failed[i], wrong_chain = why, True
        last_5xx: RpcReply | None = None
        count = len(self._endpoints)
        refusals = 0  # 429s this request met
        while True:
            now = self._clock()
            order = [(self._preferred + i) % count for i in range(count)]
            ready = [
                i for i in order if i not in failed and self._endpoints[i].resting_until <= now
            ]
            if not ready:
                resting = [i for i in order if i not in failed]
                if not resting:
                    if wrong_chain:
                        raise ChainMismatchError(
                            "no RPC endpoint of this network answered: "
                            + "; ".join(failed.values())
                        )
                    if last_5xx is not None:
                        return last_5xx  # the node's own error body tells the caller more
                    hint = f" {self.meter.down_hint}" if self.meter.down_hint else ""
                    raise TransientRpcError(
                        "no RPC endpoint answered: " + "; ".join(failed.values()) + hint
                    )
                soonest = min(resting, key=lambda i: self._endpoints[i].resting_until)
                endpoint = self._endpoints[soonest]
                wait = endpoint.resting_until - now
                if wait > self.max_retry_after_s:
                    raise RateLimitedError(
                        f"RPC {endpoint.where} is rate-limiting requests (HTTP 429) and asks to "
                        f"wait {endpoint.asked_wait_s:.0f} s, longer than the "
                        f"{self.max_retry_after_s:.0f} s this agent waits "
                        "(rpc.max_retry_after_s); try again later, or add an endpoint or an API "
                        "key (rpc.urls, rpc.api_key_env)",
                        cause="RATE_LIMITED",
                        endpoint=endpoint.where,
                        retry_after_s=endpoint.asked_wait_s,
                    )
                left = self.meter.time_left()
                if left is not None and wait > left:
                    raise self.meter.out_of_time(endpoint.where)
                await self._sleep(wait)
                self.meter.waited(wait)
                continue
            index = ready[0]
            endpoint = self._endpoints[index]
            checking = self._unchecked(index)
            if checking and self._needs_reference():
                await self._learn_reference(endpoint.where)
                continue  # the reference may be this very endpoint: decide again
            call, args = ("status", []) if checking else (method, params)
            self.meter.spend(call, endpoint.where)
            try:
                reply = await self.meter.bounded(
                    endpoint.transport.request(call, args), endpoint.where
                )
            except TransientRpcError as exc:
                failed[index] = f"{endpoint.where} unreachable ({exc.message})"
                continue
            if reply.status == 429:
                asked = retry_after_seconds(reply.retry_after)
                wait = DEFAULT_RETRY_AFTER_S if asked is None else max(asked, MIN_RETRY_AFTER_S)
                endpoint.asked_wait_s = wait
                endpoint.resting_until = self._clock() + wait
                self.meter.rate_limited[endpoint.where] += 1
                refusals += 1
                if refusals >= RATE_LIMITED_ROUNDS * count:
                    raise RateLimitedError(
                        f"RPC {endpoint.where} kept answering HTTP 429 (rate-limiting requests) "
                        f"after {refusals} tries; try again later, or add an endpoint or an API "
                        "key (rpc.urls, rpc.api_key_env)",
                        cause="RATE_LIMITED",
                        endpoint=endpoint.where,
                    )
                continue
            if reply.status >= 500:
                failed[index] = f"{endpoint.where} answered HTTP {reply.status}"
                last_5xx = None if checking else reply
                continue
            if checking:
                try:
                    self._judge(endpoint.where, reply)
                except ChainMismatchError as exc:
                    failed[index], wrong_chain = exc.message, True
                    continue
                except RpcError as exc:
                    failed[index] = (
                        f"{endpoint.where} did not say which chain it serves ({exc.message})"
                    )
                    continue
                if method != "status":
                    continue  # verified: the request itself goes next
            self._preferred = index
            return reply

    def _unchecked(self, index: int) -> bool:
        """Whether endpoint ``index`` must be asked which chain it serves before it is used."""
        if self._guard is None:
            return False
        if self._trust_first and index == 0 and self._guard.configured:
            return False
        return not self._guard.verified(self._endpoints[index].where)

    def _judge(self, where: str, reply: RpcReply) -> None:
        """Hold ``where`` to the guard's chain; a regular endpoint of a network whose chain is
        not known yet names it (the first to answer)."""
        assert self._guard is not None
        served = identity_from_status(read_result(reply, "status", where), where)
        if self._trust_first:
            self._guard.establish(where, served)
        self._guard.judge(where, served)

    def _needs_reference(self) -> bool:
        """Whether the chain must be learned elsewhere before an endpoint here is checked: an
        archival endpoint never names a network's chain."""
        return not self._trust_first and self._guard is not None and self._guard.expected is None

    async def _learn_reference(self, checking: str) -> None:
        """Ask the reference endpoint which chain it serves (the network's chain is not known
        yet); ChainMismatchError when it cannot tell, since then ``checking`` cannot be
        checked."""
        assert self._guard is not None
        transport, where = self._reference
        if isinstance(transport, FailoverTransport):  # the regular endpoints: the first to
            try:  # answer names the chain as it is checked (it meters and fails over itself)
                await transport.request("status", [])
            except RpcError as exc:
                raise ChainMismatchError(
                    f"cannot check that endpoint {checking} serves this network's chain: no "
                    f"endpoint said which chain it serves ({exc.message})",
                    endpoint=checking,
                ) from exc
            if self._guard.expected is None:  # a guard-less or trusting reference: ask again
                raise ChainMismatchError(
                    f"cannot check that endpoint {checking} serves this network's chain: "
                    f"{where} named none",
                    endpoint=checking,
                )
            return
        self.meter.spend("status", where)
        try:
            reply = await self.meter.bounded(transport.request("status", []), where)
            served = identity_from_status(read_result(reply, "status", where), where)
        except RpcError as exc:
            raise ChainMismatchError(
                f"cannot check that endpoint {checking} serves this network's chain: {where}, "
                f"which names the chain ({self._guard.source}), did not say which chain it "
                f"serves ({exc.message})",
                endpoint=checking,
            ) from exc
        self._guard.establish(where, served)
        self._guard.judge(where, served)

    async def close(self) -> None:
        for endpoint in self._endpoints:
            await endpoint.transport.close()
