"""Open data: the funded projects as a 360Giving data package and as a CSV table.

Demo projects are left out: both files claim that grants were made, and harvesters of
360Giving data (GrantNav and the like) would take made-up grants at face value. Only projects
of approved outcomes exist (services.public_record), so nothing proposed but unapproved shows.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from registry import database
from registry.domain.catalogue import Localized
from registry.domain.errors import NotFound
from registry.domain.public_record import (
    CallStatistics,
    FundedGrant,
    giving_package,
    grant_id,
    organisation_id,
)
from registry.i18n import N_
from registry.services import clock
from registry.services.queries import open_data as sql

PUBLISHER = "Registry of strategic-technology projects and funds"
NO_GRANTS = N_(
    "No funded project matches yet, and a 360Giving data package holds at least one grant."
)
CSV_HEADER = (
    "grant_id", "project_code", "title", "recipient_id", "recipient", "province", "fund",
    "call", "amount_vnd", "award_date", "start_date", "end_date", "technologies", "url",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str | int | None, ...], ...]


def _grant(row: Any) -> tuple[FundedGrant, str]:
    grant = FundedGrant(
        project_id=row["id"],
        code=row["code"],
        title=row["title_vi"],
        description=row["abstract_vi"],
        amount_vnd=row["amount_vnd"],
        awarded=row["approved_at"] or row["starts_on"],
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        organisation_code=row["organisation_code"],
        organisation_name=row["organisation_name"],
        tax_number=row["tax_number"],
        province=row["province"],
        fund_code=row["fund_code"],
        fund_name=row["fund_name"],
        call_id=row["call_id"],
        call_title=row["call_title"],
    )
    return grant, row["technologies"]


async def _grants(fund: int | None, call: int | None) -> list[tuple[FundedGrant, str]]:
    return [_grant(row) for row in await database.fetch(sql.FUNDED_PROJECTS, fund, call)]


async def giving(
    prefix: str, site: str, *, fund: int | None = None, call: int | None = None
) -> dict[str, Any]:
    """The 360Giving (1.4.3) package of funded projects, of one fund or call if given.

    NotFound when there is none: the standard's package holds at least one grant."""
    grants = [grant for grant, _ in await _grants(fund, call)]
    if not grants:
        raise NotFound(NO_GRANTS)
    return giving_package(grants, prefix, site, PUBLISHER, clock.now())


async def has_grants(*, fund: int | None = None, call: int | None = None) -> bool:
    """Whether giving() has a package for this fund or call (for links to it)."""
    return bool(await database.fetchval(sql.HAS_FUNDED_PROJECTS, fund, call))


async def funded_table(
    prefix: str, site: str, *, fund: int | None = None, call: int | None = None
) -> Table:
    """The same projects as one row each, for a spreadsheet."""
    rows = []
    for grant, technologies in await _grants(fund, call):
        rows.append(
            (
                grant_id(prefix, grant.code),
                grant.code,
                grant.title,
                organisation_id(prefix, grant.organisation_code, grant.tax_number),
                grant.organisation_name,
                grant.province,
                grant.fund_name,
                grant.call_title,
                grant.amount_vnd,
                grant.award_date.isoformat(),
                grant.starts_on.isoformat(),
                grant.ends_on.isoformat(),
                technologies,
                f"{site}/projects/{grant.project_id}",
            )
        )
    return Table(CSV_HEADER, tuple(rows))


@dataclass(frozen=True, slots=True)
class FundedItem:
    project_id: int
    title: Localized
    organisation: Localized
    amount_vnd: int


@dataclass(frozen=True, slots=True)
class CallResults:
    """A call's public results: aggregates frozen at approval and the projects funded."""

    call_id: int
    title: Localized
    fund_id: int
    fund_name: Localized
    approved_at: dt.datetime
    statistics: CallStatistics
    projects: tuple[FundedItem, ...]


def _localized(row: Any, prefix: str) -> Localized:
    return Localized(row[f"{prefix}_vi"], row[f"{prefix}_en"] or None)


async def call_results(call_id: int) -> CallResults:
    """The results of a published call whose outcomes are approved; NotFound otherwise (a
    proposed decision, or none, shows nothing)."""
    row = await database.fetchrow(sql.CALL_RESULTS, call_id)
    if row is None:
        raise NotFound()
    projects = await database.fetch(sql.CALL_PROJECTS, call_id)
    return CallResults(
        call_id=row["id"],
        title=_localized(row, "title"),
        fund_id=row["fund_id"],
        fund_name=_localized(row, "fund"),
        approved_at=row["approved_at"],
        statistics=CallStatistics.from_json(json.loads(row["statistics"])),
        projects=tuple(
            FundedItem(
                p["id"], _localized(p, "title"), _localized(p, "organisation"), p["amount_vnd"]
            )
            for p in projects
        ),
    )


async def calls_with_results(call_ids: list[int]) -> frozenset[int]:
    """Which of these calls have public results (for links to them)."""
    return frozenset(r["id"] for r in await database.fetch(sql.CALLS_WITH_RESULTS, call_ids))
