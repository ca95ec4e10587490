"""The report's figures as small SVG documents (no plotting library, nothing to
install): score against size, score against time, unit frequencies over the run."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

W, H = 560, 300
LEFT, RIGHT, TOP, BOTTOM = 60, 150, 20, 40
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


@dataclass
class Axis:
    low: float
    high: float
    log: bool = False

    def __post_init__(self) -> None:
        if self.log:
            self.low, self.high = math.log10(max(self.low, 1)), math.log10(max(self.high, 1))
        if self.high - self.low < 1e-12:
            self.low, self.high = self.low - 0.5, self.high + 0.5

    def at(self, v: float, start: float, end: float) -> float:
        v = math.log10(max(v, 1)) if self.log else v
        return start + (v - self.low) / (self.high - self.low) * (end - start)

    def ticks(self) -> list[float]:
        if self.log:
            return [10.0**e for e in range(math.floor(self.low), math.ceil(self.high) + 1)]
        step = (self.high - self.low) / 4
        return [self.low + i * step for i in range(5)]


def _frame(title: str, xlabel: str, ylabel: str, xa: Axis, ya: Axis) -> list[str]:
    x0, x1, y0, y1 = LEFT, W - RIGHT, H - BOTTOM, TOP
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'font-family="sans-serif" font-size="11">',
        f'<rect width="{W}" height="{H}" fill="white"/>',
        f'<text x="{W / 2}" y="14" text-anchor="middle" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="black"/>',
        f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="black"/>',
        f'<text x="{(x0 + x1) / 2}" y="{H - 6}" text-anchor="middle">{escape(xlabel)}</text>',
        f'<text x="14" y="{(y0 + y1) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {(y0 + y1) / 2})">{escape(ylabel)}</text>',
    ]
    for t in xa.ticks():
        x = xa.at(t, x0, x1)
        if x0 - 1 <= x <= x1 + 1:
            label = f"{t:,.0f}" if xa.log or abs(t) >= 10 else f"{t:.2g}"
            out.append(f'<text x="{x:.1f}" y="{y0 + 14}" text-anchor="middle">{label}</text>')
    for t in ya.ticks():
        y = ya.at(t, y0, y1)
        out.append(f'<text x="{x0 - 4}" y="{y + 4:.1f}" text-anchor="end">{t:.3g}</text>')
        out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}" stroke="#eee"/>')
    return out


def _legend(items: Sequence[tuple[str, str]]) -> list[str]:
    out = []
    for i, (label, colour) in enumerate(items):
        y = TOP + 10 + i * 16
        out.append(
            f'<rect x="{W - RIGHT + 10}" y="{y - 8}" width="10" height="10" fill="{colour}"/>'
        )
        out.append(f'<text x="{W - RIGHT + 25}" y="{y + 1}">{escape(label)}</text>')
    return out


def scatter(
    title: str,
    xlabel: str,
    ylabel: str,
    points: Sequence[tuple[float, float]],
    highlight: Sequence[tuple[float, float]] = (),
    line: Sequence[tuple[float, float]] = (),
    log_x: bool = False,
    labels: tuple[str, str, str] = ("individuals", "highlighted", "line"),
) -> str:
    """Points, some highlighted, and an optional line over them."""
    xs = [p[0] for p in points] or [0.0]
    ys = [p[1] for p in points] or [0.0]
    pad = (max(ys) - min(ys)) * 0.05
    xa, ya = Axis(min(xs), max(xs), log_x), Axis(min(ys) - pad, max(ys) + pad)
    out = _frame(title, xlabel, ylabel, xa, ya)
    x0, x1, y0, y1 = LEFT, W - RIGHT, H - BOTTOM, TOP
    for x, y in points:
        out.append(
            f'<circle cx="{xa.at(x, x0, x1):.1f}" cy="{ya.at(y, y0, y1):.1f}" r="2.5" '
            f'fill="{PALETTE[0]}" fill-opacity="0.5"/>'
        )
    if line:
        path = " ".join(f"{xa.at(x, x0, x1):.1f},{ya.at(y, y0, y1):.1f}" for x, y in line)
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{PALETTE[3]}" stroke-width="2"/>'
        )
    for x, y in highlight:
        out.append(
            f'<circle cx="{xa.at(x, x0, x1):.1f}" cy="{ya.at(y, y0, y1):.1f}" r="4" '
            f'fill="{PALETTE[1]}" stroke="black" stroke-width="0.5"/>'
        )
    legend = [(labels[0], PALETTE[0])]
    legend += [(labels[1], PALETTE[1])] if highlight else []
    legend += [(labels[2], PALETTE[3])] if line else []
    out += _legend(legend)
    return "\n".join([*out, "</svg>"])


def lines(
    title: str, xlabel: str, ylabel: str, series: dict[str, Sequence[tuple[float, float]]]
) -> str:
    """One line per named series (at most eight colours)."""
    pts = [p for s in series.values() for p in s] or [(0.0, 0.0)]
    xa = Axis(min(p[0] for p in pts), max(p[0] for p in pts))
    ya = Axis(0.0, max(1.0, max(p[1] for p in pts)))
    out = _frame(title, xlabel, ylabel, xa, ya)
    x0, x1, y0, y1 = LEFT, W - RIGHT, H - BOTTOM, TOP
    legend = []
    for (name, s), colour in zip(series.items(), PALETTE):
        path = " ".join(f"{xa.at(x, x0, x1):.1f},{ya.at(y, y0, y1):.1f}" for x, y in s)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        legend.append((name, colour))
    out += _legend(legend)
    return "\n".join([*out, "</svg>"])
