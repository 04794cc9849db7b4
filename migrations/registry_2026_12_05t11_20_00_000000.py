"""The catalogue's funding totals (materialized views) refreshed by the application's role: a
function that runs as their owner, which is all that role may do to them. An approval defers
the refresh (registry.jobs.catalogue) instead of waiting for the next catalogue load."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T11:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "refresh_catalogue_totals(), callable by registry_app"

FORWARDS = """
CREATE FUNCTION refresh_catalogue_totals() RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    REFRESH MATERIALIZED VIEW CONCURRENTLY public.technology_funding;
    REFRESH MATERIALIZED VIEW CONCURRENTLY public.fund_funding;
$$;
REVOKE ALL ON FUNCTION refresh_catalogue_totals() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION refresh_catalogue_totals() TO registry_app;
"""
BACKWARDS = "DROP FUNCTION IF EXISTS refresh_catalogue_totals();"


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
