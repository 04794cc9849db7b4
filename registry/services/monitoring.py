"""The Resolution 57 monitoring page (Nghị quyết 57-NQ/TW on science, technology, innovation
and digital transformation): funded amounts by strategic technology and by province over time,
calls open now, key laboratories per technology, and how much of it all is demo data.

Every amount carries its demo part: the registry ships with generated demo projects, and a
monitoring figure that mixed them in silently would mislead.

The project aggregates cost about 0.9 s on 100,000 projects (2 cores), so each process keeps
the last ones, keyed by the projects' version (last id, count): any approval or load makes new
ones; calls open are read every time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from registry import database
from registry.domain.catalogue import Kind, Localized, Ref
from registry.services import clock
from registry.services.queries import monitoring as sql


@dataclass(frozen=True, slots=True)
class Amount:
    """Funded đồng, the part of them from demo projects, and the number of projects."""

    amount_vnd: int
    demo_vnd: int
    projects: int


@dataclass(frozen=True, slots=True)
class YearAmount:
    year: int
    amount: Amount


def _in_year(rows: tuple[YearAmount, ...], year: int) -> Amount | None:
    return next((row.amount for row in rows if row.year == year), None)


@dataclass(frozen=True, slots=True)
class TechnologyFunding:
    technology: Ref
    total: Amount
    by_year: tuple[YearAmount, ...]

    def in_year(self, year: int) -> Amount | None:
        return _in_year(self.by_year, year)


@dataclass(frozen=True, slots=True)
class ProvinceFunding:
    province: str
    total: Amount
    by_year: tuple[YearAmount, ...]

    def in_year(self, year: int) -> Amount | None:
        return _in_year(self.by_year, year)


@dataclass(frozen=True, slots=True)
class TechnologyLabs:
    technology: Ref
    laboratories: int


@dataclass(frozen=True, slots=True)
class OpenCall:
    id: int
    title: Localized
    fund: Localized
    closes_at: dt.datetime
    budget_vnd: int


@dataclass(frozen=True, slots=True)
class Monitoring:
    total: Amount
    demo_projects: int
    laboratories: int
    exchanges: int
    years: tuple[int, ...]
    by_year: tuple[YearAmount, ...]
    by_technology: tuple[TechnologyFunding, ...]
    by_province: tuple[ProvinceFunding, ...]
    labs_per_technology: tuple[TechnologyLabs, ...]
    open_calls: tuple[OpenCall, ...]

    @property
    def demo_permille(self) -> int:
        """The demo part of the funded amounts, per thousand, rounded half up."""
        total = self.total.amount_vnd
        return (self.total.demo_vnd * 2000 + total) // (2 * total) if total else 0


def _sum(amounts: list[Amount]) -> Amount:
    return Amount(
        sum(a.amount_vnd for a in amounts),
        sum(a.demo_vnd for a in amounts),
        sum(a.projects for a in amounts),
    )


def _amount(row: object) -> Amount:
    return Amount(row["amount_vnd"], row["demo_vnd"], row["projects"])  # type: ignore[index]


@dataclass(frozen=True, slots=True)
class _Aggregates:
    total: Amount
    demo_projects: int
    laboratories: int
    exchanges: int
    by_year: tuple[YearAmount, ...]
    by_technology: tuple[TechnologyFunding, ...]
    by_province: tuple[ProvinceFunding, ...]
    labs_per_technology: tuple[TechnologyLabs, ...]


_kept: dict[tuple[int, int], _Aggregates] = {}


async def monitoring() -> Monitoring:
    """The figures: the project aggregates of this projects' version, and the calls open now."""
    version_row = await database.fetchrow(sql.PROJECTS_VERSION)
    assert version_row is not None
    version = (version_row["last"], version_row["n"])
    figures = _kept.get(version)
    if figures is None:
        figures = await _aggregates()
        _kept.clear()
        _kept[version] = figures
    calls = await database.fetch(sql.OPEN_CALLS, clock.now())
    return Monitoring(
        total=figures.total,
        demo_projects=figures.demo_projects,
        laboratories=figures.laboratories,
        exchanges=figures.exchanges,
        years=tuple(y.year for y in figures.by_year),
        by_year=figures.by_year,
        by_technology=figures.by_technology,
        by_province=figures.by_province,
        labs_per_technology=figures.labs_per_technology,
        open_calls=tuple(
            OpenCall(
                r["id"],
                Localized(r["title_vi"], r["title_en"]),
                Localized(r["fund_vi"], r["fund_en"]),
                r["closes_at"],
                r["budget_vnd"],
            )
            for r in calls
        ),
    )


async def _aggregates() -> _Aggregates:
    """Six aggregate queries, whatever the number of projects."""
    totals = await database.fetchrow(sql.TOTALS)
    assert totals is not None  # an aggregate answers one row
    by_tech: dict[int, tuple[Ref, list[YearAmount]]] = {}
    for row in await database.fetch(sql.BY_TECHNOLOGY_YEAR):
        ref = Ref(Kind.TECHNOLOGY, row["id"], Localized(row["name_vi"], row["name_en"]))
        by_tech.setdefault(row["id"], (ref, []))[1].append(YearAmount(row["year"], _amount(row)))
    by_province: dict[str, list[YearAmount]] = {}
    for row in await database.fetch(sql.BY_PROVINCE_YEAR):
        amount = _amount(row)
        by_province.setdefault(row["province"], []).append(YearAmount(row["year"], amount))
    by_year = tuple(YearAmount(r["year"], _amount(r)) for r in await database.fetch(sql.BY_YEAR))
    technologies = sorted(
        (
            TechnologyFunding(ref, _sum([y.amount for y in rows]), tuple(rows))
            for ref, rows in by_tech.values()
        ),
        key=lambda t: (-t.total.amount_vnd, t.technology.id),
    )
    provinces = sorted(
        (
            ProvinceFunding(name, _sum([y.amount for y in rows]), tuple(rows))
            for name, rows in by_province.items()
        ),
        key=lambda p: (-p.total.amount_vnd, p.province),
    )
    labs = await database.fetch(sql.LABS_PER_TECHNOLOGY)
    return _Aggregates(
        total=Amount(totals["amount_vnd"], totals["demo_vnd"], totals["projects"]),
        demo_projects=totals["demo_projects"],
        laboratories=totals["laboratories"],
        exchanges=totals["exchanges"],
        by_year=by_year,
        by_technology=tuple(technologies),
        by_province=tuple(provinces),
        labs_per_technology=tuple(
            TechnologyLabs(
                Ref(Kind.TECHNOLOGY, r["id"], Localized(r["name_vi"], r["name_en"])),
                r["laboratories"],
            )
            for r in labs
        ),
    )
