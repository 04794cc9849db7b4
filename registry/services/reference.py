"""Loading the reference data (technology lists, laboratories, exchanges, funds, zones,
organisations) from a fixture file: idempotent upserts by natural key, each item checked
(identifiers, codes that must exist) before anything is written, then the search index.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from registry import database
from registry.domain import catalogue as c
from registry.domain.errors import InvalidReferenceData
from registry.domain.identifiers import is_valid_ror, is_valid_tax_number, normalise_ror
from registry.domain.text import clean, collation_key
from registry.services import search
from registry.tables import catalogue as t


@dataclass(frozen=True, slots=True)
class LoadReport:
    """How many rows each section of a reference file holds after loading."""

    counts: dict[str, int]


def _text(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidReferenceData("%(key)s must be text", key=key)
    return clean(value) or None


def _date(item: Mapping[str, Any], key: str) -> dt.date | None:
    value = item.get(key)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidReferenceData("%(key)s must be a date YYYY-MM-DD", key=key) from None


def _required(item: Mapping[str, Any], key: str) -> str:
    value = _text(item, key)
    if not value:
        raise InvalidReferenceData("%(key)s is required", key=key)
    return value


async def upsert_by_key(conn: Any, table: type, key: str, values: dict[str, Any]) -> int:
    """Insert or update one row identified by its natural key; returns its id."""
    columns = list(values)
    placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    updates = ", ".join(f"{col} = EXCLUDED.{col}" for col in columns if col != key)
    changed = " OR ".join(
        f"{table._meta.tablename}.{col} IS DISTINCT FROM EXCLUDED.{col}"
        for col in columns
        if col != key
    )
    name = table._meta.tablename
    row_id = await conn.fetchval(
        f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({placeholders}) "
        f"ON CONFLICT ({key}) DO UPDATE SET {updates} WHERE {changed} RETURNING id",
        *values.values(),
    )
    if row_id is None:  # nothing changed, so nothing was returned
        row_id = await conn.fetchval(f"SELECT id FROM {name} WHERE {key} = $1", values[key])
    return row_id


def _notes(item: Mapping[str, Any]) -> dict[str, str | None]:
    return {"note_vi": _text(item, "note_vi"), "note_en": _text(item, "note_en")}


def organisation_values(item: Mapping[str, Any], *, is_demo: bool = False) -> dict[str, Any]:
    kind = _required(item, "kind")
    if kind not in set(c.OrganisationKind):
        raise InvalidReferenceData("unknown organisation kind %(kind)s", kind=kind)
    tax_number = _text(item, "tax_number")
    if tax_number and not is_valid_tax_number(tax_number):
        raise InvalidReferenceData("tax number %(value)s is not 10 or 13 digits", value=tax_number)
    ror = _text(item, "ror_id")
    if ror:
        if not is_valid_ror(ror):
            raise InvalidReferenceData("ROR id %(value)s fails its check digits", value=ror)
        ror = normalise_ror(ror)
    name_vi = _required(item, "name_vi")
    return {
        "code": _required(item, "code"),
        "name_vi": name_vi,
        "name_en": _text(item, "name_en"),
        "kind": kind,
        "province": _text(item, "province"),
        "tax_number": tax_number,
        "ror_id": ror,
        "sort_key": collation_key(name_vi),
        **_notes(item),
        "is_demo": is_demo,
    }


def _lookup(ids: Mapping[str, int], code: str | None, what: str) -> int | None:
    if code is None:
        return None
    if code not in ids:
        raise InvalidReferenceData("unknown %(what)s %(code)s", what=what, code=code)
    return ids[code]


async def load_reference(data: Mapping[str, Sequence[Mapping[str, Any]]]) -> LoadReport:
    """Load reference data (fixtures/reference.json) in one transaction; loading the same data
    again changes nothing. Raises InvalidReferenceData, leaving the database as it was."""
    async with database.transaction(), database.connection() as conn:
        technologies: dict[str, int] = {}
        for item in data.get("technologies", ()):
            name_vi = _required(item, "name_vi")
            technologies[_required(item, "slug")] = await upsert_by_key(
                conn,
                t.Technology,
                "slug",
                {
                    "slug": _required(item, "slug"),
                    "name_vi": name_vi,
                    "name_en": _text(item, "name_en"),
                    "sort_key": collation_key(name_vi),
                    **_notes(item),
                },
            )
        organisations: dict[str, int] = {}
        for item in data.get("organisations", ()):
            values = organisation_values(item)
            organisations[values["code"]] = await upsert_by_key(
                conn, t.Organisation, "code", values
            )
        # Organisations on the official reference lists are confirmed by being listed.
        await conn.execute(
            "UPDATE organisation SET verified_at = now() "
            "WHERE id = ANY($1::int[]) AND verified_at IS NULL",
            list(organisations.values()),
        )
        for item in data.get("technology_lists", ()):
            list_id = await upsert_by_key(
                conn,
                t.TechnologyList,
                "code",
                {
                    "code": _required(item, "code"),
                    "decision_number": _required(item, "decision_number"),
                    "title_vi": _required(item, "title_vi"),
                    "title_en": _text(item, "title_en"),
                    "issued_on": _date(item, "issued_on"),
                    "effective_from": _date(item, "effective_from"),
                    "effective_to": _date(item, "effective_to"),
                    **_notes(item),
                },
            )
            await _load_listings(conn, list_id, item.get("listings", ()), technologies)
        for item in data.get("laboratories", ()):
            name_vi = _required(item, "name_vi")
            lab_id = await upsert_by_key(
                conn,
                t.Laboratory,
                "code",
                {
                    "code": _required(item, "code"),
                    "name_vi": name_vi,
                    "name_en": _text(item, "name_en"),
                    "host": _lookup(organisations, item.get("host"), "organisation"),
                    "fields_vi": _text(item, "fields_vi"),
                    "fields_en": _text(item, "fields_en"),
                    "established_year": item.get("established_year"),
                    "province": _text(item, "province"),
                    "sort_key": collation_key(name_vi),
                    **_notes(item),
                },
            )
            wanted = [
                _lookup(technologies, slug, "technology") for slug in item.get("technologies", ())
            ]
            await conn.execute(
                "DELETE FROM laboratory_technology WHERE laboratory = $1 "
                "AND NOT technology = ANY($2::int[])",
                lab_id,
                wanted,
            )
            await conn.executemany(
                "INSERT INTO laboratory_technology (laboratory, technology) VALUES ($1, $2) "
                "ON CONFLICT DO NOTHING",
                [(lab_id, tech) for tech in wanted],
            )
        for item in data.get("exchanges", ()):
            name_vi = _required(item, "name_vi")
            await upsert_by_key(
                conn,
                t.Exchange,
                "code",
                {
                    "code": _required(item, "code"),
                    "name_vi": name_vi,
                    "name_en": _text(item, "name_en"),
                    "province": _text(item, "province"),
                    "operator": _lookup(organisations, item.get("operator"), "organisation"),
                    "founded_year": item.get("founded_year"),
                    "legal_basis": _text(item, "legal_basis"),
                    "description_vi": _text(item, "description_vi"),
                    "description_en": _text(item, "description_en"),
                    "sort_key": collation_key(name_vi),
                    **_notes(item),
                },
            )
        for item in data.get("funds", ()):
            kind = _required(item, "kind")
            if kind not in set(c.FundKind):
                raise InvalidReferenceData("unknown fund kind %(kind)s", kind=kind)
            capital = item.get("capital_vnd")
            if capital is not None and (type(capital) is not int or capital < 0):
                raise InvalidReferenceData("capital_vnd must be whole đồng")
            name_vi = _required(item, "name_vi")
            await upsert_by_key(
                conn,
                t.Fund,
                "code",
                {
                    "code": _required(item, "code"),
                    "name_vi": name_vi,
                    "name_en": _text(item, "name_en"),
                    "short_name": _text(item, "short_name"),
                    "operator": _lookup(organisations, item.get("operator"), "organisation"),
                    "kind": kind,
                    "capital_vnd": capital,
                    "legal_basis": _text(item, "legal_basis"),
                    "founded_on": _date(item, "founded_on"),
                    "description_vi": _text(item, "description_vi"),
                    "description_en": _text(item, "description_en"),
                    "sort_key": collation_key(name_vi),
                    **_notes(item),
                },
            )
        for item in data.get("zones", ()):
            name_vi = _required(item, "name_vi")
            await upsert_by_key(
                conn,
                t.Zone,
                "code",
                {
                    "code": _required(item, "code"),
                    "name_vi": name_vi,
                    "name_en": _text(item, "name_en"),
                    "province": _text(item, "province"),
                    "established_on": _date(item, "established_on"),
                    "area_ha": item.get("area_ha"),
                    "legal_basis": _text(item, "legal_basis"),
                    "sort_key": collation_key(name_vi),
                    **_notes(item),
                },
            )
        await search.reindex([k for k in c.Kind if k is not c.Kind.PROJECT])
        counts = {}
        for section, table in (
            ("technologies", t.Technology),
            ("technology_lists", t.TechnologyList),
            ("organisations", t.Organisation),
            ("laboratories", t.Laboratory),
            ("exchanges", t.Exchange),
            ("funds", t.Fund),
            ("zones", t.Zone),
        ):
            counts[section] = await conn.fetchval(f"SELECT count(*) FROM {table._meta.tablename}")
    return LoadReport(counts)


async def _load_listings(
    conn: Any, list_id: int, listings: Sequence[Mapping[str, Any]], technologies: Mapping[str, int]
) -> None:
    for item in listings:
        technology_id = _lookup(technologies, item.get("technology"), "technology")
        listing_id = await conn.fetchval(
            """INSERT INTO technology_listing (technology_list, technology, position, name_vi,
                   name_en, note_vi, note_en) VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (technology_list, technology) DO UPDATE SET
                   position = EXCLUDED.position, name_vi = EXCLUDED.name_vi,
                   name_en = EXCLUDED.name_en, note_vi = EXCLUDED.note_vi,
                   note_en = EXCLUDED.note_en
               RETURNING id""",
            list_id,
            technology_id,
            int(item["position"]),
            _required(item, "name_vi"),
            _text(item, "name_en"),
            _text(item, "note_vi"),
            _text(item, "note_en"),
        )
        products = item.get("products", ())
        for position, product in enumerate(products, start=1):
            await conn.execute(
                """INSERT INTO technology_product (listing, position, name_vi, name_en,
                       is_priority) VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (listing, position) DO UPDATE SET name_vi = EXCLUDED.name_vi,
                       name_en = EXCLUDED.name_en, is_priority = EXCLUDED.is_priority
                   WHERE (technology_product.name_vi, technology_product.name_en,
                          technology_product.is_priority)
                     IS DISTINCT FROM (EXCLUDED.name_vi, EXCLUDED.name_en, EXCLUDED.is_priority)""",
                listing_id,
                position,
                _required(product, "name_vi"),
                _text(product, "name_en"),
                bool(product.get("is_priority", False)),
            )
        await conn.execute(
            "DELETE FROM technology_product WHERE listing = $1 AND position > $2",
            listing_id,
            len(products),
        )
