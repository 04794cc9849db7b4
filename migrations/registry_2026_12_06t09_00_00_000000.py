"""Search ranks every match: an exact (diacritic) vector of the whole entry beside the folded
one, and sample tokens for estimating counts of broad queries.

Hand-written: Piccolo does not model tsvector columns. `exact` replaces `title_exact` (the
title's words only): the bonus for words typed with their diacritics now looks at the body too.
Existing entries get their title words now and the rest at the next reindex.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "search_entry.exact, sample tokens"

FORWARDS = """
ALTER TABLE search_entry RENAME COLUMN title_exact TO exact;
-- `exact`: words only; the bonus needs no positions, and they would double the column.
-- One of 64 sample tokens per entry (services.search.SAMPLES): broad queries count a sixteenth
-- (or a quarter) of their matches through the same GIN index and scale up. The space keeps
-- the token out of reach of anything typed: the text parser never yields a word with a space.
UPDATE search_entry SET exact = strip(exact),
    search = search || array_to_tsvector(ARRAY['sample ' || object_id % 64]);
CREATE INDEX search_entry_exact ON search_entry USING gin (exact);
-- Its argument, hidden from the planner: a search tier the sample found large is walked in id
-- order, which PostgreSQL would not choose from its (far too low) estimate of the conditions.
CREATE FUNCTION registry_opaque(boolean) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS 'BEGIN RETURN $1; END';
"""

BACKWARDS = """
DROP FUNCTION IF EXISTS registry_opaque(boolean);
UPDATE search_entry SET search = ts_delete(search, 'sample ' || object_id % 64);
DROP INDEX IF EXISTS search_entry_exact;
ALTER TABLE search_entry RENAME COLUMN exact TO title_exact;
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
