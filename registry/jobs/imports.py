"""Importing historic projects from an uploaded file (registry.services.project_import.start
defers it in the upload's transaction); its page follows the progress it writes."""

from __future__ import annotations

import logging

from procrastinate import Blueprint, JobContext

from registry.jobs.context import settings_of
from registry.services import project_import, storage

log = logging.getLogger(__name__)

tasks = Blueprint()


# Not retried: a file is imported whole or not at all, so a failure is shown on its page and
# the person uploads again. A run that finished before (a stalled job run again) does nothing.
@tasks.task(name="run_project_import", pass_context=True)
async def run_project_import(context: JobContext, import_id: int) -> None:
    try:
        await project_import.run_queued(import_id, storage.storage_from(settings_of(context)))
    except Exception:
        log.exception("project import %s failed", import_id)
        await project_import.mark_failed(import_id)
        raise
