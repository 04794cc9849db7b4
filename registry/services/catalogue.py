"""The public catalogue: lists and detail pages, the overview (reference data is loaded by
`services.reference`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from registry import database
from registry.domain import catalogue as c
from registry.domain.errors import NotFound
from registry.domain.search import decode_cursor, encode_cursor, parse_date_cursor

PROJECTS_PAGE_SIZE = 20


def _localized(row: Mapping[str, Any], prefix: str) -> c.Localized | None:
    return c.Localized.optional(row[f"{prefix}_vi"], row[f"{prefix}_en"])


def _name(row: Mapping[str, Any], prefix: str = "name") -> c.Localized:
    return c.Localized(row[f"{prefix}_vi"], row[f"{prefix}_en"])


# --- reference data ---------------------------------------------------------------------------


# --- overview ---------------------------------------------------------------------------------


async def overview() -> c.Overview:
    row = await database.fetchrow(
        """SELECT (SELECT count(*) FROM technology) AS technology,
                  (SELECT count(*) FROM laboratory) AS laboratory,
                  (SELECT count(*) FROM exchange) AS exchange,
                  (SELECT count(*) FROM fund) AS fund,
                  (SELECT count(*) FROM zone) AS zone,
                  (SELECT coalesce(sum(project_count), 0) FROM fund_funding) AS project,
                  (SELECT coalesce(sum(funded_total), 0) FROM fund_funding) AS funded,
                  (SELECT coalesce(bool_or(has_demo), false) FROM fund_funding) AS has_demo"""
    )
    assert row is not None
    bars = await database.fetch(
        """SELECT t.id, t.name_vi, t.name_en, f.funded_total, f.project_count
           FROM technology_funding f JOIN technology t ON t.id = f.technology_id
           ORDER BY f.funded_total DESC, t.sort_key COLLATE "C" """
    )
    return c.Overview(
        counts={kind: int(row[kind.value]) for kind in c.Kind},
        funded_total=int(row["funded"]),
        by_technology=tuple(
            c.GroupAmount(
                c.Ref(c.Kind.TECHNOLOGY, b["id"], _name(b)), b["funded_total"], b["project_count"]
            )
            for b in bars
        ),
        has_demo_data=row["has_demo"],
    )


# --- technologies -----------------------------------------------------------------------------

_TECHNOLOGY_SQL = """
SELECT t.id, t.slug, t.name_vi, t.name_en, t.note_vi, t.note_en,
       coalesce(f.project_count, 0) AS project_count, coalesce(f.funded_total, 0) AS funded_total
FROM technology t LEFT JOIN technology_funding f ON f.technology_id = t.id
"""


def _technology(row: Mapping[str, Any], **extra: Any) -> c.Technology:
    return c.Technology(
        id=row["id"],
        slug=row["slug"],
        name=_name(row),
        note=_localized(row, "note"),
        project_count=row["project_count"],
        funded_total=row["funded_total"],
        **extra,
    )


def _technology_list(row: Mapping[str, Any]) -> c.TechnologyList:
    return c.TechnologyList(
        id=row["list_id"],
        code=row["code"],
        decision_number=row["decision_number"],
        title=_name(row, "title"),
        issued_on=row["issued_on"],
        effective_from=row["effective_from"],
        effective_to=row["effective_to"],
        note=c.Localized.optional(row["list_note_vi"], row["list_note_en"]),
    )


async def technology_lists() -> tuple[c.TechnologyList, ...]:
    rows = await database.fetch(
        """SELECT id AS list_id, code, decision_number, title_vi, title_en, issued_on,
                  effective_from, effective_to, note_vi AS list_note_vi, note_en AS list_note_en
           FROM technology_list ORDER BY coalesce(issued_on, effective_from, 'infinity'), id"""
    )
    return tuple(_technology_list(r) for r in rows)


async def list_technologies() -> tuple[c.Technology, ...]:
    rows = await database.fetch(_TECHNOLOGY_SQL + ' ORDER BY t.sort_key COLLATE "C", t.id')
    return tuple(_technology(r) for r in rows)


async def get_technology(technology_id: int) -> c.Technology:
    row = await database.fetchrow(_TECHNOLOGY_SQL + " WHERE t.id = $1", technology_id)
    if row is None:
        raise NotFound("No such technology.")
    listings = await database.fetch(
        """SELECT l.id AS listing_id, l.position, l.name_vi, l.name_en, l.note_vi, l.note_en,
                  tl.id AS list_id, tl.code, tl.decision_number, tl.title_vi, tl.title_en,
                  tl.issued_on, tl.effective_from, tl.effective_to,
                  tl.note_vi AS list_note_vi, tl.note_en AS list_note_en,
                  coalesce((SELECT json_agg(json_build_array(p.name_vi, p.name_en, p.is_priority)
                                            ORDER BY p.position)
                            FROM technology_product p WHERE p.listing = l.id)::text, '[]')
                      AS products
           FROM technology_listing l JOIN technology_list tl ON tl.id = l.technology_list
           WHERE l.technology = $1
           ORDER BY coalesce(tl.issued_on, tl.effective_from, 'infinity'), tl.id""",
        technology_id,
    )
    history = tuple(
        c.Listing(
            technology_list=_technology_list(r),
            position=r["position"],
            name=_name(r),
            note=_localized(r, "note"),
            products=tuple(
                c.Product(c.Localized(vi, en), bool(priority))
                for vi, en, priority in json.loads(r["products"])
            ),
        )
        for r in listings
    )
    labs = await database.fetch(
        """SELECT l.id, l.name_vi, l.name_en FROM laboratory l
           JOIN laboratory_technology lt ON lt.laboratory = l.id
           WHERE lt.technology = $1 ORDER BY l.sort_key COLLATE "C", l.id""",
        technology_id,
    )
    return _technology(
        row,
        history=history,
        laboratories=tuple(c.Ref(c.Kind.LABORATORY, r["id"], _name(r)) for r in labs),
    )


# --- laboratories, exchanges, funds, zones ----------------------------------------------------

_LABORATORY_SQL = """
SELECT l.id, l.code, l.name_vi, l.name_en, l.fields_vi, l.fields_en, l.province,
       l.established_year, l.note_vi, l.note_en, o.name_vi AS host_vi, o.name_en AS host_en
FROM laboratory l LEFT JOIN organisation o ON o.id = l.host
"""


def _laboratory(row: Mapping[str, Any], **extra: Any) -> c.Laboratory:
    return c.Laboratory(
        id=row["id"],
        code=row["code"],
        name=_name(row),
        host=_localized(row, "host"),
        fields=_localized(row, "fields"),
        province=row["province"],
        established_year=row["established_year"],
        note=_localized(row, "note"),
        **extra,
    )


async def list_laboratories() -> tuple[c.Laboratory, ...]:
    rows = await database.fetch(_LABORATORY_SQL + ' ORDER BY l.sort_key COLLATE "C", l.id')
    return tuple(_laboratory(r) for r in rows)


async def get_laboratory(laboratory_id: int) -> c.Laboratory:
    row = await database.fetchrow(_LABORATORY_SQL + " WHERE l.id = $1", laboratory_id)
    if row is None:
        raise NotFound("No such laboratory.")
    technologies = await database.fetch(
        """SELECT t.id, t.name_vi, t.name_en FROM technology t
           JOIN laboratory_technology lt ON lt.technology = t.id
           WHERE lt.laboratory = $1 ORDER BY t.sort_key COLLATE "C", t.id""",
        laboratory_id,
    )
    return _laboratory(
        row, technologies=tuple(c.Ref(c.Kind.TECHNOLOGY, r["id"], _name(r)) for r in technologies)
    )


_EXCHANGE_SQL = """
SELECT e.id, e.code, e.name_vi, e.name_en, e.province, e.founded_year, e.legal_basis,
       e.description_vi, e.description_en, e.note_vi, e.note_en,
       o.name_vi AS operator_vi, o.name_en AS operator_en
FROM exchange e LEFT JOIN organisation o ON o.id = e.operator
"""


def _exchange(row: Mapping[str, Any]) -> c.Exchange:
    return c.Exchange(
        id=row["id"],
        code=row["code"],
        name=_name(row),
        province=row["province"],
        operator=_localized(row, "operator"),
        founded_year=row["founded_year"],
        legal_basis=row["legal_basis"],
        description=_localized(row, "description"),
        note=_localized(row, "note"),
    )


async def list_exchanges() -> tuple[c.Exchange, ...]:
    rows = await database.fetch(_EXCHANGE_SQL + ' ORDER BY e.sort_key COLLATE "C", e.id')
    return tuple(_exchange(r) for r in rows)


async def get_exchange(exchange_id: int) -> c.Exchange:
    row = await database.fetchrow(_EXCHANGE_SQL + " WHERE e.id = $1", exchange_id)
    if row is None:
        raise NotFound("No such technology exchange.")
    return _exchange(row)


_FUND_SQL = """
SELECT f.id, f.code, f.name_vi, f.name_en, f.short_name, f.kind, f.capital_vnd, f.legal_basis,
       f.founded_on, f.description_vi, f.description_en, f.note_vi, f.note_en,
       o.name_vi AS operator_vi, o.name_en AS operator_en,
       coalesce(s.project_count, 0) AS project_count, coalesce(s.funded_total, 0) AS funded_total
FROM fund f LEFT JOIN organisation o ON o.id = f.operator
LEFT JOIN fund_funding s ON s.fund_id = f.id
"""


def _fund(row: Mapping[str, Any]) -> c.Fund:
    return c.Fund(
        id=row["id"],
        code=row["code"],
        name=_name(row),
        short_name=row["short_name"],
        operator=_localized(row, "operator"),
        kind=c.FundKind(row["kind"]),
        capital_vnd=row["capital_vnd"],
        legal_basis=row["legal_basis"],
        founded_on=row["founded_on"],
        description=_localized(row, "description"),
        note=_localized(row, "note"),
        project_count=row["project_count"],
        funded_total=row["funded_total"],
    )


async def list_funds() -> tuple[c.Fund, ...]:
    rows = await database.fetch(_FUND_SQL + ' ORDER BY f.sort_key COLLATE "C", f.id')
    return tuple(_fund(r) for r in rows)


async def get_fund(fund_id: int) -> c.Fund:
    row = await database.fetchrow(_FUND_SQL + " WHERE f.id = $1", fund_id)
    if row is None:
        raise NotFound("No such fund.")
    return _fund(row)


_ZONE_SQL = """
SELECT id, code, name_vi, name_en, province, established_on, area_ha, legal_basis,
       note_vi, note_en FROM zone
"""


def _zone(row: Mapping[str, Any]) -> c.Zone:
    return c.Zone(
        id=row["id"],
        code=row["code"],
        name=_name(row),
        province=row["province"],
        established_on=row["established_on"],
        area_ha=row["area_ha"],
        legal_basis=row["legal_basis"],
        note=_localized(row, "note"),
    )


async def list_zones() -> tuple[c.Zone, ...]:
    rows = await database.fetch(_ZONE_SQL + ' ORDER BY sort_key COLLATE "C", id')
    return tuple(_zone(r) for r in rows)


async def get_zone(zone_id: int) -> c.Zone:
    row = await database.fetchrow(_ZONE_SQL + " WHERE id = $1", zone_id)
    if row is None:
        raise NotFound("No such high-tech zone.")
    return _zone(row)


# --- projects ---------------------------------------------------------------------------------

_PROJECT_SQL = """
SELECT p.id, p.code, p.title_vi, p.title_en, p.amount_vnd, p.starts_on, p.ends_on, p.province,
       p.is_demo, o.name_vi AS organisation_vi, o.name_en AS organisation_en,
       f.id AS fund_id, f.name_vi AS fund_vi, f.name_en AS fund_en,
       cl.id AS call_id, cl.title_vi AS call_vi, cl.title_en AS call_en {extra}
FROM project p JOIN organisation o ON o.id = p.organisation JOIN fund f ON f.id = p.fund
LEFT JOIN call cl ON cl.id = p.call
"""


def _project(row: Mapping[str, Any], **extra: Any) -> c.Project:
    return c.Project(
        id=row["id"],
        code=row["code"],
        title=_name(row, "title"),
        organisation=_name(row, "organisation"),
        fund=c.Ref(c.Kind.FUND, row["fund_id"], _name(row, "fund")),
        amount_vnd=row["amount_vnd"],
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        province=row["province"],
        is_demo=row["is_demo"],
        call=(
            c.CallRef(row["call_id"], c.Localized(row["call_vi"], row["call_en"] or None))
            if row["call_id"]
            else None
        ),
        **extra,
    )


async def list_projects(
    cursor: str | None = None, page_size: int = PROJECTS_PAGE_SIZE
) -> c.Page[c.Project]:
    """Newest first (by start date), keyset-paginated so page 5,000 costs what page 1 does."""
    sql = _PROJECT_SQL.format(extra="")
    if cursor:
        starts_on, project_id = decode_cursor(cursor, str, int)
        rows = await database.fetch(
            sql + " WHERE (p.starts_on, p.id) < ($1, $2) ORDER BY p.starts_on DESC, p.id DESC "
            "LIMIT $3",
            parse_date_cursor(str(starts_on)),
            project_id,
            page_size + 1,
        )
    else:
        rows = await database.fetch(
            sql + " ORDER BY p.starts_on DESC, p.id DESC LIMIT $1", page_size + 1
        )
    items = tuple(_project(r) for r in rows[:page_size])
    next_cursor = None
    if len(rows) > page_size:
        last = items[-1]
        next_cursor = encode_cursor(last.starts_on.isoformat(), last.id)
    return c.Page(items, next_cursor)


async def get_project(project_id: int) -> c.Project:
    row = await database.fetchrow(
        _PROJECT_SQL.format(extra=", p.abstract_vi, p.abstract_en") + " WHERE p.id = $1",
        project_id,
    )
    if row is None:
        raise NotFound("No such project.")
    technologies = await database.fetch(
        """SELECT t.id, t.name_vi, t.name_en FROM technology t
           JOIN project_technology pt ON pt.technology = t.id
           WHERE pt.project = $1 ORDER BY t.sort_key COLLATE "C", t.id""",
        project_id,
    )
    return _project(
        row,
        abstract=_localized(row, "abstract"),
        technologies=tuple(c.Ref(c.Kind.TECHNOLOGY, r["id"], _name(r)) for r in technologies),
    )


async def organisation_choices() -> tuple[tuple[int, c.Localized], ...]:
    """Every real (not demo) organisation, in Vietnamese order, for forms to choose from."""
    rows = await database.fetch(
        "SELECT id, name_vi, name_en FROM organisation WHERE NOT is_demo "
        'ORDER BY sort_key COLLATE "C", id'
    )
    return tuple((row["id"], _name(row)) for row in rows)


async def refresh_totals() -> None:
    """Recount the funding totals per fund and technology (the catalogue's materialized
    views), without blocking their readers; the application's role does it through a
    function that runs as their owner."""
    await database.execute("SELECT refresh_catalogue_totals()")
