"""Failover over any mix of endpoint behaviours: what it returns, what it counts, how it waits.

The endpoints are in-process transports (the edge of the world: the network) scripted per
request: answer, be unreachable, answer HTTP 503, or answer 429 with a Retry-After. The clock is
virtual, so waits are measured exactly and cost nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

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
