"""Counting the JSON-RPC requests a devnet node answers, whichever process sent them.

The node runs in the test's process, so its method table can record each request before
answering it; nothing about the answer changes. Contract views are recorded by their method
name (``view:get_pools``) with their arguments.
"""

from __future__ import annotations

import base64
import json
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from devnet.server import RunningDevnet


@dataclass
class RpcLog:
    entries: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, args: dict[str, Any]) -> None:
        with self._lock:
            self.entries.append((name, args))

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()

    @property
    def total(self) -> int:
        return len(self.entries)

    def counts(self) -> Counter[str]:
        return Counter(name for name, _ in self.entries)

    def calls(self, name: str) -> list[dict[str, Any]]:
        return [args for n, args in self.entries if n == name]


def _name(method: str, params: Any) -> tuple[str, dict[str, Any]]:
    if method == "query" and isinstance(params, dict):
        if params.get("request_type") == "call_function":
            raw = base64.b64decode(params.get("args_base64") or "")
            return f"view:{params['method_name']}", json.loads(raw or b"{}")
        return f"query:{params.get('request_type')}", {}
    return method, {}


@contextmanager
def recording(devnet: RunningDevnet) -> Iterator[RpcLog]:
    """Record every request the node answers while the block runs."""
    node = devnet.devnet.node
    original = dict(node.methods)
    log = RpcLog()

    def wrap(method: str, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        async def recorded(params: Any) -> Any:
            log.add(*_name(method, params))
            return await handler(params)

        return recorded

    node.methods.update({m: wrap(m, h) for m, h in original.items()})
    try:
        yield log
    finally:
        node.methods.update(original)
