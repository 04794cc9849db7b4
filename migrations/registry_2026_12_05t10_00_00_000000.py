"""A funded project names the call and the proposal it came from, when an approved outcome
created it (services.public_record); catalogue and demo projects have neither. An approved
decision keeps the call's public aggregates, frozen at approval."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import JSONB, ForeignKey, Serial
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-05T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "project.call, project.proposal, call_decision.public_statistics"


#: Open data lists the real (not demo) projects: without this, a seq scan of every demo one.
FORWARDS = "CREATE INDEX project_not_demo ON project (id) WHERE NOT is_demo;"
BACKWARDS = "DROP INDEX IF EXISTS project_not_demo;"


class Call(Table, tablename="call", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name="id",
        secret=False,
    )


class Proposal(Table, tablename="proposal", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name="id",
        secret=False,
    )


def _link(references: type[Table], *, unique: bool, index: bool) -> dict[str, object]:
    return {
        "references": references,
        "on_delete": OnDelete.restrict,
        "on_update": OnUpdate.cascade,
        "target_column": None,
        "null": True,
        "primary_key": False,
        "unique": unique,
        "index": index,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }


async def forwards():
    from registry.database import connection

    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Project",
        tablename="project",
        column_name="call",
        db_column_name="call",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params=_link(Call, unique=False, index=True),
        schema=None,
    )
    manager.add_column(
        table_class_name="Project",
        tablename="project",
        column_name="proposal",
        db_column_name="proposal",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params=_link(Proposal, unique=True, index=False),
        schema=None,
    )
    manager.add_column(
        table_class_name="CallDecision",
        tablename="call_decision",
        column_name="public_statistics",
        db_column_name="public_statistics",
        column_class_name="JSONB",
        column_class=JSONB,
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
