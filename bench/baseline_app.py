"""The floor the application is compared with: the same SQL on a bare asyncpg pool.

No templates, no Piccolo, no middleware, no domain objects: each route runs exactly the
statements the application runs for the same URL and returns the raw row as JSON. Whatever
the application spends above this is its own overhead (parsing, objects, rendering).

Served by bench/catalogue.py as `uvicorn bench.baseline_app:app`; DATABASE_URL must be set.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from litestar import Litestar, get
from litestar.exceptions import NotFoundException

from registry.domain.search import PAGE_SIZE, Filters
from registry.services.search import statement
from registry.settings import Settings

# Copied from registry.services.catalogue.get_project (its _PROJECT_SQL with the abstracts);
# keep them in step when that function changes.
PROJECT_SQL = """
SELECT p.id, p.code, p.title_vi, p.title_en, p.amount_vnd, p.starts_on, p.ends_on, p.province,
       p.is_demo, o.name_vi AS organisation_vi, o.name_en AS organisation_en,
       f.id AS fund_id, f.name_vi AS fund_vi, f.name_en AS fund_en , p.abstract_vi, p.abstract_en
FROM project p JOIN organisation o ON o.id = p.organisation JOIN fund f ON f.id = p.fund
 WHERE p.id = $1"""
PROJECT_TECHNOLOGIES_SQL = """SELECT t.id, t.name_vi, t.name_en FROM technology t
           JOIN project_technology pt ON pt.technology = t.id
           WHERE pt.project = $1 ORDER BY t.sort_key COLLATE "C", t.id"""

SETTINGS = Settings.from_env()
_pool: asyncpg.Pool | None = None


@asynccontextmanager
async def database_pool(_: Litestar) -> AsyncIterator[None]:
    # Same size and statement timeout as the application's pool (registry.database.open_pool).
    global _pool  # one pool per process, opened here before any request
    _pool = await asyncpg.create_pool(
        os.environ["DATABASE_URL"],
        min_size=10,
        max_size=10,
        server_settings={
            "statement_timeout": "3000",
            "synchronize_seqscans": "off",
            "plan_cache_mode": "force_custom_plan",  # as the app (registry/database.py)
            "jit": "off",
        },
    )
    try:
        yield
    finally:
        await _pool.close()


def pool() -> asyncpg.Pool:
    assert _pool is not None, "the lifespan opens the pool before any request"
    return _pool


#: What the application keeps of each query's counts (services.search.CountCache), kept the
#: same way: the counting statement's row and its first page's (rank, id) by query, valid
#: while no entry changes after `_snapshot`.
_counted: dict[str, dict[str, Any]] = {}
_snapshot: str | None = None


@get("/search")
async def search(q: str = "") -> dict[str, Any]:
    global _snapshot  # one process, one event loop: as the application's cache
    cap = SETTINGS.search_candidate_cap
    known = _counted.get(q)
    sql, arguments = statement(
        q,
        Filters(),
        None,
        cap,
        PAGE_SIZE,
        counted=known,
        epoch=_snapshot,
        first_page=known["first_page"] if known else None,
    )
    row = await pool().fetchrow(sql, *arguments)
    assert row is not None
    if _snapshot is None or row["changed"]:
        _counted.clear()
        _snapshot = row["snapshot"]
        if known is not None:
            sql, arguments = statement(q, Filters(), None, cap, PAGE_SIZE)
            row = await pool().fetchrow(sql, *arguments)
            assert row is not None
    if known is None:
        if len(_counted) >= 1000:
            _counted.clear()
        # Its page is this query's first by relevance: kept too, as the application keeps it.
        hits = json.loads(row["hits"])
        _counted[q] = {**row, "first_page": tuple((h[10], h[11]) for h in hits)}
    return dict(row)


@get("/projects/{project_id:int}")
async def project(project_id: int) -> dict[str, Any]:
    # Two pool round trips, as the application makes (one fetchrow, one fetch).
    row = await pool().fetchrow(PROJECT_SQL, project_id)
    if row is None:
        raise NotFoundException()
    technologies = await pool().fetch(PROJECT_TECHNOLOGIES_SQL, project_id)
    return {**dict(row), "technologies": [dict(t) for t in technologies]}


app = Litestar(route_handlers=[search, project], lifespan=[database_pool], debug=False)
