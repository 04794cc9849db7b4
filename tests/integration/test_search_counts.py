"""Counts kept between searches (services.search.CountCache): they serve a query's every
page and repeat, and are never shown once an entry has changed."""

from __future__ import annotations

import asyncpg
import pytest

from registry import database
from registry.domain.catalogue import Kind
from registry.domain.search import EXPORT_LIMIT, PAGE_SIZE, Filters
from registry.services import search

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("catalogue")]

WORD = "zzcounted"


async def add(*object_ids: int) -> None:
    rows = [
        search.SourceRow(
            "project", object_id, f"Dự án {WORD} {object_id}", None, [f"Tóm tắt {WORD}"],
            None, None, (), "Hà Nội", None, 2026, None, False,
        )
        for object_id in object_ids
    ]  # fmt: skip
    async with database.connection() as conn:
        await search.insert_entries(conn, rows, upsert=True)


class RolledBack(Exception):
    pass


async def add_and_roll_back(object_id: int) -> int:
    """The total a search sees inside a transaction that adds an entry and then rolls back."""
    seen = 0
    try:
        async with database.transaction():
            await add(object_id)
            seen = await total()
            raise RolledBack
    except RolledBack:
        return seen


async def total() -> int:
    return (await search.search(WORD, Filters())).total


async def test_counts_are_kept_until_an_entry_changes(db: asyncpg.Connection) -> None:
    try:
        await add(990001, 990002, 990003)
        assert await total() == 3
        # Kept: an entry added where the change is not noted is not counted, nor shown on the
        # first page asked again, read up to the ids it showed (this is what the trigger on
        # search_entry is for); counted afresh (projects only: counts not kept), it is there ...
        await db.execute("ALTER TABLE search_entry DISABLE TRIGGER search_entry_changed")
        try:
            await add(990004)
        finally:
            await db.execute("ALTER TABLE search_entry ENABLE TRIGGER search_entry_changed")
        kept = await search.search(WORD, Filters())
        assert (kept.total, len(kept.hits)) == (3, 3)
        assert len((await search.search(WORD, Filters(kind=(Kind.PROJECT,)))).hits) == 4
        # ... and the next search after a change that commits counts again.
        await add(990005)
        assert await total() == 5
        counted = await search.search(WORD, Filters(province="Hà Nội"))
        assert counted.total == 5
        assert [(v.value, v.count) for v in counted.facets["province"]] == [("Hà Nội", 5)]
        assert [(v.value, v.count) for v in counted.choices["province"]] == [("Hà Nội", 5)]
        await db.execute("DELETE FROM search_entry WHERE object_id = 990005")
        assert await total() == 4
        recounted = await search.search(WORD, Filters(province="Hà Nội"))
        assert recounted.total == 4
        # The values one more province could be chosen from are counted again too.
        assert [(v.value, v.count) for v in recounted.choices["province"]] == [("Hà Nội", 4)]
    finally:
        await db.execute("DELETE FROM search_entry WHERE title_vi LIKE $1", f"%{WORD}%")


async def test_a_search_inside_a_transaction_keeps_no_counts(db: asyncpg.Connection) -> None:
    try:
        await add(990011, 990012)
        assert await total() == 2

        seen_inside = await add_and_roll_back(990013)
        assert seen_inside == 3  # its own entry, uncommitted
        assert await total() == 2
        assert await db.fetchval("SELECT count(*) FROM search_entry WHERE object_id = 990013") == 0
    finally:
        await db.execute("DELETE FROM search_entry WHERE title_vi LIKE $1", f"%{WORD}%")


async def test_a_first_page_asked_again_shows_what_changed(db: asyncpg.Connection) -> None:
    """Asked again, a first page is read only up to the last id of each tier it showed (its
    hits kept with the counts); the next search after a change reads it afresh."""
    object_ids = range(990021, 990021 + PAGE_SIZE + 5)
    try:
        await add(*object_ids)
        first = await search.search(WORD, Filters())
        again = await search.search(WORD, Filters())
        key = (WORD, Filters(), 0)
        assert search.COUNTS.first_page(key, PAGE_SIZE) is not None
        # An export's thousands of rows are not kept (a thousand queries would hold them).
        await search.search(WORD, Filters(), page_size=EXPORT_LIMIT)
        assert search.COUNTS.first_page(key, EXPORT_LIMIT) is None
        assert search.COUNTS.first_page(key, PAGE_SIZE) is not None
        assert [hit.id for hit in again.hits] == [hit.id for hit in first.hits]
        assert len(again.hits) == PAGE_SIZE
        assert again.next_cursor == first.next_cursor

        shown = first.hits[3].id
        await db.execute("DELETE FROM search_entry WHERE object_id = $1", shown)
        changed = await search.search(WORD, Filters())
        expected = [hit.id for hit in first.hits if hit.id != shown]
        assert [hit.id for hit in changed.hits][: PAGE_SIZE - 1] == expected
        assert len(changed.hits) == PAGE_SIZE  # the first of the next page moved up
        assert changed.hits[-1].id not in {hit.id for hit in first.hits}
        assert changed.total == PAGE_SIZE + 4
    finally:
        await db.execute("DELETE FROM search_entry WHERE title_vi LIKE $1", f"%{WORD}%")
