"""Imports of historic funded projects from spreadsheets (services.project_import).

Schema only. The uploaded file is in the configured storage under its SHA-256 (a `blob` row
names it, so the orphan sweep keeps it).
"""

from piccolo.columns import JSONB, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from registry.tables.accounts import Account
from registry.tables.catalogue import Fund, Project


class ProjectImport(Table, tablename="project_import"):
    """One uploaded file and the job that imports it (or only checks it: a dry run)."""

    created_by = ForeignKey(references=Account, on_delete=OnDelete.restrict, index=True)
    #: The fund every row belongs to (a manager's import); null: each row names its fund.
    fund = ForeignKey(references=Fund, null=True, on_delete=OnDelete.restrict)
    filename = Text()
    sha256 = Varchar(length=64)
    dry_run = Boolean(default=False)
    #: The language its page was asked in: the job speaks it (nothing it writes depends on it).
    language = Varchar(length=5, default="vi")
    #: queued, running, done (imported or checked), refused (a row or the file), failed.
    state = Varchar(length=20, default="queued")
    rows_total = Integer(default=0)
    rows_done = Integer(default=0)
    created = Integer(default=0)
    updated = Integer(default=0)
    unchanged = Integer(default=0)
    organisations_created = Integer(default=0)
    #: [[line, column key, msgid, params], ...]: why rows were refused.
    problems = JSONB(default="[]")
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


class ImportedProject(Table, tablename="imported_project"):
    """Which project a fund's external id became: a second import of the same row finds it."""

    project = ForeignKey(references=Project, unique=True, on_delete=OnDelete.cascade)
    fund = ForeignKey(references=Fund, on_delete=OnDelete.restrict)
    external_id = Varchar(length=40)
    #: domain.project_import.ProjectRow.fingerprint of what was imported last.
    fingerprint = Varchar(length=64)
