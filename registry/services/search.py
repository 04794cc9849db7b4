"""Search across the catalogue, and keeping its index (search_entry) in step with the tables.

Each entry holds its tokens (domain.terms: words folded, adjacent pairs, title words, words as
written) in a tsvector without positions, kept out of line, with a GIN index:
every condition of a search, ranking bonuses included, is one tsquery the index answers alone,
and counting reads only the narrow row. Every match is ranked (see search_sql); counts of broad
queries are estimated from a 64th, a sixteenth or a quarter of the entries, and a process keeps
a query's counts for its next pages and repeats until an entry changes (CountCache).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import datetime as dt
import functools
import itertools
import json
import math
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from registry import database
from registry.domain import terms
from registry.domain.catalogue import Kind, Localized
from registry.domain.search import (
    FACETS,
    PAGE_SIZE,
    Cursor,
    FacetValue,
    Filters,
    Hit,
    Results,
    check_query,
    check_sort,
    estimate,
    highlight_terms,
)
from registry.domain.text import fold

_ENTRY_COLUMNS = (
    "kind, object_id, title_vi, title_en, summary_vi, summary_en, technology_ids, province, "
    "fund_id, year, amount_vnd, is_demo, terms"
)
#: The rows of `records` (see _records) as search_entry rows; tsvector and int[] travel as text.
_ENTRY_ROWS = f"""
INSERT INTO search_entry ({_ENTRY_COLUMNS})
SELECT kind, object_id, title_vi, title_en, summary_vi, summary_en, technology_ids::int[],
       province, fund_id, year, amount_vnd, is_demo, terms::tsvector
FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
            $8::text[], $9::int[], $10::int[], $11::bigint[], $12::bool[], $13::text[])
     AS r(kind, object_id, title_vi, title_en, summary_vi, summary_en, technology_ids,
          province, fund_id, year, amount_vnd, is_demo, terms)
"""
_UPSERT_TAIL = """
ON CONFLICT (kind, object_id) DO UPDATE SET
    title_vi = EXCLUDED.title_vi, title_en = EXCLUDED.title_en,
    summary_vi = EXCLUDED.summary_vi, summary_en = EXCLUDED.summary_en,
    technology_ids = EXCLUDED.technology_ids, province = EXCLUDED.province,
    fund_id = EXCLUDED.fund_id, year = EXCLUDED.year, amount_vnd = EXCLUDED.amount_vnd,
    is_demo = EXCLUDED.is_demo, terms = EXCLUDED.terms
WHERE (search_entry.title_vi, search_entry.title_en, search_entry.summary_vi,
       search_entry.summary_en, search_entry.technology_ids, search_entry.province,
       search_entry.fund_id, search_entry.year, search_entry.amount_vnd, search_entry.is_demo,
       search_entry.terms)
   IS DISTINCT FROM (EXCLUDED.title_vi, EXCLUDED.title_en, EXCLUDED.summary_vi,
       EXCLUDED.summary_en, EXCLUDED.technology_ids, EXCLUDED.province, EXCLUDED.fund_id,
       EXCLUDED.year, EXCLUDED.amount_vnd, EXCLUDED.is_demo, EXCLUDED.terms)
"""

#: One SELECT per kind of the columns SourceRow names: `body` is an array of the texts searched
#: besides the titles (adjacent-word pairs are made within each); `{where}` narrows projects.
_SOURCES: dict[Kind, str] = {
    Kind.TECHNOLOGY: """
        SELECT 'technology', t.id, t.name_vi, t.name_en,
               ARRAY[t.note_vi, t.note_en] || ARRAY(
                   SELECT concat_ws(E'\n', l.name_vi, l.name_en, p.name_vi, p.name_en)
                   FROM technology_listing l
                   LEFT JOIN technology_product p ON p.listing = l.id
                   WHERE l.technology = t.id ORDER BY l.id, p.id),
               (SELECT string_agg(DISTINCT p.name_vi, '; ') FROM technology_product p
                JOIN technology_listing l ON l.id = p.listing WHERE l.technology = t.id),
               (SELECT string_agg(DISTINCT p.name_en, '; ') FROM technology_product p
                JOIN technology_listing l ON l.id = p.listing WHERE l.technology = t.id),
               ARRAY[t.id], NULL, NULL, NULL, NULL::bigint, false
        FROM technology t""",
    Kind.LABORATORY: """
        SELECT 'laboratory', l.id, l.name_vi, l.name_en,
               ARRAY[l.fields_vi, l.fields_en, o.name_vi, o.name_en, l.province],
               l.fields_vi, l.fields_en,
               coalesce((SELECT array_agg(lt.technology ORDER BY lt.technology)
                         FROM laboratory_technology lt WHERE lt.laboratory = l.id), '{}'),
               l.province, NULL, l.established_year, NULL::bigint, false
        FROM laboratory l LEFT JOIN organisation o ON o.id = l.host""",
    Kind.EXCHANGE: """
        SELECT 'exchange', e.id, e.name_vi, e.name_en,
               ARRAY[e.description_vi, e.description_en, e.legal_basis, e.province,
                     o.name_vi, o.name_en],
               e.description_vi, e.description_en,
               '{}'::int[], e.province, NULL, e.founded_year, NULL::bigint, false
        FROM exchange e LEFT JOIN organisation o ON o.id = e.operator""",
    Kind.FUND: """
        SELECT 'fund', f.id, f.name_vi, f.name_en,
               ARRAY[f.short_name, f.description_vi, f.description_en, f.legal_basis,
                     o.name_vi, o.name_en],
               f.description_vi, f.description_en,
               '{}'::int[], o.province, f.id, extract(year FROM f.founded_on)::int,
               f.capital_vnd, false
        FROM fund f LEFT JOIN organisation o ON o.id = f.operator""",
    Kind.ZONE: """
        SELECT 'zone', z.id, z.name_vi, z.name_en,
               ARRAY[z.province, z.legal_basis, z.note_vi, z.note_en],
               z.legal_basis, z.legal_basis,
               '{}'::int[], z.province, NULL, extract(year FROM z.established_on)::int,
               NULL::bigint, false
        FROM zone z""",
    Kind.PROJECT: """
        SELECT 'project', p.id, p.title_vi, p.title_en,
               ARRAY[p.abstract_vi, p.abstract_en, o.name_vi, o.name_en, p.province],
               p.abstract_vi, p.abstract_en,
               coalesce((SELECT array_agg(pt.technology ORDER BY pt.technology)
                         FROM project_technology pt WHERE pt.project = p.id), '{}'),
               p.province, p.fund, extract(year FROM p.starts_on)::int, p.amount_vnd, p.is_demo
        FROM project p JOIN organisation o ON o.id = p.organisation
        {where}""",
}
#: Projects are indexed this many at a time (a million rows would not fit in memory at once).
INDEX_BATCH = 20_000
#: From this many entries on, a command-line load indexes them at the end, all at once.
BULK = 50_000


class SourceRow(NamedTuple):
    """An item as search sees it, before its tokens are made."""

    kind: str
    object_id: int
    title_vi: str
    title_en: str | None
    body: Sequence[str | None]
    summary_vi: str | None
    summary_en: str | None
    technology_ids: Sequence[int]
    province: str | None
    fund_id: int | None
    year: int | None
    amount_vnd: int | None
    is_demo: bool


def _summary(text: str | None) -> str | None:
    return text[:300] if text is not None else None


def _records(rows: Iterable[Sequence[Any]]) -> tuple[list[Any], ...]:
    """The arguments of _ENTRY_ROWS for `rows` (SourceRow fields): one list per column, the
    tokens (domain.terms) made here, in Python, where one tokeniser serves documents and
    queries alike."""
    columns: tuple[list[Any], ...] = tuple([] for _ in range(13))
    for row in rows:
        source = SourceRow(*row)
        tokens = terms.document_terms((source.title_vi, source.title_en), source.body)
        values = (
            source.kind,
            source.object_id,
            source.title_vi,
            source.title_en,
            _summary(source.summary_vi),
            _summary(source.summary_en),
            "{" + ",".join(map(str, source.technology_ids)) + "}",
            source.province,
            source.fund_id,
            source.year,
            source.amount_vnd,
            source.is_demo,
            terms.vector_text(tokens),
        )
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    return columns


async def insert_entries(conn: Any, rows: Iterable[Sequence[Any]], *, upsert: bool) -> None:
    """Write `rows` (SourceRow fields) to search_entry; with `upsert`, over entries of the same
    item, leaving alone those that did not change."""
    # Tokens are made in a thread, so a bulk load's other connection keeps working meanwhile.
    records = await asyncio.to_thread(_records, rows)
    await conn.execute(_ENTRY_ROWS + (_UPSERT_TAIL if upsert else ""), *records)


async def _index(conn: Any, kind: Kind, where: str = "", *arguments: object) -> None:
    rows = await conn.fetch(_SOURCES[kind].replace("{where}", where), *arguments)
    if rows:
        await insert_entries(conn, rows, upsert=True)


async def reindex(kinds: Iterable[Kind] = tuple(Kind)) -> None:
    """Bring search_entry in step with the catalogue tables for `kinds` (rows that did not
    change are left alone), drop entries whose item is gone, and refresh derived data."""
    async with database.connection() as conn:
        for kind in kinds:
            if kind is Kind.PROJECT:
                last = await conn.fetchval("SELECT coalesce(max(id), 0) FROM project")
                for low in range(1, last + 1, INDEX_BATCH):
                    await _index(
                        conn, kind, "WHERE p.id BETWEEN $1 AND $2", low, low + INDEX_BATCH - 1
                    )
            else:
                await _index(conn, kind)
            # Each kind's value is also its table's name.
            await conn.execute(
                f"DELETE FROM search_entry e WHERE e.kind = $1 "
                f"AND NOT EXISTS (SELECT 1 FROM {kind.value} x WHERE x.id = e.object_id)",
                kind.value,
            )
    await refresh_derived()


#: The GIN indexes of search_entry (as migrations/…2026_12_07t09… makes them). A bulk load drops
#: them and builds them again after: 200,000 entries took 29 s to index at once against about
#: 1 ms an entry added one by one (measured), each entry holding some 350 tokens.
GIN_INDEXES = {
    "search_entry_terms": "USING gin (terms)",
    "search_entry_terms_64": "USING gin (terms) WHERE sample < 1",
    "search_entry_terms_16": "USING gin (terms) WHERE sample < 4",
    "search_entry_terms_4": "USING gin (terms) WHERE sample < 16",
}


@contextlib.asynccontextmanager
async def indexes_built_after() -> AsyncIterator[None]:
    """Entries written inside are indexed at the end, all at once. Searches meanwhile read
    the whole table: for the command line's bulk loads, never for the app's own writes."""
    async with database.connection() as conn:
        await conn.execute("DROP INDEX IF EXISTS " + ", ".join(GIN_INDEXES))
    try:
        yield
    finally:
        # The full index on one connection, the samples' three (a third of its work) on
        # another: a GIN index is built by one process (until PostgreSQL 18), so this keeps
        # a second core busy (1,000,000 entries: 269 -> 183 s, measured).
        full, *samples = GIN_INDEXES.items()
        await asyncio.gather(_build_indexes([full]), _build_indexes(samples))


async def _build_indexes(indexes: Iterable[tuple[str, str]]) -> None:
    async with database.transaction(), database.connection() as conn:
        # Memory for the build: a GIN index is built from sorted runs this large.
        await conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
        await conn.execute("SET LOCAL statement_timeout = 0")
        for name, definition in indexes:
            await conn.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON search_entry {definition}", timeout=3600
            )


async def index_missing() -> int:
    """Index again every kind with entries left without tokens (by a migration: tokens are
    made in Python); returns how many such entries there were."""
    rows = await database.fetch(
        "SELECT kind, count(*) AS n FROM search_entry WHERE terms IS NULL GROUP BY kind"
    )
    missing = sum(row["n"] for row in rows)
    if rows:
        bulk = indexes_built_after() if missing >= BULK else contextlib.nullcontext()
        async with bulk:
            await reindex([Kind(row["kind"]) for row in rows])
    return missing


async def index_projects(first_id: int, last_id: int) -> None:
    """Index the projects whose ids lie in [first_id, last_id] (bulk loads go batch by batch)."""
    async with database.connection() as conn:
        await _index(conn, Kind.PROJECT, "WHERE p.id BETWEEN $1 AND $2", first_id, last_id)


async def refresh_derived() -> None:
    """Funding summaries and the suggestion vocabulary are derived from projects and entries."""
    async with database.connection() as conn:
        await conn.execute("REFRESH MATERIALIZED VIEW technology_funding")
        await conn.execute("REFRESH MATERIALIZED VIEW fund_funding")
        # Folded title words only: what people type, and small enough to scan with trigrams.
        # Words no entry holds any more go, so a suggestion always finds something.
        await conn.execute(
            """
            WITH words AS MATERIALIZED (
                SELECT word, ndoc FROM ts_stat(
                    'SELECT to_tsvector(''simple'', registry_fold(title_vi || '' '' ||
                            coalesce(title_en, ''''))) FROM search_entry')
                WHERE length(word) >= 2
            ), gone AS (
                DELETE FROM search_term WHERE term NOT IN (SELECT word FROM words)
            )
            INSERT INTO search_term (term, documents)
            SELECT word, ndoc FROM words
            ON CONFLICT (term) DO UPDATE SET documents = EXCLUDED.documents
            WHERE search_term.documents <> EXCLUDED.documents
            """
        )


#: The ranking bonuses, best first, each a tsquery over the entry's tokens (domain.terms): the
#: words typed with their diacritics found as typed, in title or body (4: `Đà Nẵng` above
#: `đa năng`); the words side by side in the order typed (2); all the words in the title (1).
#: The rank is their sum, then the entry id (older entries first: catalogue items before
#: projects). Strict tiers: a bonus outweighs all the smaller ones together.
BONUSES = (("exact", 4), ("adjacent", 2), ("title", 1))
#: The parameter holding each bonus's tsquery in search_sql (NULL when the query has none).
_BONUS_PARAMETERS = {"exact": "$11::tsquery", "adjacent": "$12::tsquery", "title": "$13::tsquery"}
#: Each entry is in one of 64 samples (`sample`, its object id mod 64), and the samples nest:
#: 0 is a 64th of the catalogue, 0-3 a sixteenth, 0-15 a quarter. Each of those has a partial
#: GIN index of its own, whose posting lists are 64, 16 or 4 times shorter than the full one's.
SAMPLES = {64: 1, 16: 4, 4: 16}
#: Counts are estimated from a sample expected to hold at least this many matches (judged from
#: the 64th), so the estimate's relative standard error stays near 1/sqrt(2000) = 2.2% (within
#: 5%: 2.2 sigma). Counts are exact below about 10,000 matches (the 64th holding fewer than
#: 150: 150 x 16 = 1.2 x SAMPLE_MIN).
SAMPLE_MIN = 2000
#: Matches in the 64th whose rank is computed to estimate each tier's size.
PROBE_ROWS = 200
#: A tier is walked in id order when it is estimated to hold a page within this many rows of
#: the table; otherwise it is read from the GIN index and sorted. Walking reads each entry's
#: tokens (about 5 µs); the index reads only the ids of the tier (about 1 µs each).
WALK_ROWS = 1000


#: Each facet's selected values as an array (NULL: no filter): any of them (OR), every facet
#: (AND).
_FILTERS = """
      AND ($2::text[] IS NULL OR e.kind = ANY($2))
      AND ($3::int[] IS NULL OR e.technology_ids && $3)
      AND ($4::text[] IS NULL OR e.province = ANY($4))
      AND ($5::int[] IS NULL OR e.fund_id = ANY($5))
      AND ($6::int[] IS NULL OR e.year = ANY($6))"""

#: The key of each sort but relevance (largest first, entries without one last: -1) and
#: whether its ties go by id descending. Relevance is the rank of search_sql's tiers, ties by
#: ascending id. Each key has an index in that order (migrations/…2026_12_07t09…).
_SORT_KEYS = {
    "newest": ("coalesce(e.year, -1)", True),
    "amount": ("coalesce(e.amount_vnd, -1)", False),
}


def _keyset(key: str, *, id_desc: bool, backward: bool) -> str:
    """The rows after the cursor ($7 the key, $8 the id; none on the first page) in the order
    `key` descending, then id; before it when `backward`."""
    key_op = ">" if backward else "<"
    id_op = ">" if id_desc == backward else "<"
    return f"($7::float8 IS NULL OR {key} {key_op} $7 OR ({key} = $7 AND e.id {id_op} $8))"


def _direction(descending: bool, *, backward: bool) -> str:
    return "DESC" if descending != backward else "ASC"


def _browse_sample(scale: int) -> str:
    """The samples of `scale` as the browsing indexes name them (migrations/…2026_12_07t09…):
    a form the word queries' `sample < N` does not imply, so PostgreSQL never ANDs those
    indexes with the partial GIN ones, which alone are far cheaper."""
    numbers = ",".join(map(str, range(SAMPLES[scale])))
    return f"'{{{numbers}}}'::smallint[]"


#: GROUPING(kind, province, fund_id, year) of each facet's grouping set: a bit per column,
#: set where the row is not grouped by it (kind, the first, is the highest bit).
_GROUPED = {"kind": 0b0111, "province": 0b1011, "fund_id": 0b1101, "year": 0b1110}


@functools.cache  # a handful of bonus sets; asked by every search
def _tiers(
    bonuses: tuple[str, ...], implies_match: frozenset[str]
) -> tuple[tuple[int, str], ...]:
    """(rank, tsquery expression) of each tier a match can fall in, best first: the match with
    each bonus's query, or its negation, all in one tsquery the GIN index answers alone. The
    match is left out where a bonus required implies it (ParsedQuery.implies_match)."""
    chosen_bonuses = [(name, p) for name, p in BONUSES if name in bonuses]
    tiers = []
    for chosen in itertools.product((True, False), repeat=len(chosen_bonuses)):
        pairs = list(zip(chosen_bonuses, chosen, strict=True))
        rank = sum(points for (_, points), on in pairs if on)
        implied = any(on and name in implies_match for (name, _), on in pairs)
        parts = [] if implied else ["$1::tsquery"]
        parts += [
            _BONUS_PARAMETERS[name] if on else f"!!{_BONUS_PARAMETERS[name]}"
            for (name, _), on in pairs
        ]
        tiers.append((rank, " && ".join(parts)))
    return tuple(sorted(tiers, reverse=True))


def _rank(bonuses: tuple[str, ...], parameters: dict[str, str]) -> str:
    """The rank of entry `e` (a sum of bonuses) in SQL, bonus queries in `parameters`."""
    return (
        " + ".join(
            f"{points} * coalesce((e.terms @@ {parameters[name]})::int, 0)"
            for name, points in BONUSES
            if name in bonuses
        )
        or "0"
    )


@functools.lru_cache(maxsize=128)
def search_sql(
    bonuses: tuple[str, ...] | None,
    sort: str = "relevance",
    backward: bool = False,
    implies_match: frozenset[str] = frozenset(),
    walks: tuple[bool, ...] | None = None,
    bounded: bool = False,
) -> str:
    """The statement for a query with these `bonuses` (None: no words, browsing filters): one
    page of hits in `sort` order over every match, and the counts (exact, or from a sample).

    By relevance, the page is a UNION ALL of one LIMITed subquery per tier, best tier first,
    each in id order: the Limit above stops pulling as soon as a page is full, so lower tiers
    are never read when the better ones fill it. A tier is read from the GIN index, or walked
    in id order when a probe of the 64th sample says it is dense (PostgreSQL cannot tell: it
    multiplies the selectivities of conditions that go together and takes a 6,000-row tier
    for one of 10). By another sort, the page is the matches sorted by its key.

    `backward` reads the page before the cursor: the same keyset with every order reversed
    (tiers worst first, ids descending), so the LIMIT keeps the rows nearest the cursor; the
    hits come out in page order all the same (the json_agg's ORDER BY), with the extra row,
    if any, first.

    With `walks`, the page only, its counts known: whether each tier (best first) is walked
    was decided from the sizes the counting statement gave (see statement), so the page has
    one subquery per tier, no probe and no counting. `bounded` (the first page by relevance,
    its hits known: see statement) reads each tier only up to the last id that page showed of
    it (`$15`, one bound a tier, best first): a few rows instead of every match of a tier that
    is not walked.
    Either way the row says whether an entry changed since snapshot $14 (`changed`: a
    transaction that snapshot could not see has since committed a change to search_entry)
    and gives the statement's own snapshot (see CountCache).
    """
    words = bonuses is not None
    types = (
        "SELECT $1::tsquery, $10::bigint, $11::tsquery, $12::tsquery, $13::tsquery, $14::text"
        if words
        else "SELECT $1::text, $10::bigint, $11::text, $12::text, $13::text, $14::text"
    ) + (", $15::int8[]" if bounded else "")
    counts = walks is None
    match = "e.terms @@ $1::tsquery" if words else "$1 = ''"  # browsing: no words
    tiers_of_query = _tiers(bonuses, implies_match) if words else ((0, ""),)
    key, id_desc = _SORT_KEYS.get(sort, ("page.rank", False))
    hits_order = f"page.rank DESC, page.id {_direction(id_desc, backward=False)}"

    def tier(rank: int, query: str, *, walk: bool, decided: bool, position: int) -> str:
        condition = f"e.terms @@ ({query})" if words else "true"
        # Hidden from the planner (registry_opaque), the condition leaves it the id order only.
        where = f"registry_opaque({condition})" if walk else condition
        if bounded:
            where += f" AND e.id <= ($15::int8[])[{position}]"
        size = f"(SELECT coalesce(sum(n), 0) FROM tier_sizes WHERE rank = {rank})"
        # Undecided, both ways are planned and the sizes choose one as the statement runs.
        walked = (
            "" if decided else f"AND {'' if walk else 'NOT '}{size} >= (SELECT n FROM walk_floor)"
        )
        # A small tier is read from the GIN index and sorted: `e.id + 0` is an order no index
        # gives, so PostgreSQL cannot walk the ids instead (reading every entry's tokens until
        # it has a page: 17 ms for `perovskite` at 1M, against 4 ms through the index).
        order = "e.id" if walk or not words else "e.id + 0"
        return f"""(SELECT e.id, {rank}::float8 AS rank, {rank >= 4} AS is_exact
             FROM search_entry e
             WHERE {where} {_FILTERS} {walked}
               AND {_keyset(str(rank), id_desc=False, backward=backward)}
             ORDER BY {order} {_direction(False, backward=backward)} LIMIT $9)"""

    ways = (
        {rank: (walk,) for (rank, _), walk in zip(tiers_of_query, walks, strict=True)}
        if walks is not None and sort not in _SORT_KEYS
        else {rank: (True, False) for rank, _ in tiers_of_query}
    )
    tiers = " UNION ALL ".join(
        tier(rank, query, walk=walk, decided=len(ways[rank]) == 1, position=position)
        for position, (rank, query) in list(enumerate(tiers_of_query, start=1))[
            :: -1 if backward else 1
        ]
        for walk in ways[rank]
    )
    if sort in _SORT_KEYS:
        is_exact = "coalesce(e.terms @@ $11::tsquery, false)" if words else "false"
        page = f"""SELECT s.id, s.rank, {is_exact} AS is_exact FROM (
        SELECT e.id, {key}::float8 AS rank FROM search_entry e
        WHERE {match} {_FILTERS} AND {_keyset(key, id_desc=id_desc, backward=backward)}
        ORDER BY {key} {_direction(True, backward=backward)},
                 e.id {_direction(id_desc, backward=backward)}
        LIMIT $9) s JOIN search_entry e ON e.id = s.id"""
    else:
        page = f"SELECT * FROM ({tiers}) AS tiers LIMIT $9"

    def sample(scale: int) -> str:
        if words:
            return f"e.terms @@ $1::tsquery AND e.sample < {SAMPLES[scale]}"
        return f"e.sample = ANY ({_browse_sample(scale)})"

    facets = "e.kind, e.technology_ids, e.province, e.fund_id, e.year"
    # The 64th is always read; a larger sample only when the 64th says it will hold SAMPLE_MIN
    # matches (and the smaller ones will not), so a query reads at most two samples.
    expected = "(SELECT count(*) FROM s64)"
    chosen = f"""CASE WHEN {expected} >= $10 THEN 64
                      WHEN {expected} * 4 >= $10 * 1.2 THEN 16
                      WHEN {expected} * 16 >= $10 * 1.2 THEN 4 ELSE 1 END"""
    samples = [
        f"s{scale} AS MATERIALIZED (SELECT {facets} FROM search_entry e "
        f"WHERE {'' if scale == 64 else f'(SELECT weight FROM scale) = {scale} AND '}"
        f"{sample(scale)} {_FILTERS})"
        for scale in SAMPLES
    ]
    counted = " UNION ALL ".join(
        f"SELECT s.*, {scale} AS weight FROM s{scale} s WHERE (SELECT weight FROM scale) = {scale}"
        for scale in SAMPLES
    )
    counting = f"""
{samples[0]},
scale AS MATERIALIZED (SELECT {chosen} AS weight),
{", ".join(samples[1:])},
counted AS (
    {counted}
    UNION ALL
    SELECT {facets}, 1 FROM search_entry e
    WHERE (SELECT weight FROM scale) = 1 AND {match} {_FILTERS}
),
total AS MATERIALIZED (SELECT coalesce(sum(weight), 0) AS n FROM counted),
-- The facets of one value per entry, counted in one pass (technologies, several per entry,
-- apart); `facet` says which one a row counts (GROUPING's bits: _GROUPED).
facet_counts AS MATERIALIZED (
    SELECT kind, province, fund_id, year, sum(weight) AS n,
           GROUPING(kind, province, fund_id, year) AS facet
    FROM counted GROUP BY GROUPING SETS ((kind), (province), (fund_id), (year))
),"""
    count_columns = f"""
    (SELECT weight > 1 FROM scale) AS is_estimate,
    (SELECT n FROM total) AS total,
    (SELECT coalesce(json_agg(json_build_array(kind, n)), '[]')
     FROM facet_counts WHERE facet = {_GROUPED["kind"]}) AS kinds,
    (SELECT coalesce(json_agg(json_build_array(t.id, t.name_vi, t.name_en, f.n)
                     ORDER BY f.n DESC, t.sort_key COLLATE "C"), '[]')
     FROM (SELECT unnest(technology_ids) AS id, sum(weight) n FROM counted GROUP BY 1) f
     JOIN technology t ON t.id = f.id) AS technologies,
    (SELECT coalesce(json_agg(json_build_array(province, n) ORDER BY n DESC, province), '[]')
     FROM facet_counts WHERE facet = {_GROUPED["province"]} AND province IS NOT NULL)
     AS provinces,
    (SELECT coalesce(json_agg(json_build_array(fd.id, fd.name_vi, fd.name_en, f.n)
                     ORDER BY f.n DESC, fd.id), '[]')
     FROM facet_counts f JOIN fund fd ON fd.id = f.fund_id
     WHERE f.facet = {_GROUPED["fund_id"]}) AS funds,
    (SELECT coalesce(json_agg(json_build_array(year, n) ORDER BY year DESC), '[]')
     FROM facet_counts WHERE facet = {_GROUPED["year"]} AND year IS NOT NULL) AS years,
    (SELECT coalesce(json_agg(json_build_array(rank, n)), '[]') FROM tier_sizes) AS tier_sizes,
    (SELECT reltuples FROM pg_class WHERE oid = 'search_entry'::regclass) AS entries,"""
    sizing = f"""
-- The rank of a few matches in the 64th: each tier's share of them, times the
-- total, estimates its size (none when the 64th holds no match: every tier is then small).
probe AS MATERIALIZED (
    SELECT {_rank(bonuses, _BONUS_PARAMETERS) if words else "0"} AS rank FROM search_entry e
    WHERE {sample(64)} {_FILTERS} LIMIT {PROBE_ROWS}
),
tier_sizes AS MATERIALIZED (
    SELECT rank, count(*) * (SELECT n FROM total) / (SELECT count(*) FROM probe) AS n
    FROM probe GROUP BY rank
),
walk_floor AS MATERIALIZED (
    SELECT ceil(greatest(reltuples, 1) * $9 / {WALK_ROWS}) AS n FROM pg_class
    WHERE oid = 'search_entry'::regclass
),"""
    return f"""
WITH types AS ({types}),{counting + sizing if counts else ""}
page AS ({page})
SELECT{count_columns if counts else ""}
    (SELECT EXISTS (SELECT FROM search_change c
                    WHERE c.xid >= pg_snapshot_xmin($14::pg_snapshot)
                      AND NOT pg_visible_in_snapshot(c.xid, $14::pg_snapshot))) AS changed,
    pg_current_snapshot()::text AS snapshot,
    (SELECT coalesce(json_agg(json_build_array(
            e.kind, e.object_id, e.title_vi, e.title_en,
            -- Summaries as shown: 240 characters at most, cut here rather than in Python.
            CASE WHEN length(e.summary_vi) > 240 THEN left(e.summary_vi, 239) || '…'
                 ELSE e.summary_vi END,
            CASE WHEN length(e.summary_en) > 240 THEN left(e.summary_en, 239) || '…'
                 ELSE e.summary_en END,
            e.province, e.year, e.amount_vnd, e.is_demo, page.rank, page.id, page.is_exact,
            o.name_vi, o.name_en, p.starts_on)
            ORDER BY {hits_order}), '[]')
     FROM page JOIN search_entry e ON e.id = page.id
     -- Who was funded, and from when: read for the page's projects only, not kept in entries.
     LEFT JOIN project p ON e.kind = 'project' AND p.id = e.object_id
     LEFT JOIN organisation o ON o.id = p.organisation) AS hits
"""


#: The columns of search_sql's row that hold the counts.
_COUNT_COLUMNS = (
    "is_estimate", "total", "kinds", "technologies", "provinces", "funds", "years", "tier_sizes",
    "entries",
)  # fmt: skip
#: A counts key: the query's text, its filters and the candidate cap (which sizes samples).
CountsKey = tuple[str, Filters, int]


class CountCache:
    """The counts (total and facets) of recent searches, kept by a process until a search
    entry changes: counting every match of a broad query is most of its cost, and the same
    counts serve its every page, sort and repeat.

    Validity is PostgreSQL's word, not a clock's: every search statement says whether a
    transaction that changed entries has committed unseen by `snapshot` (search_change), and
    the cache starts again from that statement's snapshot when one has. Counts are kept only
    from statements run under the cache's current start (`generation`), never from inside a
    transaction (it could write entries, count them and roll back), and for an hour at most
    (search_change keeps a day).
    """

    SIZE = 1000
    LIFETIME_S = 3600.0

    def __init__(self) -> None:
        self.entries: collections.OrderedDict[CountsKey, dict[str, Any]] = (
            collections.OrderedDict()
        )
        self.snapshot: str | None = None
        self.started = 0.0
        self.generation = 0

    def get(self, key: CountsKey) -> dict[str, Any] | None:
        if self.snapshot is not None and time.monotonic() - self.started > self.LIFETIME_S:
            self.restart(None)
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def restart(self, snapshot: str | None) -> None:
        self.entries.clear()
        self.snapshot = snapshot
        self.started = time.monotonic()
        self.generation += 1

    def put(self, key: CountsKey, row: Mapping[str, Any], generation: int) -> None:
        if generation != self.generation:
            return  # counted under an earlier start: perhaps before the change
        self.entries[key] = {name: row[name] for name in _COUNT_COLUMNS}
        self.entries.move_to_end(key)
        while len(self.entries) > self.SIZE:
            self.entries.popitem(last=False)

    def first_page(self, key: CountsKey, page_size: int) -> Sequence[tuple[float, int]] | None:
        """The (rank, id) of the hits of the first page by relevance of `page_size` kept
        with the counts of `key`, if any (see statement)."""
        size, hits = self.entries.get(key, {}).get("first_page", (None, None))
        return hits if size == page_size else None

    def keep_first_page(
        self, key: CountsKey, page_size: int, hits: Sequence[Sequence[Any]], generation: int
    ) -> None:
        """Keep the first page's (rank, id) with the counts of `key`, seen under `generation`
        (a page read before a change must not outlive it)."""
        entry = self.entries.get(key)
        if entry is not None and generation == self.generation:
            entry["first_page"] = (page_size, tuple((h[10], h[11]) for h in hits))


COUNTS = CountCache()


async def search(
    query: str,
    filters: Filters,
    *,
    sort: str | None = None,
    cursor: str | None = None,
    candidate_cap: int = 0,
    page_size: int = PAGE_SIZE,
    choosable: tuple[str, ...] = FACETS,
) -> Results:
    """Ranked, faceted results for a query (checked and NFC-normalised here), in `sort` order
    (one of SORTS; by default relevance for words, newest when browsing).

    Every match is ranked. Counts are exact below about 10,000 matches (more if
    `candidate_cap` asks: a sample must then hold cap / 16); beyond, they are estimated from
    a sample and say so.
    An empty query with no filters finds nothing; an empty query with filters browses them.
    `cursor` is a page's next_cursor or previous_cursor, refused when made for another sort.

    Facets count the matches shown. A facet with values chosen (of those `choosable`) also
    has its `choices`: its values counted with every filter but its own, for one more to be
    chosen (a statement of its own per such facet, run beside the page's).
    """
    query = check_query(query)  # NFC and validated whichever caller sent it
    text = query if terms.parse_query(query) else ""
    sort = check_sort(sort, text)
    position = Cursor.parse(cursor, sort) if cursor else None
    if not text and filters.is_empty():
        return Results(query, filters, (), 0, False, {}, None, frozenset(), sort=sort)
    backward = position is not None and position.backward
    widened = {
        name: dataclasses.replace(filters, **{name: ()})
        for name in choosable
        if getattr(filters, name)
    }
    cache = None if database.in_transaction() else COUNTS
    found = await _page_and_counts(
        text, filters, position, candidate_cap, page_size, sort, widened, cache
    )
    if found is None:  # counts kept from before a change: count again
        found = await _page_and_counts(
            text, filters, position, candidate_cap, page_size, sort, widened, None
        )
    raw_hits, counts, choice_counts = found
    page = position.page if position else 1
    more = len(raw_hits) > page_size
    if backward:
        # Read in reverse: the extra row is the one furthest back, first in page order;
        # without one, nothing comes before this page.
        raw_hits = raw_hits[1:] if more else raw_hits
        page = page if more else 1
        has_next, has_previous = True, more
    else:
        raw_hits = raw_hits[:page_size]
        has_next, has_previous = more, position is not None
    next_cursor = previous_cursor = None
    if raw_hits and has_next:
        last = raw_hits[-1]
        next_cursor = Cursor(sort, False, page + 1, float(last[10]), int(last[11])).token()
    if raw_hits and has_previous and page > 1:
        first = raw_hits[0]
        previous_cursor = Cursor(sort, True, page - 1, float(first[10]), int(first[11])).token()
    hits = tuple(
        Hit(
            kind=Kind(h[0]),
            id=h[1],
            title=Localized(h[2], h[3]),
            summary=Localized.optional(h[4], h[5]),
            province=h[6],
            year=h[7],
            amount_vnd=h[8],
            is_demo=h[9],
            is_exact=h[12],
            organisation=Localized.optional(h[13], h[14]),
            starts_on=dt.date.fromisoformat(h[15]) if h[15] else None,
        )
        for h in raw_hits
    )
    is_estimate = bool(counts["is_estimate"])
    total = (estimate if is_estimate else int)(counts["total"])
    facets = _facets(counts)
    choices = {name: _facets(found)[name] for name, found in choice_counts.items()}
    suggestion = await suggest(text) if total == 0 and text else None
    return Results(
        query=query,
        filters=filters,
        hits=hits,
        total=total,
        is_estimate=is_estimate,
        facets=facets,
        next_cursor=next_cursor,
        terms=highlight_terms(text),
        suggestion=suggestion,
        sort=sort,
        previous_cursor=previous_cursor,
        offset=(page - 1) * page_size,
        choices=choices,
    )


async def _page_and_counts(
    text: str,
    filters: Filters,
    position: Cursor | None,
    candidate_cap: int,
    page_size: int,
    sort: str,
    widened: Mapping[str, Filters],
    cache: CountCache | None,
) -> tuple[list[list[Any]], Mapping[str, Any], dict[str, Mapping[str, Any]]] | None:
    """The page's hits (as search_sql's JSON has them), its counts and those of each widened
    facet's choices, counted here or taken from `cache`; None when counts were taken from the
    cache and an entry has changed since (the cache has then started again)."""
    generation = cache.generation if cache else 0
    epoch = cache.snapshot if cache else None
    key = (text, filters, candidate_cap)
    # A first page by relevance, as people see it (not an export's 10,000 rows, kept by the
    # thousand queries), is kept with its counts to be read again within bounds (statement).
    first = position is None and sort not in _SORT_KEYS and page_size <= PAGE_SIZE

    def known(of: Filters) -> Mapping[str, Any] | None:
        return cache.get((text, of, candidate_cap)) if cache else None

    counts = known(filters)
    first_page = cache.first_page(key, page_size) if cache and counts and first else None
    choice_counts = {name: known(of) for name, of in widened.items()}
    uncounted = [name for name, found in choice_counts.items() if found is None]
    row, *others = await database.fetchrow_each(
        statement(
            text,
            filters,
            position,
            candidate_cap,
            page_size,
            sort=sort,
            counted=counts,
            epoch=epoch,
            first_page=first_page,
        ),
        *(statement(text, widened[name], None, candidate_cap, 0) for name in uncounted),
    )
    assert row is not None  # an aggregate query always answers one row
    restarted = cache is not None and (epoch is None or row["changed"])
    if cache is not None and restarted:
        cache.restart(row["snapshot"])
        if counts is not None or len(uncounted) < len(widened):
            return None
        generation = cache.generation
    hits = json.loads(row["hits"])
    if counts is None:
        counts = row
        if cache is not None:
            cache.put(key, row, generation)
    if cache is not None and first and first_page is None:
        cache.keep_first_page(key, page_size, hits, generation)
    for name, other in zip(uncounted, others, strict=True):
        assert other is not None
        choice_counts[name] = other
        # Not kept after a new start: their own snapshots may be older than the page's.
        if cache is not None and not restarted:
            cache.put((text, widened[name], candidate_cap), other, generation)
    return hits, counts, {name: found for name, found in choice_counts.items() if found}


def _facets(row: Mapping[str, Any]) -> dict[str, tuple[FacetValue, ...]]:
    """Each facet's values and counts, as search_sql() answers them."""
    columns = ("kinds", "technologies", "provinces", "funds", "years")
    return dict(_parsed_facets(bool(row["is_estimate"]), *(row[name] for name in columns)))


#: Kept counts are read again by every request that reuses them: their JSON is parsed once.
@functools.lru_cache(maxsize=CountCache.SIZE)
def _parsed_facets(
    is_estimate: bool, kinds: str, technologies: str, provinces: str, funds: str, years: str
) -> dict[str, tuple[FacetValue, ...]]:
    count = estimate if is_estimate else int
    return {
        "kind": tuple(FacetValue(k, Localized(k), count(n)) for k, n in json.loads(kinds)),
        "technology": tuple(
            FacetValue(str(i), Localized(vi, en), count(n))
            for i, vi, en, n in json.loads(technologies)
        ),
        "province": tuple(
            FacetValue(p, Localized(p), count(n)) for p, n in json.loads(provinces)
        ),
        "fund": tuple(
            FacetValue(str(i), Localized(vi, en), count(n)) for i, vi, en, n in json.loads(funds)
        ),
        "year": tuple(
            FacetValue(str(y), Localized(str(y)), count(n)) for y, n in json.loads(years)
        ),
    }


def _bonus_arguments(parsed: terms.ParsedQuery | None) -> tuple[str | None, ...]:
    if parsed is None:
        return (None, None, None)
    return (parsed.exact, parsed.adjacent, parsed.title or None)


def ranked_statement(text: str, province: str | None) -> tuple[str, tuple[object, ...]]:
    """Every match of `text` (in `province`, if given) ranked by the rule, written out plainly:
    no tiers, no limits, no samples. What the tiered page must agree with (tests, bench)."""
    parsed = terms.parse_query(text)
    assert parsed is not None
    rank = _rank(
        tuple(name for name, _ in BONUSES),
        {"exact": "$3::tsquery", "adjacent": "$4::tsquery", "title": "$5::tsquery"},
    )
    sql = f"""
        SELECT e.id FROM search_entry e
        WHERE e.terms @@ $1::tsquery AND ($2::text IS NULL OR e.province = $2)
        ORDER BY {rank} DESC, e.id"""
    return sql, (parsed.match, province, *_bonus_arguments(parsed))


def statement(
    text: str,
    filters: Filters,
    cursor: Cursor | None,
    candidate_cap: int,
    page_size: int,
    *,
    sort: str = "relevance",
    counted: Mapping[str, Any] | None = None,
    epoch: str | None = None,
    first_page: Sequence[tuple[float, int]] | None = None,
) -> tuple[str, tuple[object, ...]]:
    """search_sql() for `text` and its parameters (benchmarks run it on a bare pool): the
    page alone when its counts are known (`counted`: the counting statement's row); changes
    looked for since snapshot `epoch`.

    `first_page`: the (rank, id) of every hit the first page by relevance served, its extra
    row included, for the same words, filters and page size since `epoch` (kept with the
    counts). Asked for that page again, each tier is then read up to the last id it showed
    there, none where it showed none (a tier above the page's lowest is empty, one below is
    never reached): the same hits from a few rows, where a tier read through the GIN index is
    every match of it (`perovskite`: 3,599 rows for 21).
    """
    parsed = terms.parse_query(text)
    bonuses = (
        None
        if parsed is None
        else tuple(
            name
            for (name, _), value in zip(BONUSES, _bonus_arguments(parsed), strict=True)
            if value
        )
    )

    def selected(values: tuple[object, ...]) -> list[object] | None:
        return list(values) or None

    backward = cursor is not None and cursor.backward
    implies_match = parsed.implies_match if parsed else frozenset()
    walks = None if counted is None else _walks(bonuses, implies_match, counted, page_size)
    bounds = (
        _bounds(_tiers(bonuses, implies_match), first_page)
        if first_page is not None and walks is not None and bonuses is not None
        and cursor is None and sort not in _SORT_KEYS
        else None
    )
    sql = search_sql(bonuses, sort, backward, implies_match, walks, bounds is not None)
    return sql, (
        parsed.match if parsed else "",
        selected(tuple(kind.value for kind in filters.kind)),
        selected(filters.technology),
        selected(filters.province),
        selected(filters.fund),
        selected(filters.year),
        cursor.key if cursor else None,
        cursor.id if cursor else None,
        page_size + 1,
        max(SAMPLE_MIN, candidate_cap // 16),
        *_bonus_arguments(parsed),
        epoch,
        *((bounds,) if bounds is not None else ()),
    )


def _bounds(
    tiers: Sequence[tuple[int, str]], first_page: Sequence[tuple[float, int]]
) -> list[int]:
    """Each tier's last id on the first page (tiers best first, as search_sql numbers them);
    0 for a tier the page did not reach."""
    last: dict[float, int] = {}
    for rank, id_ in first_page:
        last[rank] = max(id_, last.get(rank, 0))
    return [last.get(rank, 0) for rank, _ in tiers]


def _walks(
    bonuses: tuple[str, ...] | None,
    implies_match: frozenset[str],
    counted: Mapping[str, Any],
    page_size: int,
) -> tuple[bool, ...]:
    """Whether each tier of the query (best first) is walked in id order: as the counting
    statement decides it (search_sql's walk_floor), from the tier sizes it estimated."""
    sizes = _tier_sizes(counted["tier_sizes"])
    floor = math.ceil(max(counted["entries"], 1) * (page_size + 1) / WALK_ROWS)
    ranks = [rank for rank, _ in _tiers(bonuses, implies_match)] if bonuses is not None else [0]
    return tuple(sizes.get(rank, 0.0) >= floor for rank in ranks)


@functools.lru_cache(maxsize=CountCache.SIZE)
def _tier_sizes(tier_sizes: str) -> dict[int, float]:
    """Each tier's estimated size by rank, from the counting statement's JSON (parsed once per
    counts kept)."""
    sizes: dict[int, float] = {}
    for rank, n in json.loads(tier_sizes):
        sizes[rank] = sizes.get(rank, 0.0) + n
    return sizes


async def suggest(query: str) -> str | None:
    """The query with each unknown word replaced by the closest known one (trigram), if any."""
    words = fold(query).replace('"', " ").split()
    if not words or len(words) > 8:
        return None
    rows = await database.fetch(
        """
        SELECT w.word, coalesce(
            (SELECT t.term FROM search_term t WHERE t.term = w.word),
            (SELECT t.term FROM search_term t
             WHERE t.term % w.word ORDER BY similarity(t.term, w.word) DESC, t.documents DESC
             LIMIT 1)) AS best
        FROM unnest($1::text[]) WITH ORDINALITY AS w(word, position)
        ORDER BY w.position
        """,
        words,
    )
    corrected = [row["best"] or row["word"] for row in rows]
    return " ".join(corrected) if corrected != words else None
