"""Deferring background jobs inside the caller's transaction.

The jobs live in procrastinate's tables in the same database, so a job deferred here commits
or rolls back with the action that asked for it: a rolled-back action leaves no job, and a
process that dies right after the commit leaves both the data and its job (nothing for a
sweeper to catch up on). This is the whole seam between services and `registry.jobs`: a task
name, a queue and JSON arguments, written by procrastinate's own SQL function (the one its
Python `defer` calls). Services import neither `registry.jobs` nor procrastinate;
`registry.jobs` registers its tasks under the names below, and a test checks that it does.
"""

from __future__ import annotations

import json

import asyncpg

#: procrastinate task names ("namespace:task", registry.jobs.worker.create_app).
DELIVER_MAIL = "mail:deliver"
PASSWORD_RESET = "accounts:password_reset"  # noqa: S105 (a task name, not a secret)
FLAG_DUPLICATES = "proposals:flag_duplicates"
IMPORT_PROJECTS = "imports:run_project_import"
ISSUE_DOCUMENT = "documents:issue"
REFRESH_TOTALS = "catalogue:refresh_totals"
TASK_NAMES = frozenset(
    {
        DELIVER_MAIL,
        PASSWORD_RESET,
        FLAG_DUPLICATES,
        ISSUE_DOCUMENT,
        REFRESH_TOTALS,
        IMPORT_PROJECTS,
    }
)
MAIL_QUEUE = "mail"
#: Work after an action that nobody waits for (near-duplicate flags after a submission).
BACKGROUND_QUEUE = "background"
#: Rendering and signing decision documents (seconds each; a batch is hundreds).
DOCUMENTS_QUEUE = "documents"

_DEFER = """
SELECT (procrastinate_defer_jobs_v1(ARRAY[ROW(
    $1::varchar, $2::varchar, 0, NULL::text, NULL::text, $3::jsonb, NULL::timestamptz
)::procrastinate_job_to_defer_v1]))[1]
"""


async def defer(conn: asyncpg.Connection, queue: str, task_name: str, **args: object) -> int:
    """Queue one job on `conn`, in its current transaction; returns the job's id."""
    return await conn.fetchval(_DEFER, queue, task_name, json.dumps(args))
