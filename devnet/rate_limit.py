"""The devnet's rate limit: at most N JSON-RPC requests per period from one client IP.

Why: the public NEAR endpoints answer HTTP 429 with Retry-After beyond about 30 requests a
minute (docs.near.org, "RPC Providers"); the agent must live with that, so the devnet can stand
in for it (``near-agent devnet --rate-limit 30/min``). A sliding window per client IP, as the
public endpoints count per IP; on the devnet every client is 127.0.0.1, so in practice the
limit is shared by every process talking to it.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass

_UNITS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0}
_UNITS |= {"h": 3600.0, "hour": 3600.0}
TOLERANCE_S = 1e-6  # float rounding: waiting exactly the wait returned always finds room
_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*([a-z]+?)s?\s*$")


@dataclass(frozen=True)
class RateLimit:
    """``requests`` per ``period_s`` seconds; parsed from text such as "30/min" or "75/10min"."""

    requests: int
    period_s: float
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        match = _SPEC.match(text.lower())
        unit = _UNITS.get(match.group(3)) if match else None
        if match is None or unit is None:
            raise ValueError(
                f"{text!r} is not a rate limit: write REQUESTS/PERIOD, e.g. 30/min, 5/s, 75/10min"
            )
        requests = int(match.group(1))
        period = float(match.group(2) or 1) * unit
        if requests < 1 or period <= 0:
            raise ValueError(f"{text!r}: the rate limit needs at least 1 request per period")
        return cls(requests, period, text.strip())

    def __str__(self) -> str:
        return self.text or f"{self.requests}/{self.period_s:g}s"


class RateLimiter:
    """Admits requests while a client IP made fewer than the limit within the last period."""

    def __init__(self, limit: RateLimit | str | None) -> None:
        self.limit = RateLimit.parse(limit) if isinstance(limit, str) else limit
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, client: str, now: float) -> float | None:
        """None if the request may be served (and count it); else the seconds to wait."""
        limit = self.limit
        if limit is None:
            return None
        with self._lock:
            times = self._seen.setdefault(client, deque())
            while times and times[0] + limit.period_s - now <= TOLERANCE_S:
                times.popleft()
            if len(times) >= limit.requests:
                return times[0] + limit.period_s - now
            times.append(now)
            return None
