"""Failover over any mix of endpoint behaviours: what it returns, what it counts, how it waits.

The endpoints are in-process transports (the edge of the world: the network) scripted per
request: answer, be unreachable, answer HTTP 503, or answer 429 with a Retry-After. The clock is
virtual, so waits are measured exactly and cost nothing.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from tools.chain_identity import ChainGuard, ChainIdentity, ChainMismatchError
from tools.endpoints import (
    RATE_LIMITED_ROUNDS,
    FailoverTransport,
    RateLimitedError,
    RequestMeter,
)
from tools.errors import RpcError, TransientRpcError
from tools.transport import RpcReply

CAP = 5.0
Behaviour = tuple[str, float]  # ("ok" | "down" | "503" | "429", retry_after)


@dataclass
class Scripted:
    name: str
    script: list[Behaviour]
    calls: int = 0
    answered_at: list[float] = field(default_factory=list)

    async def request(self, method: str, params: object) -> RpcReply:
        kind, wait = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        if kind == "down":
            raise TransientRpcError(f"{self.name} refused the connection")
        if kind == "503":
            return RpcReply(503, b"busy")
        if kind == "429":
            return RpcReply(429, b"slow down", f"{wait:g}")
        return RpcReply(200, self.name.encode())

    async def close(self) -> None:
        pass

    def seen(self) -> list[Behaviour]:
        """What this endpoint did, request by request (its last behaviour repeats)."""
        return [self.script[min(i, len(self.script) - 1)] for i in range(self.calls)]


behaviour = st.one_of(
    st.just(("ok", 0.0)),
    st.just(("down", 0.0)),
    st.just(("503", 0.0)),
    st.tuples(st.just("429"), st.sampled_from([0.0, 1.0, 3.0, 10.0])),
)


@given(scripts=st.lists(st.lists(behaviour, min_size=1, max_size=4), min_size=1, max_size=3))
def test_failover_answers_counts_and_waits_as_promised(scripts: list[list[Behaviour]]) -> None:
    clock = [0.0]
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    endpoints = [Scripted(f"e{i}", script) for i, script in enumerate(scripts)]
    meter = RequestMeter()
    transport = FailoverTransport(
        [(e, e.name) for e in endpoints],
        meter=meter,
        max_retry_after_s=CAP,
        clock=lambda: clock[0],
        sleep=sleep,
    )

    async def main() -> RpcReply | BaseException:
        try:
            return await transport.request("query", {})
        except RpcError as exc:  # TransientRpcError or RateLimitedError
            return exc

    result = asyncio.run(main())
    # every request sent was counted, against the endpoint it went to
    assert meter.total == sum(e.calls for e in endpoints)
    assert all(meter.by_endpoint[e.name] == e.calls for e in endpoints)
    # it only waits out a Retry-After the cap allows, and only when no endpoint is ready
    assert all(0 < s <= CAP for s in sleeps)
    if isinstance(result, RpcReply):
        # an answer is an endpoint's "ok" or, when every endpoint failed, the last 503
        assert result.status in (200, 503)
        if result.status == 503:
            assert all(any(kind in ("503", "down") for kind, _ in e.seen()) for e in endpoints)
    elif isinstance(result, RateLimitedError):
        asked = [w for e in endpoints for kind, w in e.seen() if kind == "429"]
        # it gives up only on a wait longer than the cap, or after a bounded number of 429s
        if "longer than the 5 s" in result.message:
            assert max(asked) > CAP
        else:
            assert "kept answering HTTP 429" in result.message
            assert len(asked) == RATE_LIMITED_ROUNDS * len(endpoints)
    else:
        assert "no RPC endpoint answered" in result.message


def test_the_budget_counts_the_current_command_only() -> None:
    meter = RequestMeter(max_requests=2)
    meter.spend("query", "e")
    meter.spend("query", "e")
    meter.begin_command()
    meter.spend("block", "e")
    assert meter.used == 1 and meter.total == 3 and meter.remaining == 1
    assert meter.snapshot()["by_method"] == {"query": 2, "block": 1}


@dataclass
class OnChain(Scripted):
    """A scripted endpoint serving ``chain``: it answers ``status`` with that chain's identity
    (when its behaviour is "ok") and records every other request it received."""

    chain: str = "A"
    asked: list[str] = field(default_factory=list)

    async def request(self, method: str, params: object) -> RpcReply:
        self.asked.append(method)
        reply = await super().request(method, params)
        if method == "status" and reply.status == 200:
            body = {"jsonrpc": "2.0", "id": "x", "result": {"chain_id": "devnet"}}
            body["result"]["genesis_hash"] = f"genesis-{self.chain}"  # type: ignore[index]
            return RpcReply(200, json.dumps(body).encode())
        return reply


@given(
    scripts=st.lists(
        st.tuples(st.sampled_from("AB"), st.lists(behaviour, min_size=1, max_size=3)),
        min_size=1,
        max_size=3,
    ),
    trust_first=st.booleans(),
)
def test_no_endpoint_of_another_chain_is_used(
    scripts: list[tuple[str, list[Behaviour]]], trust_first: bool
) -> None:
    """Whatever the endpoints do, a guarded transport sends nothing but ``status`` to an
    endpoint of another chain (the trusted primary aside), answers only from one of its own
    chain, and asks each endpoint which chain it serves at most once per guard."""
    clock = [0.0]

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    endpoints = [OnChain(f"e{i}", script, chain=c) for i, (c, script) in enumerate(scripts)]
    guard = ChainGuard(ChainIdentity("devnet", "genesis-A"), "the test")
    transport = FailoverTransport(
        [(e, e.name) for e in endpoints],
        max_retry_after_s=CAP,
        clock=lambda: clock[0],
        sleep=sleep,
        guard=guard,
        trust_first=trust_first,
    )

    async def main() -> list[RpcReply | BaseException]:
        results: list[RpcReply | BaseException] = []
        for _ in range(2):
            try:
                results.append(await transport.request("query", {}))
            except RpcError as exc:
                results.append(exc)
        return results

    for result in asyncio.run(main()):
        if isinstance(result, RpcReply) and result.status == 200:
            assert result.body.decode() in [
                e.name
                for i, e in enumerate(endpoints)
                if e.chain == "A" or (trust_first and i == 0)
            ]
        if isinstance(result, ChainMismatchError):
            assert any(e.chain == "B" and "status" in e.asked for e in endpoints)
    for i, e in enumerate(endpoints):
        if e.chain == "B" and not (trust_first and i == 0):
            assert set(e.asked) <= {"status"}
        answered = [
            kind for method, (kind, _) in zip(e.asked, e.seen(), strict=True) if method == "status"
        ]
        assert answered.count("ok") <= 1  # a verified (or refused) endpoint is not asked again
