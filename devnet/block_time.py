"""How often the devnet makes blocks: the ``--block-interval`` value, read once here."""

from __future__ import annotations

import re

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$")
MIN_INTERVAL_S = 0.001
MAX_INTERVAL_S = 60.0


def parse_interval(text: str) -> float:
    """Seconds from "0.1s", "100ms" or "0.5" (seconds); ValueError naming the accepted forms."""
    match = _INTERVAL.match(text)
    if match is None:
        raise ValueError(
            f"block interval {text!r}: give seconds or milliseconds, e.g. 0.1s, 100ms or 0.5"
        )
    seconds = float(match.group(1)) / (1000 if match.group(2) == "ms" else 1)
    if not MIN_INTERVAL_S <= seconds <= MAX_INTERVAL_S:
        raise ValueError(
            f"block interval {text!r}: between {MIN_INTERVAL_S * 1000:g} ms and "
            f"{MAX_INTERVAL_S:g} s"
        )
    return seconds
