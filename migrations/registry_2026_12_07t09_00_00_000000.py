"""Search on tokens: one tsvector without positions (`terms`) replaces the positional folded
vector and the exact word list (services.search, domain.terms); samples with indexes of their
own replace the sample tokens.

Hand-written: Piccolo does not model tsvector columns. Tokens are made in Python, so this
migration cannot make them: `registry migrate` indexes the entries left without tokens right
after (services.search.index_missing).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-07T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "search_entry.terms"

FORWARDS = """
DROP INDEX IF EXISTS search_entry_search;
DROP INDEX IF EXISTS search_entry_exact;
ALTER TABLE search_entry DROP COLUMN search, DROP COLUMN exact, ADD COLUMN terms tsvector;
-- Tokens and texts out of line: a row is then its facets (about 100 bytes), so counting and
-- sorting matches reads little; the tokens are read only when a dense tier is walked, and the
-- texts for the page's hits. Tokens do not compress (measured: 3.5 of 4.6 kB with lz4), so
-- they are stored as they are, which also makes reading them cheaper.
ALTER TABLE search_entry ALTER COLUMN terms SET STORAGE EXTERNAL;
ALTER TABLE search_entry SET (toast_tuple_target = 128);
-- The facets stay in the row: a technology list of two or more would otherwise be moved out
-- too, and counting would read it back for every match (measured: 53 ms for 6,700 matches).
ALTER TABLE search_entry ALTER COLUMN kind SET STORAGE PLAIN,
    ALTER COLUMN technology_ids SET STORAGE PLAIN, ALTER COLUMN province SET STORAGE PLAIN;
CREATE INDEX search_entry_terms ON search_entry USING gin (terms);
-- Samples for estimating the counts of broad queries (services.search.SAMPLES): each with a
-- GIN index of its own, whose posting lists are 64, 16 or 4 times shorter than the full one's.
ALTER TABLE search_entry ADD COLUMN sample smallint GENERATED ALWAYS AS (object_id % 64) STORED;
CREATE INDEX search_entry_terms_64 ON search_entry USING gin (terms) WHERE sample < 1;
CREATE INDEX search_entry_terms_16 ON search_entry USING gin (terms) WHERE sample < 4;
CREATE INDEX search_entry_terms_4 ON search_entry USING gin (terms) WHERE sample < 16;
-- Browsing (no words) reads its samples through these: named by a list (`sample = ANY`), which
-- a word query's `sample < N` does not imply, so PostgreSQL never ANDs them with the partial
-- GIN indexes above, which alone are far cheaper (measured: 1.7 ms against 0.03 ms).
CREATE INDEX search_entry_browse_64 ON search_entry (id) WHERE sample = ANY ('{0}'::smallint[]);
CREATE INDEX search_entry_browse_16 ON search_entry (id)
    WHERE sample = ANY ('{0,1,2,3}'::smallint[]);
CREATE INDEX search_entry_browse_4 ON search_entry (id)
    WHERE sample = ANY ('{0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15}'::smallint[]);
-- The orders a list may take besides relevance (services.search._SORT_KEYS): a page of the
-- newest or largest is read from the front of an index, not sorted out of every entry.
CREATE INDEX search_entry_newest ON search_entry ((coalesce(year, -1)) DESC, id DESC);
CREATE INDEX search_entry_largest ON search_entry ((coalesce(amount_vnd, -1)) DESC, id);
"""

BACKWARDS = """
DROP INDEX IF EXISTS search_entry_terms, search_entry_terms_64, search_entry_terms_16,
    search_entry_terms_4, search_entry_browse_64, search_entry_browse_16, search_entry_browse_4,
    search_entry_newest, search_entry_largest;
ALTER TABLE search_entry DROP COLUMN sample;
ALTER TABLE search_entry RESET (toast_tuple_target);
ALTER TABLE search_entry ALTER COLUMN kind SET STORAGE EXTENDED,
    ALTER COLUMN technology_ids SET STORAGE EXTENDED, ALTER COLUMN province SET STORAGE EXTENDED;
ALTER TABLE search_entry DROP COLUMN terms, ADD COLUMN search tsvector, ADD COLUMN exact tsvector;
CREATE INDEX search_entry_search ON search_entry USING gin (search);
CREATE INDEX search_entry_exact ON search_entry USING gin (exact);
"""


async def forwards():
    from registry.database import connection

    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def run():
        async with connection() as conn:
            await conn.execute(FORWARDS)

    async def run_backwards():
        async with connection() as conn:
            await conn.execute(BACKWARDS)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
