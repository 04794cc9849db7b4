"""Which transactions changed search entries, so a process may keep the counts of a search
(services.search: totals and facets, the costly part of a broad query) until an entry changes.

One row per writing transaction (its id), written by a statement trigger: writers never wait
for one another, as they would on a shared counter. A reader asks whether any transaction its
cached counts could not see has since committed (pg_visible_in_snapshot). Rows older than a
day are pruned by the writers (a process keeps counts for an hour at most).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-08T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "search_change: transactions that changed search entries"

FORWARDS = """
CREATE TABLE search_change (
    xid xid8 PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE FUNCTION note_search_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO search_change (xid) VALUES (pg_current_xact_id()) ON CONFLICT DO NOTHING;
    IF FOUND THEN  -- the transaction's first change: prune, skipping rows another writer holds
        DELETE FROM search_change WHERE xid IN (
            SELECT xid FROM search_change WHERE at < now() - interval '1 day'
            FOR UPDATE SKIP LOCKED);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER search_entry_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON search_entry
    FOR EACH STATEMENT EXECUTE FUNCTION note_search_change();
"""
BACKWARDS = """
DROP TRIGGER IF EXISTS search_entry_changed ON search_entry;
DROP FUNCTION IF EXISTS note_search_change();
DROP TABLE IF EXISTS search_change;
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
