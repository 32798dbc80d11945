"""A strategy's price chart as a small SVG drawn on the server (no script, works offline).

The points are the prices its fires and its latest check recorded (``price_in_note``); the
horizontal lines are its trigger levels; a filled dot is a fire that traded.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape
from typing import Any

W, H, PAD = 560, 180, 36


def _levels(strategy: Any) -> list[tuple[str, Decimal]]:
    out = []
    for name in ("below", "above"):
        value = getattr(strategy, name, None)
        if value is not None:
            out.append((name, Decimal(value)))
    return out


def price_chart(strategy: Any, fires: list[Any], last_note: str) -> str | None:
    """SVG markup (every text escaped), or None for a strategy without a price trigger."""
    from agent.scheduler.strategies import price_in_note

    levels = _levels(strategy)
    if not levels:
        return None
    points: list[tuple[Decimal, bool]] = []
    for fire in reversed(fires):  # oldest first
        price = price_in_note(str(fire.detail.get("note", "")))
        if price is not None:
            points.append((price, fire.status == "done"))
    latest = price_in_note(last_note or "")
    fired_last = bool(fires) and fires[0].detail.get("note") == last_note  # the same reading
    if latest is not None and not fired_last:
        points.append((latest, False))
    values = [p for p, _ in points] + [v for _, v in levels]
    low, high = min(values), max(values)
    span = (high - low) or (abs(high) or Decimal(1))
    low, high = low - span / 10, high + span / 10

    def y(value: Decimal) -> float:
        return float(PAD + (high - value) / (high - low) * (H - 2 * PAD))

    def x(index: int) -> float:
        if len(points) <= 1:
            return W / 2
        return PAD + index * (W - 2 * PAD) / (len(points) - 1)

    unit = escape(f"{getattr(strategy, 'price_of', '')} in {getattr(strategy, 'price_in', '')}")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" class="chart" '
        f'role="img" aria-label="price of {unit}">',
        f'<text x="{PAD}" y="16" class="axis">{unit}</text>',
    ]
    for name, value in levels:
        parts.append(
            f'<line x1="{PAD}" x2="{W - PAD}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'class="level level-{name}"/>'
            f'<text x="{W - PAD}" y="{y(value) - 4:.1f}" class="level-label" '
            f'text-anchor="end">{name} {escape(str(value))}</text>'
        )
    if len(points) > 1:
        path = " ".join(f"{x(i):.1f},{y(p):.1f}" for i, (p, _) in enumerate(points))
        parts.append(f'<polyline points="{path}" class="price"/>')
    for i, (price, filled) in enumerate(points):
        kind = "fill" if filled else "quote"
        parts.append(
            f'<circle cx="{x(i):.1f}" cy="{y(price):.1f}" r="4" class="{kind}">'
            f"<title>{escape(str(price))}</title></circle>"
        )
    if not points:
        parts.append(
            f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle" class="axis">'
            "no price recorded yet</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
