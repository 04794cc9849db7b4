"""Search across the catalogue, and keeping its index (search_entry) in step with the tables.

Matching folds case and diacritics (`registry_fold`, unaccent) on a stored tsvector with a GIN
index; words found as typed, diacritics and all (a second vector, `exact`), rank above fold
collisions; quoted words match as phrases (websearch_to_tsquery). Every match is ranked (see
search_sql); counts of broad queries are estimated from a sixteenth of the entries.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
from collections.abc import Iterable, Mapping
from typing import Any

from registry import database
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
    has_words,
    highlight_terms,
    query_kind,
)
from registry.domain.text import fold

_ENTRY_COLUMNS = (
    "kind, object_id, title_vi, title_en, summary_vi, summary_en, technology_ids, province, "
    "fund_id, year, amount_vnd, is_demo, search, exact"
)
#: Turns a source row (see _SOURCES) into a search_entry row: the vectors are computed here, once,
#: from the title and the searched body, which is not stored.
_ENTRY_FROM_SOURCE = """
SELECT kind, object_id, title_vi, title_en, left(summary_vi, 300), left(summary_en, 300),
       -- Casts: a bare NULL in a source's select list comes out of the subquery as text.
       technology_ids, province::text, fund_id::int, year::int, amount_vnd::bigint, is_demo,
       setweight(to_tsvector('simple', registry_fold(concat_ws(' ', title_vi, title_en))), 'A')
       || setweight(to_tsvector('simple', registry_fold(body)), 'B')
       || array_to_tsvector(ARRAY['sample ' || object_id % 64]),
       strip(to_tsvector('simple', concat_ws(' ', title_vi, title_en, body)))
FROM ({source}) AS source(kind, object_id, title_vi, title_en, body, summary_vi, summary_en,
                          technology_ids, province, fund_id, year, amount_vnd, is_demo)
"""
_UPSERT_TAIL = """
ON CONFLICT (kind, object_id) DO UPDATE SET
    title_vi = EXCLUDED.title_vi, title_en = EXCLUDED.title_en,
    summary_vi = EXCLUDED.summary_vi, summary_en = EXCLUDED.summary_en,
    technology_ids = EXCLUDED.technology_ids, province = EXCLUDED.province,
    fund_id = EXCLUDED.fund_id, year = EXCLUDED.year, amount_vnd = EXCLUDED.amount_vnd,
    is_demo = EXCLUDED.is_demo, search = EXCLUDED.search, exact = EXCLUDED.exact
WHERE (search_entry.title_vi, search_entry.title_en, search_entry.summary_vi,
       search_entry.summary_en, search_entry.technology_ids, search_entry.province,
       search_entry.fund_id, search_entry.year, search_entry.amount_vnd, search_entry.is_demo,
       search_entry.search, search_entry.exact)
   IS DISTINCT FROM (EXCLUDED.title_vi, EXCLUDED.title_en, EXCLUDED.summary_vi,
       EXCLUDED.summary_en, EXCLUDED.technology_ids, EXCLUDED.province, EXCLUDED.fund_id,
       EXCLUDED.year, EXCLUDED.amount_vnd, EXCLUDED.is_demo, EXCLUDED.search, EXCLUDED.exact)
"""

#: One SELECT per kind producing search_entry rows; `{where}` narrows projects to a batch.
_SOURCES: dict[Kind, str] = {
    Kind.TECHNOLOGY: """
        SELECT 'technology', t.id, t.name_vi, t.name_en,
               concat_ws(' ', t.note_vi, t.note_en, (
                   SELECT string_agg(concat_ws(' ', l.name_vi, l.name_en, (
                       SELECT string_agg(concat_ws(' ', p.name_vi, p.name_en), ' ')
                       FROM technology_product p WHERE p.listing = l.id)), ' ')
                   FROM technology_listing l WHERE l.technology = t.id)),
               (SELECT string_agg(DISTINCT p.name_vi, '; ') FROM technology_product p
                JOIN technology_listing l ON l.id = p.listing WHERE l.technology = t.id),
               (SELECT string_agg(DISTINCT p.name_en, '; ') FROM technology_product p
                JOIN technology_listing l ON l.id = p.listing WHERE l.technology = t.id),
               ARRAY[t.id], NULL, NULL, NULL, NULL::bigint, false
        FROM technology t""",
    Kind.LABORATORY: """
        SELECT 'laboratory', l.id, l.name_vi, l.name_en,
               concat_ws(' ', l.fields_vi, l.fields_en, o.name_vi, o.name_en, l.province),
               l.fields_vi, l.fields_en,
               coalesce((SELECT array_agg(lt.technology ORDER BY lt.technology)
                         FROM laboratory_technology lt WHERE lt.laboratory = l.id), '{}'),
               l.province, NULL, l.established_year, NULL::bigint, false
        FROM laboratory l LEFT JOIN organisation o ON o.id = l.host""",
    Kind.EXCHANGE: """
        SELECT 'exchange', e.id, e.name_vi, e.name_en,
               concat_ws(' ', e.description_vi, e.description_en, e.legal_basis, e.province,
                         o.name_vi, o.name_en),
               e.description_vi, e.description_en,
               '{}'::int[], e.province, NULL, e.founded_year, NULL::bigint, false
        FROM exchange e LEFT JOIN organisation o ON o.id = e.operator""",
    Kind.FUND: """
        SELECT 'fund', f.id, f.name_vi, f.name_en,
               concat_ws(' ', f.short_name, f.description_vi, f.description_en, f.legal_basis,
                         o.name_vi, o.name_en),
               f.description_vi, f.description_en,
               '{}'::int[], o.province, f.id, extract(year FROM f.founded_on)::int,
               f.capital_vnd, false
        FROM fund f LEFT JOIN organisation o ON o.id = f.operator""",
    Kind.ZONE: """
        SELECT 'zone', z.id, z.name_vi, z.name_en,
               concat_ws(' ', z.province, z.legal_basis, z.note_vi, z.note_en),
               z.legal_basis, z.legal_basis,
               '{}'::int[], z.province, NULL, extract(year FROM z.established_on)::int,
               NULL::bigint, false
        FROM zone z""",
    Kind.PROJECT: """
        SELECT 'project', p.id, p.title_vi, p.title_en,
               concat_ws(' ', p.abstract_vi, p.abstract_en, o.name_vi, o.name_en, p.province),
               p.abstract_vi, p.abstract_en,
               coalesce((SELECT array_agg(pt.technology ORDER BY pt.technology)
                         FROM project_technology pt WHERE pt.project = p.id), '{}'),
               p.province, p.fund, extract(year FROM p.starts_on)::int, p.amount_vnd, p.is_demo
        FROM project p JOIN organisation o ON o.id = p.organisation
        {where}""",
}


async def reindex(kinds: Iterable[Kind] = tuple(Kind)) -> None:
    """Bring search_entry in step with the catalogue tables for `kinds` (rows that did not
    change are left alone), drop entries whose item is gone, and refresh derived data."""
    async with database.connection() as conn:
        for kind in kinds:
            await conn.execute(_upsert_sql(kind, where=""))
            # Each kind's value is also its table's name.
            await conn.execute(
                f"DELETE FROM search_entry e WHERE e.kind = $1 "
                f"AND NOT EXISTS (SELECT 1 FROM {kind.value} x WHERE x.id = e.object_id)",
                kind.value,
            )
    await refresh_derived()


async def index_projects(first_id: int, last_id: int) -> None:
    """Index the projects whose ids lie in [first_id, last_id] (bulk loads go batch by batch)."""
    async with database.connection() as conn:
        await conn.execute(
            _upsert_sql(Kind.PROJECT, where="WHERE p.id BETWEEN $1 AND $2"), first_id, last_id
        )


def _upsert_sql(kind: Kind, *, where: str) -> str:
    return insert_entries_sql(_SOURCES[kind].replace("{where}", where)) + _UPSERT_TAIL


def insert_entries_sql(source: str) -> str:
    """INSERT of the search_entry rows made from `source`, a SELECT of the columns _SOURCES
    give (kind, object_id, title_vi, title_en, body, summary_vi, summary_en, technology_ids,
    province, fund_id, year, amount_vnd, is_demo)."""
    return f"INSERT INTO search_entry ({_ENTRY_COLUMNS}) " + _ENTRY_FROM_SOURCE.replace(
        "{source}", source
    )


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


#: The query ($1) as folded words, as typed (lowercase, diacritics kept) and as a phrase.
_FOLDED = "websearch_to_tsquery('simple', registry_fold($1))"
#: As typed: every word (quotes dropped: `exact` keeps no positions, which halves its size).
_EXACT = "websearch_to_tsquery('simple', lower(replace($1, '\"', ' ')))"
_PHRASE = "phraseto_tsquery('simple', registry_fold($1))"
#: The folded query with every word marked :A (the title's weight): a query the planner can
#: estimate and the GIN index can answer, where ts_filter() on each row could be neither.
_TITLE = f"regexp_replace({_FOLDED}::text, '(''(?:[^'']|'''')*'')', '\\1:A', 'g')::tsquery"
#: The ranking rule, over every match: the sum of these bonuses, then the entry id (older
#: entries first: catalogue items before projects). Strict tiers: the words found as typed,
#: diacritics and all, in title or body (4: `Đà Nẵng` above `đa năng`), beat the words side by
#: side in query order (2), which beat all the words in the title (1).
_BONUSES = (
    (4, f"e.exact @@ {_EXACT}"),
    (2, f"e.search @@ {_PHRASE}"),
    (1, f"e.search @@ {_TITLE}"),
)
#: Entries carry one of 64 sample tokens (`sample N`, N = object_id % 64), matched through the
#: same GIN index as the words: tokens 0-3 are a sixteenth of the catalogue, 0-15 a quarter.
SAMPLES = {16: range(4), 4: range(16)}
#: Counts are estimated from a sample only when it holds at least this many matches, so the
#: estimate's relative standard error stays near 1/sqrt(2000) = 2.2% (within 5%: 2.2 sigma).
#: The sixteenth is tried first, then the quarter: counts are exact below about 8,000 matches.
SAMPLE_MIN = 2000


def _sample_query(scale: int) -> str:
    tokens = " | ".join(f"''sample {n}''" for n in SAMPLES[scale])
    return f"'{tokens}'::tsquery"


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
#: ascending id.
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


def _bonuses(text_kind: str) -> list[tuple[int, str]]:
    # One word is its own phrase: the phrase bonus would split nothing.
    return [(p, c) for p, c in _BONUSES if p != 2 or text_kind == "many"]


def _tiers(text_kind: str) -> list[tuple[int, str]]:
    """(rank, condition) of each tier a match can fall in, best first."""
    if text_kind == "browse":
        return [(0, "true")]
    bonuses = _bonuses(text_kind)
    tiers = []
    for chosen in itertools.product((True, False), repeat=len(bonuses)):
        rank = sum(points for (points, _), on in zip(bonuses, chosen, strict=True) if on)
        conditions = " AND ".join(
            condition if on else f"NOT ({condition})"
            for (_, condition), on in zip(bonuses, chosen, strict=True)
        )
        tiers.append((rank, conditions))
    return sorted(tiers, reverse=True)


#: A tier is walked in id order when the sample says a page of it lies within this many rows
#: of the table; otherwise it is read from the GIN index and sorted. PostgreSQL cannot tell:
#: it multiplies the selectivities of conditions that go together (`dat`, `hiem`, `dat hiem`
#: as a phrase, both in the title) and takes a tier of 6,000 rows for one of 10.
WALK_ROWS = 3000


@functools.lru_cache(maxsize=64)
def search_sql(text_kind: str, sort: str = "relevance", backward: bool = False) -> str:
    """The statement for a query of `text_kind` (see _query_kind): one page of hits in `sort`
    order over every match, and the counts (exact, or from the sample when it is large enough).

    By relevance, the page is a UNION ALL of one LIMITed subquery per tier, best tier first,
    each in id order: the Limit above stops pulling as soon as a page is full, so lower tiers
    are never read when the better ones fill it, and PostgreSQL picks for each tier between
    walking ids and a bitmap of the GIN index by how common its words are (custom plans:
    database.py). By another sort, the page is the matches sorted by its key.

    `backward` reads the page before the cursor: the same keyset with every order reversed
    (tiers worst first, ids descending), so the LIMIT keeps the rows nearest the cursor; the
    hits come out in page order all the same (the json_agg's ORDER BY), with the extra row,
    if any, first.
    """
    words = text_kind != "browse"
    match = f"e.search @@ {_FOLDED}" if words else "$1 = ''"  # browsing: no words
    rank = " + ".join(f"CASE WHEN {c} THEN {p} ELSE 0 END" for p, c in _bonuses(text_kind)) or "0"
    key, id_desc = _SORT_KEYS.get(sort, ("page.rank", False))
    hits_order = f"page.rank DESC, page.id {_direction(id_desc, backward=False)}"

    def tier(rank: int, conditions: str, *, walk: bool) -> str:
        # Hidden from the planner (registry_opaque), the conditions leave it the id order only.
        conditions = f"{match} AND {conditions}"
        where = f"registry_opaque({conditions})" if walk else conditions
        size = f"(SELECT coalesce(sum(n), 0) FROM tier_sizes WHERE rank = {rank})"
        walked = f"{size} >= (SELECT n FROM walk_floor)"
        return f"""(SELECT e.id, {rank}::float8 AS rank, {rank >= 4 and words} AS is_exact
             FROM search_entry e
             WHERE {where} {_FILTERS} AND {"" if walk else "NOT "}{walked}
               AND {_keyset(str(rank), id_desc=False, backward=backward)}
             ORDER BY e.id {_direction(False, backward=backward)} LIMIT $9)"""

    tiers = " UNION ALL ".join(
        tier(rank, conditions, walk=walk)
        for rank, conditions in _tiers(text_kind)[:: -1 if backward else 1]
        for walk in (True, False)
    )
    if sort in _SORT_KEYS:
        is_exact = f"e.exact @@ {_EXACT}" if words else "false"
        page = f"""SELECT s.id, s.rank, {is_exact} AS is_exact FROM (
        SELECT e.id, {key}::float8 AS rank FROM search_entry e
        WHERE {match} {_FILTERS} AND {_keyset(key, id_desc=id_desc, backward=backward)}
        ORDER BY {key} {_direction(True, backward=backward)},
                 e.id {_direction(id_desc, backward=backward)}
        LIMIT $9) s JOIN search_entry e ON e.id = s.id"""
    else:
        page = f"SELECT * FROM ({tiers}) AS tiers LIMIT $9"

    def sample(scale: int) -> str:
        tokens = _sample_query(scale)
        return f"e.search @@ ({_FOLDED} && {tokens})" if words else f"e.search @@ {tokens}"

    facets = f"e.kind, e.technology_ids, e.province, e.fund_id, e.year, {rank} AS rank"
    return f"""
WITH sixteenth AS MATERIALIZED (
    SELECT {facets} FROM search_entry e WHERE {sample(16)} {_FILTERS}
),
-- Read only when the sixteenth is too small to estimate from (a one-time filter).
quarter AS MATERIALIZED (
    SELECT {facets} FROM search_entry e
    WHERE (SELECT count(*) FROM sixteenth) < $10 AND {sample(4)} {_FILTERS}
),
scale AS MATERIALIZED (
    SELECT CASE WHEN (SELECT count(*) FROM sixteenth) >= $10 THEN 16
                WHEN (SELECT count(*) FROM quarter) >= $10 THEN 4 ELSE 1 END AS weight
),
counted AS (
    SELECT s.*, 16 AS weight FROM sixteenth s WHERE (SELECT weight FROM scale) = 16
    UNION ALL
    SELECT q.*, 4 FROM quarter q WHERE (SELECT weight FROM scale) = 4
    UNION ALL
    SELECT {facets}, 1 FROM search_entry e
    WHERE (SELECT weight FROM scale) = 1 AND {match} {_FILTERS}
),
-- Estimated rows in each tier, from the sample (none when counting exactly: small queries
-- read every tier from the index); a tier this large is walked in id order.
tier_sizes AS MATERIALIZED (
    SELECT rank, count(*) * (SELECT weight FROM scale) AS n FROM (
        SELECT rank FROM sixteenth WHERE (SELECT weight FROM scale) = 16
        UNION ALL SELECT rank FROM quarter WHERE (SELECT weight FROM scale) = 4) s
    GROUP BY rank
),
walk_floor AS MATERIALIZED (
    SELECT ceil(greatest(reltuples, 1) * $9 / {WALK_ROWS}) AS n FROM pg_class
    WHERE oid = 'search_entry'::regclass
),
page AS ({page})
SELECT
    (SELECT weight > 1 FROM scale) AS is_estimate,
    (SELECT coalesce(sum(weight), 0) FROM counted) AS total,
    (SELECT coalesce(json_agg(json_build_array(
            e.kind, e.object_id, e.title_vi, e.title_en,
            -- Summaries as shown: 240 characters at most, cut here rather than in Python.
            CASE WHEN length(e.summary_vi) > 240 THEN left(e.summary_vi, 239) || '…'
                 ELSE e.summary_vi END,
            CASE WHEN length(e.summary_en) > 240 THEN left(e.summary_en, 239) || '…'
                 ELSE e.summary_en END,
            e.province, e.year, e.amount_vnd, e.is_demo, page.rank, page.id, page.is_exact)
            ORDER BY {hits_order}), '[]')
     FROM page JOIN search_entry e ON e.id = page.id) AS hits,
    (SELECT coalesce(json_agg(json_build_array(kind, n)), '[]')
     FROM (SELECT kind, sum(weight) n FROM counted GROUP BY kind) f) AS kinds,
    (SELECT coalesce(json_agg(json_build_array(t.id, t.name_vi, t.name_en, f.n)
                     ORDER BY f.n DESC, t.sort_key COLLATE "C"), '[]')
     FROM (SELECT unnest(technology_ids) AS id, sum(weight) n FROM counted GROUP BY 1) f
     JOIN technology t ON t.id = f.id) AS technologies,
    (SELECT coalesce(json_agg(json_build_array(province, n) ORDER BY n DESC, province), '[]')
     FROM (SELECT province, sum(weight) n FROM counted WHERE province IS NOT NULL
           GROUP BY province) f) AS provinces,
    (SELECT coalesce(json_agg(json_build_array(fd.id, fd.name_vi, fd.name_en, f.n)
                     ORDER BY f.n DESC, fd.id), '[]')
     FROM (SELECT fund_id, sum(weight) n FROM counted WHERE fund_id IS NOT NULL
           GROUP BY fund_id) f JOIN fund fd ON fd.id = f.fund_id) AS funds,
    (SELECT coalesce(json_agg(json_build_array(year, n) ORDER BY year DESC), '[]')
     FROM (SELECT year, sum(weight) n FROM counted WHERE year IS NOT NULL
           GROUP BY year) f) AS years
"""


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

    Every match is ranked. Counts are exact up to about 4 * SAMPLE_MIN matches (more if
    `candidate_cap` asks: a sample must then hold cap / 16); beyond, they are estimated from
    a sample and say so.
    An empty query with no filters finds nothing; an empty query with filters browses them.
    `cursor` is a page's next_cursor or previous_cursor, refused when made for another sort.

    Facets count the matches shown. A facet with values chosen (of those `choosable`) also
    has its `choices`: its values counted with every filter but its own, for one more to be
    chosen (a statement of its own per such facet, run beside the page's).
    """
    query = check_query(query)  # NFC and validated whichever caller sent it
    text = query if has_words(query) else ""
    sort = check_sort(sort, text)
    position = Cursor.parse(cursor, sort) if cursor else None
    if not text and filters.is_empty():
        return Results(query, filters, (), 0, False, {}, None, frozenset(), sort=sort)
    backward = position is not None and position.backward
    widened = [name for name in choosable if getattr(filters, name)]
    row, *others = await database.fetchrow_each(
        (
            search_sql(query_kind(text), sort, backward),
            search_arguments(text, filters, position, candidate_cap, page_size),
        ),
        *(
            (
                search_sql(query_kind(text)),
                search_arguments(
                    text, dataclasses.replace(filters, **{name: ()}), None, candidate_cap, 0
                ),
            )
            for name in widened
        ),
    )
    assert row is not None  # an aggregate query always answers one row
    raw_hits = json.loads(row["hits"])
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
        )
        for h in raw_hits
    )
    is_estimate = bool(row["is_estimate"])
    total = (estimate if is_estimate else int)(row["total"])
    facets = _facets(row)
    choices = {}
    for name, other in zip(widened, others, strict=True):
        assert other is not None
        choices[name] = _facets(other)[name]
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


def _facets(row: Mapping[str, Any]) -> dict[str, tuple[FacetValue, ...]]:
    """Each facet's values and counts, as search_sql() answers them."""
    count = estimate if row["is_estimate"] else int
    return {
        "kind": tuple(FacetValue(k, Localized(k), count(n)) for k, n in json.loads(row["kinds"])),
        "technology": tuple(
            FacetValue(str(i), Localized(vi, en), count(n))
            for i, vi, en, n in json.loads(row["technologies"])
        ),
        "province": tuple(
            FacetValue(p, Localized(p), count(n)) for p, n in json.loads(row["provinces"])
        ),
        "fund": tuple(
            FacetValue(str(i), Localized(vi, en), count(n))
            for i, vi, en, n in json.loads(row["funds"])
        ),
        "year": tuple(
            FacetValue(str(y), Localized(str(y)), count(n)) for y, n in json.loads(row["years"])
        ),
    }


def ranked_sql() -> str:
    """Every match of $1 (in province $2, if given) ranked by the rule, written out plainly:
    no tiers, no limits. What the tiered page must agree with (tests, bench/catalogue.py)."""
    bonuses = " + ".join(f"{points} * ({condition})::int" for points, condition in _BONUSES)
    return f"""
        SELECT e.id FROM search_entry e
        WHERE e.search @@ {_FOLDED} AND ($2::text IS NULL OR e.province = $2)
        ORDER BY {bonuses} DESC, e.id"""


def search_arguments(
    text: str,
    filters: Filters,
    cursor: Cursor | None,
    candidate_cap: int,
    page_size: int,
) -> tuple[object, ...]:
    """The parameters of search_sql() (benchmarks run the same statement on a bare pool)."""

    def selected(values: tuple[object, ...]) -> list[object] | None:
        return list(values) or None

    return (
        text,
        selected(tuple(kind.value for kind in filters.kind)),
        selected(filters.technology),
        selected(filters.province),
        selected(filters.fund),
        selected(filters.year),
        cursor.key if cursor else None,
        cursor.id if cursor else None,
        page_size + 1,
        max(SAMPLE_MIN, candidate_cap // 16),
    )


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
