"""Small SVG charts for the app: per-class accuracy bars (a tick marks the real floor on each)
and the loss curves of a run.

Plain SVG: no plotting library, and nothing in the browser's console (Gradio's own plots log a
Vega-Lite version warning each time they draw). Every text is escaped: class names come from a
generator's config.
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


LINE_COLOURS = ("#4f6bed", "#e8833a", "#2a9d5c", "#9b59b6")
W, H, PAD = 560, 220, 40  # viewBox size and the margin around the plot area


def loss_lines(rows: list[dict], title: str = "Losses") -> str:
    """SVG of long-format rows {batch, value, metric}: one line per metric against batches."""
    if not rows:
        return ""
    metrics = list(dict.fromkeys(r["metric"] for r in rows))
    xs, ys = [r["batch"] for r in rows], [r["value"] for r in rows]
    x0, x1, y0, y1 = min(xs), max(xs) or 1, min(ys), max(ys)
    sx = lambda x: PAD + (W - 2 * PAD) * (x - x0) / ((x1 - x0) or 1)  # noqa: E731
    sy = lambda y: H - PAD + (2 * PAD - H) * (y - y0) / ((y1 - y0) or 1)  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" '
             f'aria-label="{escape(title)}" class="loss-lines" style="max-width:{W * 2}px">',
             f'<text x="{PAD}" y="16" font-size="12">{escape(title)} by batch</text>']
    for value in (y0, (y0 + y1) / 2, y1):
        parts.append(f'<line x1="{PAD}" x2="{W - PAD}" y1="{sy(value):.1f}" y2="{sy(value):.1f}" stroke="#ddd"/>'
                     f'<text x="{PAD - 4}" y="{sy(value) + 4:.1f}" font-size="10" text-anchor="end">{value:.3g}</text>')
    for x in (x0, x1):
        parts.append(f'<text x="{sx(x):.1f}" y="{H - PAD + 14}" font-size="10" text-anchor="middle">{x}</text>')
    for i, metric in enumerate(metrics):
        colour = LINE_COLOURS[i % len(LINE_COLOURS)]
        points = " ".join(f"{sx(r['batch']):.1f},{sy(r['value']):.1f}" for r in rows if r["metric"] == metric)
        parts += [f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>',
                  f'<text x="{PAD + 10 + 130 * i}" y="{H - 6}" font-size="11" fill="{colour}">'
                  f'— {escape(metric)}</text>']
    return "".join(parts) + "</svg>"
