"""Inline SVG charts for the stats page: titled axes, round integer ticks, an optional log scale.

Count axes step by 1, 2 or 5 x 10^n, so every tick is a distinct integer and the top tick is at
least the tallest bar. A log axis (CPU time, where a handful of timeouts sit beside hundreds of
fast programs) has ticks 0, 1, 10, 100, ...: the 0 row is the baseline and each decade above it
is one band, so a bar of 1 is still visible. Hovering a bar shows its exact value (SVG <title>).
"""

from __future__ import annotations

import math
from html import escape

from ekt_curate.stats.collect import Stats

COLORS = ("#2563eb", "#f59e0b")  # first run, second run
STATUS_COLORS = {"pass": "#16a34a", "wrong_answer": "#f59e0b"}
FAILURE_COLOR = "#dc2626"


def nice_ticks(peak: float, intervals: int = 4) -> list[int]:
    """0, step, 2*step, ... up to the first multiple of step at or above ``peak``; step is 1, 2 or
    5 x 10^n, the smallest that needs at most ``intervals`` steps."""
    peak = max(peak, 1)
    step = 1
    while math.ceil(peak / step) > intervals:
        magnitude = 10 ** int(math.log10(step))
        step = {1: 2, 2: 5, 5: 10}[step // magnitude] * magnitude
    return list(range(0, math.ceil(peak / step) * step + 1, step))


def log_ticks(peak: float) -> list[int]:
    """0, 1, 10, ... up to the first power of ten at or above ``peak`` (at least 10)."""
    decades = max(1, math.ceil(math.log10(max(peak, 1))))
    return [0] + [10 ** d for d in range(decades + 1)]


def _scale(ticks: list[int], log: bool):  # value -> share of the plot height
    if log:
        bands = len(ticks) - 1
        return lambda v: 0.0 if v < 1 else (math.log10(v) + 1) / bands
    return lambda v: v / ticks[-1]


def _axis_titles(x_title: str, y_title: str, left: int, plot_w: float, top: int, plot_h: float,
                 height: int) -> list[str]:
    return [f'<text class="axis-title x" x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle">'
            f'{escape(x_title)}</text>',
            f'<text class="axis-title y" transform="translate(13,{top + plot_h / 2:.1f}) rotate(-90)" '
            f'text-anchor="middle">{escape(y_title)}</text>']


def bar_chart(labels: list[str], series: list[tuple[str, list[float], str]], x_title: str, y_title: str,
              log: bool = False, rotate: bool = False, width: int = 500, height: int = 260) -> str:
    """Vertical grouped bars, one series per run; each nonzero bar carries its count."""
    left, bottom, top, right = 58, 78 if rotate else 48, 18, 30 if rotate else 8
    plot_w, plot_h = width - left - right, height - bottom - top
    peak = max([max(values) for _, values, _ in series if values] + [0])
    ticks = log_ticks(peak) if log else nice_ticks(peak)
    scale = _scale(ticks, log)
    group = plot_w / max(len(labels), 1)
    bar = min(34.0, (group - 6) / len(series))
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(y_title)} by {escape(x_title)}">']
    for index, tick in enumerate(ticks):
        y = top + plot_h - plot_h * (index / (len(ticks) - 1) if log else tick / ticks[-1])
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e8f0"/>')
        parts.append(f'<text class="tick y" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:,}</text>')
    for i, label in enumerate(labels):
        x0 = left + i * group + (group - bar * len(series)) / 2
        for j, (name, values, color) in enumerate(series):
            value = values[i] if i < len(values) else 0
            h = plot_h * scale(value)
            x, y = x0 + j * bar, top + plot_h - h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" fill="{color}" rx="2">'
                         f'<title>{escape(name)} · {escape(label)}: {value:,.0f}</title></rect>')
            if value and bar >= 11:
                parts.append(f'<text class="value" x="{x + (bar - 2) / 2:.1f}" y="{y - 3:.1f}" '
                             f'text-anchor="middle">{value:,.0f}</text>')
        cx = left + i * group + group / 2
        if rotate:
            parts.append(f'<text class="tick x" transform="translate({cx:.1f},{top + plot_h + 10}) rotate(40)">'
                         f'{escape(label)}</text>')
        else:
            parts.append(f'<text class="tick x" x="{cx:.1f}" y="{top + plot_h + 16}" text-anchor="middle">'
                         f'{escape(label)}</text>')
    parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#94a3b8"/>')
    parts += _axis_titles(x_title, y_title, left, plot_w, top, plot_h, height)
    parts.append("</svg>")
    return "".join(parts)


def status_order(runs: list[Stats]) -> list[str]:
    return sorted({s for run in runs for s, count in run.statuses.items() if count},
                  key=lambda s: (s != "pass", s != "wrong_answer", s))


def status_bars(runs: list[Stats], names: list[str], width: int = 500) -> str:
    """Horizontal bars: share of a run's samples per status; a run with none of a status has no bar."""
    label_w, tail, top = 136, 110, 24
    plot_w = width - label_w - tail
    rows = [(status, [(j, run.statuses[status], run.samples) for j, run in enumerate(runs) if run.statuses.get(status)])
            for status in status_order(runs)]
    plot_h = sum(22 * len(bars) + 10 for _, bars in rows)
    height = top + plot_h + 44
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="share of samples by status">']
    for tick in (0, 25, 50, 75, 100):
        x = label_w + plot_w * tick / 100
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#e2e8f0"/>')
        parts.append(f'<text class="tick x" x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle">{tick}%</text>')
    y0 = top
    for status, bars in rows:
        parts.append(f'<text class="tick y" x="{label_w - 8}" y="{y0 + 11 * len(bars) + 4}" text-anchor="end">'
                     f'{escape(status)}</text>')
        for k, (j, count, samples) in enumerate(bars):
            share = count / samples
            color = STATUS_COLORS.get(status, FAILURE_COLOR) if len(runs) == 1 else COLORS[j]
            y = y0 + k * 22
            parts.append(f'<rect x="{label_w}" y="{y}" width="{max(plot_w * share, 1):.1f}" height="18" fill="{color}" '
                         f'rx="2"><title>{escape(names[j])} · {escape(status)}: {count:,}</title></rect>')
            parts.append(f'<text class="value" x="{label_w + plot_w * share + 6:.1f}" y="{y + 13}">'
                         f'{count:,} ({100 * share:.1f}%)</text>')
        y0 += 22 * len(bars) + 10
    parts.append(f'<text class="axis-title x" x="{label_w + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle">'
                 "share of the run's samples</text>")
    parts.append(f'<text class="axis-title y" x="{label_w - 8}" y="14" text-anchor="end">status</text>')
    parts.append("</svg>")
    return "".join(parts)
