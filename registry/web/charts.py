"""Server-rendered charts: geometry computed here, drawn as SVG by the template, no script."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from registry.domain.catalogue import GroupAmount

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
