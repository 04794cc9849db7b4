"""Ranking over every match and counts, on a realistic data set (42,000 demo projects).

The rows go to a search_entry of the test's own, in one transaction on its own connection,
rolled back at the end; the statements are the ones services.search runs.
bench/catalogue.py --agreement runs the same check on 200,000 rows and more.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from registry.domain import demo
from registry.domain.catalogue import Kind
from registry.domain.search import PAGE_SIZE, Cursor, Filters
from registry.domain.terms import parse_query
from registry.services import search

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("catalogue")]
ROWS = 42_000
FIRST_ID = 50_000_000
VOCABULARY = json.loads(
    (Path(__file__).resolve().parents[2] / "fixtures" / "demo_vocabulary.json").read_text()
)
#: Broad, phrase, unaccented, mixed and rare queries.
QUERIES = (
    "nghiên cứu",
    "đất hiếm",
    "dat hiem",
    '"lượng tử"',
    "Đà Nẵng",
    "da nang",
    "đà nang dữ liệu",
    "hòa",
    '"tiết kiệm năng lượng" -đất',
    "perovskite",
)


@pytest.fixture(scope="module")
async def bulk(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection in a transaction holding ROWS more demo projects in search_entry."""
    conn = await asyncpg.connect(database_url)
    transaction = conn.transaction()
    await transaction.start()
    try:
        # A search_entry of its own, first on the search path: the shared one keeps no trace
        # (not even dead rows for the other tests' queries to step over).
        await conn.execute(
            """CREATE SCHEMA bulk_search;
               CREATE TABLE bulk_search.search_entry (LIKE public.search_entry INCLUDING ALL);
               SET LOCAL search_path = bulk_search, public"""
        )
        technologies = dict(await conn.fetch("SELECT slug, id FROM technology"))
        funds = await conn.fetch("SELECT code, kind, id FROM fund ORDER BY id")
        fund_ids = {r["code"]: r["id"] for r in funds}
        projects = list(
            demo.generate(ROWS, VOCABULARY, [(r["code"], r["kind"]) for r in funds])
        )
        await search.insert_entries(
            conn,
            (
                search.SourceRow(
                    "project",
                    FIRST_ID + number,
                    p.title_vi,
                    p.title_en,
                    (p.abstract_vi, p.abstract_en, p.province),
                    p.abstract_vi,
                    p.abstract_en,
                    sorted(technologies[slug] for slug in p.technology_slugs),
                    p.province,
                    fund_ids[p.fund_code],
                    p.starts_on.year,
                    p.amount_vnd,
                    True,
                )
                for number, p in enumerate(projects)
            ),
            upsert=False,
        )
        # The texts searched, to check what the hits say.
        await conn.execute(
            "CREATE TEMP TABLE bulk_source (object_id int, text text) ON COMMIT DROP"
        )
        await conn.copy_records_to_table(
            "bulk_source",
            records=[
                (
                    FIRST_ID + number,
                    " ".join((p.title_vi, p.title_en, p.abstract_vi, p.abstract_en, p.province)),
                )
                for number, p in enumerate(projects)
            ],
        )
        await conn.execute("ANALYZE search_entry")
        yield conn
    finally:
        await transaction.rollback()
        await conn.close()


async def _page(
    conn: asyncpg.Connection, text: str, filters: Filters, cursor: Cursor | None = None
) -> list[tuple[int, float, bool]]:
    """A page as the counting statement serves it and, the counts then kept, as the page
    alone serves it, and a first page also as the page alone serves it again, bounded by
    the ids it showed (all the same, or the test fails here)."""
    sql, arguments = search.statement(text, filters, cursor, 0, PAGE_SIZE)
    row = await conn.fetchrow(sql, *arguments)
    sql, arguments = search.statement(text, filters, cursor, 0, PAGE_SIZE, counted=dict(row))
    alone = await conn.fetchrow(sql, *arguments)
    assert alone["hits"] == row["hits"]
    hits = json.loads(row["hits"])
    if cursor is None:
        first_page = [(h[10], h[11]) for h in hits]
        sql, arguments = search.statement(
            text, filters, None, 0, PAGE_SIZE, counted=dict(row), first_page=first_page
        )
        assert "$15" in sql
        again = await conn.fetchrow(sql, *arguments)
        assert again["hits"] == row["hits"]
    return [(h[11], h[10], h[12]) for h in hits]


async def _ranked(conn: asyncpg.Connection, text: str, filters: Filters) -> list[int]:
    (province,) = filters.province or (None,)  # ranked_statement() takes one province at most
    sql, arguments = search.ranked_statement(text, province)
    return [row["id"] for row in await conn.fetch(sql, *arguments)]


@pytest.mark.parametrize("query", QUERIES)
async def test_the_first_pages_are_the_best_of_every_match(bulk, query):
    everything = await _ranked(bulk, query, Filters())
    first = await _page(bulk, query, Filters())

    assert len(everything) > PAGE_SIZE
    assert [id_ for id_, _, _ in first[:PAGE_SIZE]] == everything[:PAGE_SIZE]
    # The next page, through the cursor the page hands out, goes on where it stopped.
    last_id, last_rank, _ = first[PAGE_SIZE - 1]
    cursor = Cursor("relevance", False, 2, last_rank, last_id)
    second = await _page(bulk, query, Filters(), cursor)
    assert [id_ for id_, _, _ in second[:PAGE_SIZE]] == everything[PAGE_SIZE : 2 * PAGE_SIZE]
    # Back from the third page's first hit (the same keyset read in reverse): the second again.
    third_id, third_rank, _ = second[PAGE_SIZE]
    back = await _page(bulk, query, Filters(), Cursor("relevance", True, 2, third_rank, third_id))
    assert [id_ for id_, _, _ in back[-PAGE_SIZE:]] == everything[PAGE_SIZE : 2 * PAGE_SIZE]


async def test_filters_narrow_before_ranking(bulk):
    filters = Filters(province="Hà Nội")
    everything = await _ranked(bulk, "dat hiem", filters)
    assert [id_ for id_, _, _ in (await _page(bulk, "dat hiem", filters))[:PAGE_SIZE]] == (
        everything[:PAGE_SIZE]
    )


@pytest.mark.parametrize(
    ("query", "spelled"), [("Đà Nẵng", "đà nẵng"), ("đất", "đất"), ("hòa", "hòa")]
)
async def test_words_typed_with_diacritics_come_before_fold_twins(bulk, query, spelled):
    hits = await _page(bulk, query, Filters(kind=Kind.PROJECT))
    texts = await bulk.fetch(
        """SELECT lower(b.text) AS text
           FROM unnest($1::int[]) WITH ORDINALITY AS h(id, position)
           JOIN search_entry e ON e.id = h.id
           JOIN bulk_source b ON b.object_id = e.object_id
           ORDER BY h.position""",
        [id_ for id_, _, _ in hits[:PAGE_SIZE]],
    )
    parsed = parse_query(query)
    folded_twins = await bulk.fetchval(
        "SELECT count(*) FROM search_entry WHERE terms @@ $1::tsquery AND NOT terms @@ $2::tsquery",
        parsed.match,
        parsed.exact,
    )

    assert folded_twins > 1000  # the query's folded form is common: there is something to beat
    assert len(texts) == PAGE_SIZE
    assert [row["text"] for row in texts if spelled not in row["text"]] == []
    assert all(is_exact for _, _, is_exact in hits[:PAGE_SIZE])


async def test_broad_counts_are_estimates_within_five_percent(bulk):
    query = "dự án"  # in four rows of five
    sql, arguments = search.statement(query, Filters(), None, 0, PAGE_SIZE)
    row = await bulk.fetchrow(sql, *arguments)
    match = parse_query(query).match
    true_total = await bulk.fetchval(
        "SELECT count(*) FROM search_entry WHERE terms @@ $1::tsquery", match
    )
    true_provinces = dict(
        await bulk.fetch(
            "SELECT province, count(*) FROM search_entry WHERE terms @@ $1::tsquery "
            "AND province IS NOT NULL GROUP BY province",
            match,
        )
    )
    # The sample counted: the smallest holding SAMPLE_MIN matches.
    scale = next(s for s in search.SAMPLES if true_total / s >= search.SAMPLE_MIN)

    assert scale > 1
    assert row["is_estimate"]
    assert abs(row["total"] - true_total) <= 0.05 * true_total
    # Each facet value within three standard errors of a 1-in-`scale` sample of its count.
    for province, estimated in json.loads(row["provinces"]):
        true = true_provinces[province]
        assert abs(estimated - true) <= 3 * math.sqrt(true * scale) + scale


async def test_counts_below_the_sample_threshold_are_exact(bulk):
    query = "perovskite"
    sql, arguments = search.statement(query, Filters(), None, 0, PAGE_SIZE)
    row = await bulk.fetchrow(sql, *arguments)
    assert not row["is_estimate"]
    assert row["total"] == await bulk.fetchval(
        "SELECT count(*) FROM search_entry WHERE terms @@ 'perovskite'"
    )
