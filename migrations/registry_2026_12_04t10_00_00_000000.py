"""Review reminders: when a reviewer was reminded of an assignment's deadline (each assignment
is reminded once), and a declared relation must name an organisation or a person."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-04T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "review_assignment.reminded_at; a reviewer relation names someone"

FORWARDS = r"""
ALTER TABLE reviewer_relation ADD CONSTRAINT reviewer_relation_names_someone
    CHECK (organisation IS NOT NULL OR person_name <> '' OR person_orcid <> '');
"""

BACKWARDS = """
ALTER TABLE reviewer_relation DROP CONSTRAINT IF EXISTS reviewer_relation_names_someone;
"""


async def forwards():
    from registry.database import connection

    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    manager.add_column(
        table_class_name="Assignment",
        tablename="review_assignment",
        column_name="reminded_at",
        db_column_name="reminded_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    async def run():
        async with connection() as conn:
            await conn.execute(FORWARDS)

    async def run_backwards():
        async with connection() as conn:
            await conn.execute(BACKWARDS)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
