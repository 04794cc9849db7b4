"""A fund's external id names one imported project (after the tables, …t11_00…: raw SQL runs
before a migration's own tables are made)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T11:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "imported_project: unique (fund, external_id)"

FORWARDS = (
    "CREATE UNIQUE INDEX imported_project_fund_external_id "
    "ON imported_project (fund, external_id);"
)
BACKWARDS = "DROP INDEX IF EXISTS imported_project_fund_external_id;"


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
