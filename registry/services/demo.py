"""Bulk-loading demo projects (COPY), marked `is_demo` so every page can say so."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Mapping
from typing import Any

from registry import database
from registry.domain import demo
from registry.domain.errors import InvalidReferenceData
from registry.services import search
from registry.services.queries import projects as projects_sql
from registry.services.reference import organisation_values, upsert_by_key
from registry.tables import catalogue as t

BATCH = 20_000


async def has_projects() -> bool:
    return bool(await database.fetchval("SELECT EXISTS (SELECT 1 FROM project)"))


async def replace_demo_projects(
    count: int, vocabulary: Mapping[str, Any], *, seed: int = 57, progress: Any = None
) -> int:
    """Delete earlier demo projects and load `count` new ones; returns how many were loaded.

    Each batch is its own transaction (a million rows in one would hold locks for minutes);
    the search index and funding summaries are brought up to date at the end.
    """
    async with database.connection() as conn:
        funds = [
            (r["code"], r["kind"])
            for r in await conn.fetch("SELECT code, kind FROM fund ORDER BY id")
        ]
        if not funds:
            raise InvalidReferenceData("load the reference fixtures before demo data")
        technologies = {
            r["slug"]: r["id"] for r in await conn.fetch("SELECT slug, id FROM technology")
        }
        missing = set(vocabulary["topics"]) - set(technologies)
        if missing:
            raise InvalidReferenceData(
                "demo topics name unknown technologies: %(slugs)s", slugs=", ".join(sorted(missing))
            )
        fund_ids = {r["code"]: r["id"] for r in await conn.fetch("SELECT code, id FROM fund")}
    async with database.transaction(), database.connection() as conn:
        organisations = {}
        for item in vocabulary["organisations"]:
            values = organisation_values(item, is_demo=True)
            organisations[values["code"]] = await upsert_by_key(
                conn, t.Organisation, "code", values
            )
        await conn.execute("DELETE FROM search_entry WHERE kind = 'project' AND is_demo")
        await conn.execute("DELETE FROM project WHERE is_demo")

    generated = demo.generate(count, vocabulary, funds, seed=seed)
    loaded = 0
    # Bulk: index at the end, all at once (search.indexes_built_after) and, batch by batch,
    # make the search entries of one batch while the next is generated and copied.
    bulk = search.indexes_built_after() if count >= search.BULK else contextlib.nullcontext()
    async with bulk:
        indexing: asyncio.Task[None] | None = None
        while batch := await asyncio.to_thread(list, itertools.islice(generated, BATCH)):
            ids = await _copy_batch(batch, organisations, fund_ids, technologies)
            if indexing:
                await indexing
            # Started outside the batch's transaction, so it runs on a connection of its own.
            indexing = asyncio.create_task(search.index_projects(ids[0], ids[-1]))
            loaded += len(batch)
            if progress:
                progress(loaded)
        if indexing:
            await indexing
    await search.refresh_derived()
    return loaded


async def _copy_batch(
    batch: list[demo.DemoProject],
    organisations: Mapping[str, int],
    fund_ids: Mapping[str, int],
    technologies: Mapping[str, int],
) -> range:
    """Copy one batch of projects and their technologies, in one transaction; their ids."""
    async with database.transaction(), database.connection() as conn:
        first_id = await conn.fetchval(
            "SELECT nextval(pg_get_serial_sequence('project', 'id'))"
        )
        ids = range(first_id, first_id + len(batch))
        await conn.execute(
            "SELECT setval(pg_get_serial_sequence('project', 'id'), $1)", ids[-1]
        )
        await conn.copy_records_to_table(
            "project",
            columns=projects_sql.COPY_COLUMNS,
            records=[
                (
                    pid,
                    p.code,
                    p.title_vi,
                    p.title_en,
                    p.abstract_vi,
                    p.abstract_en,
                    organisations[p.organisation_code],
                    fund_ids[p.fund_code],
                    p.amount_vnd,
                    p.starts_on,
                    p.ends_on,
                    p.province,
                    p.sort_key,
                    True,
                )
                for pid, p in zip(ids, batch, strict=True)
            ],
        )
        await conn.copy_records_to_table(
            "project_technology",
            columns=["project", "technology"],
            records=[
                (pid, technologies[slug])
                for pid, p in zip(ids, batch, strict=True)
                for slug in p.technology_slugs
            ],
        )
    return ids
