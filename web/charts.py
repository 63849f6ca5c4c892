"""Charts as SVG drawn on the server: grouped bars and stacked bars, readable without a script or a download."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

Format = Callable[[float], str]

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 46  # room for the value axis, the labels and the legend


@dataclass(frozen=True)
class Series:
    """One measure drawn in every group: its name in the legend and its colour class (`chart-s1`…)."""

    name: str
    css: str


def nice_top(largest: float) -> tuple[float, float]:
    """A round top for the value axis and its tick step (1, 2 or 5 × 10ⁿ, four or five ticks)."""
    if largest <= 0:
        return 1.0, 0.25
    raw = largest / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return step * math.ceil(largest / step - 1e-9), step


def _text(x: float, y: float, content: str, css: str, anchor: str = "middle") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" class="{css}" text-anchor="{anchor}">{escape(content)}</text>'


def _frame(title: str, body: list[str], series: Sequence[Series], height: int = HEIGHT) -> Markup:
    legend, x = [], LEFT
    for s in series:
        legend.append(f'<rect x="{x}" y="{height - 14}" width="10" height="10" class="{s.css}"/>')
        legend.append(_text(x + 14, height - 5, s.name, "chart-legend", "start"))
        x += 24 + 7 * len(s.name)
    return Markup(f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
                  f'preserveAspectRatio="xMidYMid meet"><title>{escape(title)}</title>'
                  + "".join(body) + "".join(legend) + "</svg>")


def _axis(top: float, step: float, fmt: Format) -> list[str]:
    parts, plot = [], HEIGHT - TOP - BOTTOM
    for i in range(int(round(top / step)) + 1):
        value = i * step
        y = TOP + plot - plot * value / top
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="chart-grid"/>')
        parts.append(_text(LEFT - 6, y + 4, fmt(value), "chart-tick", "end"))
    return parts


def grouped_bars(title: str, labels: Sequence[str], series: Sequence[Series], values: Sequence[Sequence[float]],
                 fmt: Format, *, top: float | None = None) -> Markup:
    """Bars side by side per label: values[i][j] is series j at label i; `top` fixes the axis (1.0 for rates)."""
    largest = max((v for row in values for v in row), default=0.0)
    top, step = (top, top / 4) if top else nice_top(largest)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    body = _axis(top, step, fmt)
    slot = plot_w / max(1, len(labels))
    bar = max(1.0, min(28.0, slot * 0.8 / max(1, len(series))))
    every = max(1, math.ceil(len(labels) * 46 / plot_w))  # a label every n groups where they would collide
    for i, (label, row) in enumerate(zip(labels, values)):
        x0 = LEFT + i * slot + (slot - bar * len(series)) / 2
        for j, (s, v) in enumerate(zip(series, row)):
            h = plot_h * min(v, top) / top
            body.append(f'<rect x="{x0 + j * bar:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar - 1:.1f}" '
                        f'height="{h:.1f}" class="{s.css}"><title>{escape(label)} · {escape(s.name)}: '
                        f'{escape(fmt(v))}</title></rect>')
        if i % every == 0:
            body.append(_text(LEFT + i * slot + slot / 2, TOP + plot_h + 14, label, "chart-label"))
    return _frame(title, body, series)


def stacked_bars(title: str, labels: Sequence[str], series: Sequence[Series], values: Sequence[Sequence[float]],
                 fmt: Format) -> Markup:
    """One horizontal bar per label, its parts the series (an agent's day split by state)."""
    largest = max((sum(row) for row in values), default=0.0)
    top, step = nice_top(largest)
    row_h = 26
    height = TOP + row_h * max(1, len(labels)) + BOTTOM
    left, plot_w = 120, WIDTH - 120 - RIGHT
    body = []
    for i in range(int(round(top / step)) + 1):
        x = left + plot_w * i * step / top
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{height - BOTTOM}" class="chart-grid"/>')
        body.append(_text(x, height - BOTTOM + 14, fmt(i * step), "chart-tick"))
    for i, (label, row) in enumerate(zip(labels, values)):
        y, x = TOP + i * row_h + 4, float(left)
        body.append(_text(left - 8, y + 13, label, "chart-label", "end"))
        for s, v in zip(series, row):
            w = plot_w * v / top
            body.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h - 8}" class="{s.css}">'
                        f'<title>{escape(label)} · {escape(s.name)}: {escape(fmt(v))}</title></rect>')
            x += w
    return _frame(title, body, series, height)
