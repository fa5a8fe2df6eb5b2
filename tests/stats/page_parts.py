"""Read a stats page (its source or the DOM a browser dumped) the way a reader does: each chart's
axis titles, tick labels and bars, and the page's text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Chart:
    label: str
    titles: dict[str, str] = field(default_factory=dict)   # "x"/"y" -> axis title
    ticks: dict[str, list[str]] = field(default_factory=lambda: {"x": [], "y": []})
    bars: list[tuple[str, float, float]] = field(default_factory=list)  # (hover title, value, height)

    def y_ticks(self) -> list[int]:
        return [int(text.replace(",", "")) for text in self.ticks["y"]]

    def peak(self) -> float:
        return max((value for _, value, _ in self.bars), default=0)

    def height_of(self, needle: str) -> float:
        return next(height for title, _, height in self.bars if needle in title)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.charts: list[Chart] = []
        self.text: list[str] = []
        self._in_svg = False
        self._text_class: str | None = None
        self._rect: float | None = None
        self._title: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "svg":
            self._in_svg = True
            self.charts.append(Chart(a.get("aria-label") or ""))
        elif self._in_svg and tag == "text":
            self._text_class = a.get("class") or ""
        elif self._in_svg and tag == "rect":
            self._rect = float(a.get("height") or 0)
        elif self._in_svg and tag == "title":
            self._title = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._in_svg = False
        elif tag == "text":
            self._text_class = None
        elif tag == "title" and self._title is not None and self._rect is not None:
            title = "".join(self._title)
            self.charts[-1].bars.append((title, float(title.rsplit(": ", 1)[1].replace(",", "")), self._rect))
            self._title = None
        elif tag == "rect":
            self._rect = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._title is not None:
            self._title.append(data)
        elif self._text_class is not None and self.charts:
            chart = self.charts[-1]
            kind = self._text_class.split()
            if "axis-title" in kind:
                chart.titles[kind[-1]] = chart.titles.get(kind[-1], "") + data
            elif "tick" in kind:
                chart.ticks[kind[-1]].append(data)


def read_page(html: str) -> tuple[list[Chart], str]:
    """(the charts, the page's text with whitespace runs collapsed)."""
    page = _Page()
    page.feed(html)
    return page.charts, re.sub(r"\s+", " ", " ".join(page.text))


def assert_count_axis(chart: Chart) -> None:
    """Distinct integers from 0, one round step (1, 2 or 5 x 10^n), the top at or above the peak."""
    ticks = chart.y_ticks()
    assert ticks[0] == 0 and len(set(ticks)) == len(ticks), (chart.label, ticks)
    steps = {b - a for a, b in zip(ticks, ticks[1:])}
    assert len(steps) == 1, (chart.label, ticks)
    step = steps.pop()
    assert re.fullmatch(r"[125]0*", str(step)), (chart.label, ticks)
    assert ticks[-1] >= chart.peak() > ticks[-1] - step or chart.peak() == 0, (chart.label, ticks, chart.peak())
