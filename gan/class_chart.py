"""Per-class accuracy as a small SVG bar chart: a bar per class, the real floor as a tick on it.

Plain SVG (no plotting library, nothing in the browser's console); every text is escaped,
because class names come from a generator's config.
"""

from __future__ import annotations

import math
from html import escape

BAR, GAP, LEFT, TOP, HEIGHT = 28, 8, 46, 28, 120  # px in the viewBox
BAR_COLOUR, LOW_COLOUR, FLOOR_COLOUR = "#4f6bed", "#e8833a", "#222"


def axis_bottom(values: list[float]) -> float:
    """The axis starts a little below the lowest value, at a whole percent (0.98 for 0.986)."""
    return max(0.0, math.floor(min(values) * 100 - 0.5) / 100)


def class_bars(rows: list[tuple[str, float, float]], title: str = "Class accuracy per class") -> str:
    """SVG for (class name, accuracy, real-floor accuracy) rows, accuracies in 0..1.
    Bars below their floor are orange; each bar's tooltip gives both numbers."""
    low = axis_bottom([v for _, acc, floor in rows for v in (acc, floor)])
    width = LEFT + len(rows) * (BAR + GAP) + GAP
    y = lambda v: TOP + HEIGHT * (1 - (v - low) / (1 - low or 1))  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {TOP + HEIGHT + 34}" '
             f'role="img" aria-label="{escape(title)}" class="class-bars" style="max-width:{width * 2}px">',
             f'<text x="{LEFT}" y="16" font-size="12">{escape(title)}: bars = generator, '
             f'black ticks = real floor</text>',
             *_axis(low, y, width)]
    for i, (name, acc, floor) in enumerate(rows):
        x = LEFT + GAP + i * (BAR + GAP)
        colour = LOW_COLOUR if acc < floor else BAR_COLOUR
        tip = escape(f"{name}: {acc:.2%} (real floor {floor:.2%})")
        parts += [f'<rect x="{x}" y="{y(acc):.1f}" width="{BAR}" height="{TOP + HEIGHT - y(acc):.1f}" '
                  f'fill="{colour}"><title>{tip}</title></rect>',
                  f'<line x1="{x - 3}" x2="{x + BAR + 3}" y1="{y(floor):.1f}" y2="{y(floor):.1f}" '
                  f'stroke="{FLOOR_COLOUR}" stroke-width="2.5"><title>{tip}</title></line>',
                  f'<text x="{x + BAR / 2}" y="{TOP + HEIGHT + 14}" font-size="10" '
                  f'text-anchor="middle">{escape(_short(name))}</text>']
    return "".join(parts) + "</svg>"


def _axis(low: float, y, width: int) -> list[str]:
    ticks = [low, (low + 1) / 2, 1.0]
    return [f'<line x1="{LEFT}" x2="{width}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="#ccc"/>'
            f'<text x="{LEFT - 4}" y="{y(t) + 4:.1f}" font-size="10" text-anchor="end">{t:.1%}</text>'
            for t in ticks] + [f'<text x="{LEFT}" y="{TOP + HEIGHT + 30}" font-size="10" fill="#555">'
                               f'axis from {low:.0%} to 100%</text>']


def _short(name: str, limit: int = 6) -> str:
    return name if len(name) <= limit else name[:limit - 1] + "…"
