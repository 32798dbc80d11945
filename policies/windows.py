"""Rolling windows: "at most X in any trailing period", counted from event timestamps.

A cap is checked against every live reservation made at or after ``now - period`` (later ones
too, should another process's clock run slightly ahead), so if each action passed when it was
made, no window of that length anywhere in time holds more than the cap: there is no fixed
boundary to straddle.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from policies.grants import Window

US = 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_us(moment: datetime) -> int:
    """Exact microseconds since the epoch (no float rounding) for an aware datetime."""
    return (moment - EPOCH) // timedelta(microseconds=1)


class State(Protocol):
    """What the stateful rules read; the ledger implements it."""

    def usage(self, grant_id: str | None, since_us: int) -> tuple[dict[str, int], int]: ...

    def activity(
        self, grant_id: str, since_us: int, *, want_last: bool = True
    ) -> tuple[int, int | None]: ...

    def seen(self, account_id: str) -> bool: ...


class NoState:
    """Nothing spent, nothing seen: for pure evaluation and benchmarks."""

    def usage(self, grant_id: str | None, since_us: int) -> tuple[dict[str, int], int]:
        return {}, 0

    def activity(
        self, grant_id: str, since_us: int, *, want_last: bool = True
    ) -> tuple[int, int | None]:
        return 0, None

    def seen(self, account_id: str) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class BudgetLine:
    """One window's figures: ``left`` is what remains before this action."""

    scope: str  # a grant id, or "global"
    measure: str  # a token id, or "usd" (micro-USD)
    period_s: int
    cap: int
    used: int
    requested: int

    @property
    def left(self) -> int:
        return max(self.cap - self.used, 0)

    @property
    def fits(self) -> bool:
        return self.used + self.requested <= self.cap

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "cap": str(self.cap),
            "used": str(self.used),
            "requested": str(self.requested),
            "left": str(self.left),
        }


def check_windows(
    scope: str,
    windows: tuple[Window, ...],
    state: State,
    grant_id: str | None,
    now_us: int,
    spent: dict[str, int],
    usd_total: int | None,
) -> list[BudgetLine]:
    """Each window's line; ``usd_total`` None means the action could not be priced."""
    lines = []
    cache: dict[int, tuple[dict[str, int], int]] = {}
    for window in windows:
        since = now_us - window.period_s * US
        if since not in cache:
            cache[since] = state.usage(grant_id, since)
        tokens, usd = cache[since]
        if window.token is not None:
            assert window.amount is not None
            lines.append(
                BudgetLine(
                    scope,
                    window.token,
                    window.period_s,
                    window.amount,
                    tokens.get(window.token, 0),
                    spent.get(window.token, 0),
                )
            )
        else:
            if usd_total is None:
                raise LookupError("a USD window needs a price for every token spent")
            assert window.usd_micro is not None
            lines.append(
                BudgetLine(scope, "usd", window.period_s, window.usd_micro, usd, usd_total)
            )
    return lines
