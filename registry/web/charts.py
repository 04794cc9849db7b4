"""Server-rendered charts: geometry computed here, drawn as SVG by the template, no script.

Bar charts are not scaled to fit (a 960-unit drawing on a 390 px phone shrank its text to 5 px):
the SVG has no viewBox, so its text stays at the page's size, each row is a label above its bar,
and bar lengths are shares of the chart's width, drawn the same on a phone as on a desktop."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from registry.domain.catalogue import GroupAmount, Localized
from registry.domain.public_record import Distribution
from registry.services.monitoring import Amount

#: The longest bar's share of the chart's width, in tenths of a percent; the rest is room for
#: the amount written after the bar.
BAR_AREA = 720
#: A row (label line, then bar) in CSS px.
ROW_HEIGHT = 42


def _share(amount: int, largest: int) -> int:
    """A bar's length in tenths of a percent of the chart's width (at least visible)."""
    return max(1, amount * BAR_AREA // largest) if largest else 0


def percent(tenths: int) -> str:
    """Tenths of a percent as an SVG length: 543 -> "54.3%"."""
    return f"{tenths // 10}.{tenths % 10}%"


@dataclass(frozen=True, slots=True)
class Bar:
    item: GroupAmount
    y: int
    #: Tenths of a percent of the chart's width (`length` writes it for SVG).
    width: int

    @property
    def length(self) -> str:
        return percent(self.width)


@dataclass(frozen=True, slots=True)
class BarChart:
    bars: tuple[Bar, ...]
    height: int
    row_height: int


def funding_chart(groups: Sequence[GroupAmount]) -> BarChart:
    """Horizontal bars, longest for the largest amount; integer arithmetic, no floats."""
    largest = max((g.amount_vnd for g in groups), default=0)
    row = ROW_HEIGHT
    bars = tuple(
        Bar(item=g, y=index * row, width=_share(g.amount_vnd, largest))
        for index, g in enumerate(groups)
    )
    return BarChart(bars=bars, height=len(bars) * row, row_height=row)


HISTOGRAM_HEIGHT = 120
COLUMN_WIDTH = 56
COLUMN_GAP = 8


@dataclass(frozen=True, slots=True)
class Column:
    label: str  # the bin in points, e.g. "3–4"
    count: int
    x: int
    height: int


@dataclass(frozen=True, slots=True)
class Histogram:
    distribution: Distribution
    columns: tuple[Column, ...]
    width: int
    #: Height of the tallest possible column; the template adds room for the labels.
    plot_height: int
    column_width: int


def _points(tenths: int) -> str:
    return str(tenths // 10) if tenths % 10 == 0 else f"{tenths // 10},{tenths % 10}"


def histogram(distribution: Distribution) -> Histogram:
    """Vertical columns, one per bin of marks, tallest for the most proposals (integers)."""
    largest = max((b.count for b in distribution.bins), default=0)
    columns = tuple(
        Column(
            label=f"{_points(b.low)}–{_points(b.high)}",
            count=b.count,
            x=index * (COLUMN_WIDTH + COLUMN_GAP),
            height=b.count * HISTOGRAM_HEIGHT // largest if largest else 0,
        )
        for index, b in enumerate(distribution.bins)
    )
    return Histogram(
        distribution=distribution,
        columns=columns,
        width=len(columns) * (COLUMN_WIDTH + COLUMN_GAP),
        plot_height=HISTOGRAM_HEIGHT,
        column_width=COLUMN_WIDTH,
    )


@dataclass(frozen=True, slots=True)
class AmountBar:
    label: Localized | str
    amount: Amount
    y: int
    #: Tenths of a percent of the chart's width, as `Bar.width`.
    width: int
    #: The part of the bar that is demo data, drawn apart so the share is seen.
    demo_width: int
    href: str | None

    @property
    def length(self) -> str:
        return percent(self.width)

    @property
    def demo_start(self) -> str:
        return percent(self.width - self.demo_width)

    @property
    def demo_length(self) -> str:
        return percent(self.demo_width)


@dataclass(frozen=True, slots=True)
class AmountChart:
    bars: tuple[AmountBar, ...]
    height: int
    row_height: int


def amount_chart(rows: Sequence[tuple[Localized | str, Amount, str | None]]) -> AmountChart:
    """Horizontal bars of (label, amount, link) with each bar's demo part marked; integers."""
    largest = max((a.amount_vnd for _, a, _ in rows), default=0)
    bars = []
    for index, (label, amount, href) in enumerate(rows):
        width = _share(amount.amount_vnd, largest)
        demo = amount.demo_vnd * BAR_AREA // largest if largest else 0
        bars.append(AmountBar(label, amount, index * ROW_HEIGHT, width, min(demo, width), href))
    return AmountChart(tuple(bars), len(bars) * ROW_HEIGHT, ROW_HEIGHT)
