"""Counts kept between searches (services.search.CountCache): they serve a query's every
page and repeat, and are never shown once an entry has changed."""

from __future__ import annotations

import asyncpg
import pytest

from registry import database
from registry.domain.search import Filters
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
        # Kept: an entry added where the change is not noted is not counted, though the page,
        # read afresh, shows it (this is what the trigger on search_entry is for) ...
        await db.execute("ALTER TABLE search_entry DISABLE TRIGGER search_entry_changed")
        try:
            await add(990004)
        finally:
            await db.execute("ALTER TABLE search_entry ENABLE TRIGGER search_entry_changed")
        kept = await search.search(WORD, Filters())
        assert (kept.total, len(kept.hits)) == (3, 4)
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
