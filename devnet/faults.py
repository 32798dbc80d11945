"""Fault injection for the devnet's RPC server: the network failures clients must survive.

Off by default. Tests switch faults on at runtime; each fault fires either for the next N
matching requests or with a probability, optionally only for given JSON-RPC methods::

    node.faults.lose_response(next_n=1, methods=["broadcast_tx_commit"])  # applied, no answer
    node.faults.timeout(next_n=2, applied=True)  # TIMEOUT_ERROR after applying the tx
    node.faults.http_error(502, probability=0.2)
    node.faults.latency(0.5, methods=["query"], probability=1.0)
    node.faults.clear()
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypedDict, Unpack


class FaultKind(StrEnum):
    LATENCY = "latency"  # answer late
    DROP = "drop"  # close the connection without answering; nothing is applied
    TIMEOUT = "timeout"  # answer TIMEOUT_ERROR (after applying the tx when ``applied``)
    HTTP_ERROR = "http_error"  # answer an HTTP 5xx; nothing is applied
    LOSE_RESPONSE = "lose_response"  # apply the request, then close without answering


@dataclass
class FaultRule:
    kind: FaultKind
    probability: float = 0.0
    remaining: int | None = None  # fire for the next N matching requests
    methods: frozenset[str] | None = None
    latency_s: float = 0.0
    status: int = 503
    applied: bool = False  # TIMEOUT: whether the transaction is applied before the timeout
    fired: int = 0

    def matches(self, method: str) -> bool:
        return self.methods is None or method in self.methods


class When(TypedDict, total=False):
    """Which requests a fault fires for: the keyword arguments every shorthand passes on."""

    probability: float
    next_n: int | None
    methods: Iterable[str] | None
    applied: bool


@dataclass
class FaultController:
    """The set of active fault rules; thread-safe, since tests set it from another thread."""

    rules: list[FaultRule] = field(default_factory=list)
    fired: Counter[str] = field(default_factory=Counter)
    rng: random.Random = field(default_factory=random.Random)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(
        self,
        kind: FaultKind | str,
        *,
        probability: float = 0.0,
        next_n: int | None = None,
        methods: Iterable[str] | None = None,
        latency_s: float = 0.0,
        status: int = 503,
        applied: bool = False,
    ) -> FaultRule:
        """Activate a fault; give ``next_n`` (a count) or ``probability`` (0..1)."""
        if next_n is None and not 0.0 < probability <= 1.0:
            raise ValueError("a fault needs next_n or a probability in (0, 1]")
        rule = FaultRule(
            FaultKind(kind),
            probability,
            next_n,
            frozenset(methods) if methods is not None else None,
            latency_s,
            status,
            applied,
        )
        with self._lock:
            self.rules.append(rule)
        return rule

    def latency(self, seconds: float, **kw: Unpack[When]) -> FaultRule:
        return self.add(FaultKind.LATENCY, latency_s=seconds, **kw)

    def drop(self, **kw: Unpack[When]) -> FaultRule:
        return self.add(FaultKind.DROP, **kw)

    def timeout(self, **kw: Unpack[When]) -> FaultRule:
        return self.add(FaultKind.TIMEOUT, **kw)

    def http_error(self, status: int = 503, **kw: Unpack[When]) -> FaultRule:
        return self.add(FaultKind.HTTP_ERROR, status=status, **kw)

    def lose_response(self, **kw: Unpack[When]) -> FaultRule:
        return self.add(FaultKind.LOSE_RESPONSE, **kw)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def pick(self, method: str) -> list[FaultRule]:
        """The faults that fire for this request (consuming their counts)."""
        if not self.rules:
            return []
        chosen: list[FaultRule] = []
        with self._lock:
            for rule in list(self.rules):
                if not rule.matches(method):
                    continue
                if rule.remaining is not None:
                    if rule.remaining <= 0:
                        continue
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self.rules.remove(rule)
                elif self.rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                self.fired[rule.kind.value] += 1
                chosen.append(rule)
        return chosen
