"""Sweeping stored files nothing names (left by a crash between storing a file and committing
the row that names it, registry.services.storage).

The web role `registry_app` keeps only SELECT and INSERT on `stored_file` and its chunks:
granting it DELETE would let any bug or injection in the web process erase submitted files.
Instead it may call one SECURITY DEFINER function, owned by the migrating role, that deletes
only files no `blob` row names and stored longer ago than the grace it is given, never less
than an hour (an upload is seconds between storing and its row's commit). It locks `blob`
against inserts while it looks, so a row committing meanwhile keeps its file.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "registry_sweep_stored_files: delete unnamed stored files past a grace"

FORWARDS = r"""
CREATE FUNCTION registry_sweep_stored_files(grace interval) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    swept integer;
BEGIN
    LOCK TABLE blob IN SHARE MODE;
    DELETE FROM stored_file f
     WHERE f.stored_at < now() - greatest(grace, interval '1 hour')
       AND NOT EXISTS (SELECT FROM blob b WHERE b.sha256 = f.sha256);
    GET DIAGNOSTICS swept = ROW_COUNT;
    RETURN swept;
END $$;
REVOKE ALL ON FUNCTION registry_sweep_stored_files(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION registry_sweep_stored_files(interval) TO registry_app;
"""

BACKWARDS = """
DROP FUNCTION IF EXISTS registry_sweep_stored_files(interval);
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
