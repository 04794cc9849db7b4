"""Issue batches' rules: one unfinished batch per call (starting again while one runs answers
that one), and a batch issues at least its call's decision."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T11:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "issue batches: one running per call"

FORWARDS = """
CREATE UNIQUE INDEX issue_batch_running ON issue_batch (call) WHERE finished_at IS NULL;
ALTER TABLE issue_batch ADD CONSTRAINT issue_batch_total CHECK (total > 0);
"""
BACKWARDS = "DROP INDEX IF EXISTS issue_batch_running;"


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
