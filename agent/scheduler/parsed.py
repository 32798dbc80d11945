"""Strategy configs parsed once per stored row, with their durations, for every tick to reuse.

A tick at thousands of strategies spent most of its time validating the same pydantic configs
and parsing the same duration strings again. The cache is keyed by the row's stored config text,
so a changed config (``schedule add --replace``, an agent.yaml edit) is parsed afresh, and a
removed strategy's entry goes at the next ``prune``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from agent.scheduler.strategies import Strategy, parse_strategy
from memory.jobs import StrategyRow


@dataclass(frozen=True)
class Parsed:
    """A strategy and the durations its schedule and guards read on every fire."""

    strategy: Strategy
    interval: timedelta
    grace: timedelta
    period: timedelta  # the guards' trades-per-period window
    cooldown: timedelta  # zero when none


def parse_row(config: dict) -> Parsed:
    """ValueError when the config is not a valid strategy."""
    strategy = parse_strategy(config)
    guards = strategy.guards
    return Parsed(strategy, strategy.interval, strategy.grace, guards.period, guards.cooldown_delta)


class ParsedCache:
    """Parsed configs by strategy id, valid while the stored config text is unchanged."""

    def __init__(self) -> None:
        self._by_id: dict[str, tuple[str, Parsed]] = {}

    def get(self, row: StrategyRow) -> Parsed:
        """The row's parsed config; ValueError when it is not valid (never cached)."""
        key = row.config_text
        held = self._by_id.get(row.id)
        if held is not None and key and held[0] == key:
            return held[1]
        parsed = parse_row(row.config)
        if key:
            self._by_id[row.id] = (key, parsed)
        return parsed

    def prune(self, keep: set[str]) -> None:
        """Forget strategies no longer stored (or no longer active)."""
        for strategy_id in [s for s in self._by_id if s not in keep]:
            del self._by_id[strategy_id]

    def __len__(self) -> int:
        return len(self._by_id)
