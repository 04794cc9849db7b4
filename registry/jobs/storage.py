"""Stored files nothing names: swept once a day (registry.services.storage.sweep_orphans)."""

from __future__ import annotations

import logging

from procrastinate import Blueprint, JobContext

from registry.jobs.context import settings_of
from registry.services import storage

log = logging.getLogger(__name__)

tasks = Blueprint()


@tasks.periodic(cron="41 3 * * *")
@tasks.task(name="sweep_orphans", queueing_lock="sweep_orphans", pass_context=True)
async def sweep_orphans(context: JobContext, timestamp: int) -> None:
    store = storage.storage_from(settings_of(context))
    swept = await store.sweep_orphans(storage.ORPHAN_GRACE)
    log.info("swept %s stored files nothing names", swept)
