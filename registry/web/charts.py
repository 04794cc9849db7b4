"""Server-rendered charts: geometry computed here, drawn as SVG by the template, no script."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from registry.domain.catalogue import GroupAmount, Localized
from registry.domain.public_record import Distribution
from registry.services.monitoring import Amount

BAR_AREA_WIDTH = 520
ROW_HEIGHT = 30


@dataclass(frozen=True, slots=True)
class Bar:
    item: GroupAmount
    y: int
    width: int


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
        Bar(
            item=g,
            y=index * row,
            width=max(1, g.amount_vnd * BAR_AREA_WIDTH // largest) if largest else 0,
        )
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
    width: int
    #: The part of the bar that is demo data, drawn apart so the share is seen.
    demo_width: int
    href: str | None


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
        width = max(1, amount.amount_vnd * BAR_AREA_WIDTH // largest) if largest else 0
        demo = amount.demo_vnd * BAR_AREA_WIDTH // largest if largest else 0
        bars.append(AmountBar(label, amount, index * ROW_HEIGHT, width, min(demo, width), href))
    return AmountChart(tuple(bars), len(bars) * ROW_HEIGHT, ROW_HEIGHT)
