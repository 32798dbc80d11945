"""The deadline bounds waiting without an answer: a node that never answers ends the command
at ``deadline_s``; one that answers, however slowly in all, is never cut off by it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tools.endpoints import CommandDeadlineExceeded, FailoverTransport, RequestMeter
from tools.transport import RpcReply

DEADLINE_S = 0.3


class Node:
    """An endpoint answering each request after ``delay_s`` (None: never)."""

    def __init__(self, delay_s: float | None) -> None:
        self.delay_s = delay_s

    async def request(self, method: str, params: Any) -> RpcReply:
        if self.delay_s is None:
            await asyncio.Event().wait()  # accepted, never answered
        await asyncio.sleep(self.delay_s)
        return RpcReply(200, b'{"jsonrpc": "2.0", "id": 1, "result": {}}')

    async def close(self) -> None:
        return None


def transport(*nodes: Node) -> FailoverTransport:
    meter = RequestMeter(deadline_s=DEADLINE_S)
    return FailoverTransport([(n, f"node{i}") for i, n in enumerate(nodes)], meter=meter)


def test_a_node_that_never_answers_ends_at_the_deadline_failover_included() -> None:
    rpc = transport(Node(None), Node(None))
    started = time.monotonic()
    with pytest.raises(CommandDeadlineExceeded) as raised:
        asyncio.run(rpc.request("status", []))
    assert time.monotonic() - started < DEADLINE_S + 0.2
    assert f"within this command's {DEADLINE_S:g} s" in raised.value.message


def test_a_node_that_answers_slowly_is_never_cut_off() -> None:
    rpc = transport(Node(DEADLINE_S / 3))

    async def many() -> int:
        for _ in range(8):  # 8 answers, well past the deadline in all
            await rpc.request("status", [])
        return 8

    assert asyncio.run(many()) == 8
