"""Upkeep: the queue's own, and purging expired sessions and tokens."""

from __future__ import annotations

import logging

from procrastinate import Blueprint, JobContext

from registry.services import sessions

log = logging.getLogger(__name__)

tasks = Blueprint()


# A worker killed mid-job (SIGKILL, a lost machine) leaves its job "doing" for ever; once the
# worker's heartbeat is older than procrastinate's limit (30 s), the job runs again.
@tasks.periodic(cron="* * * * *")
@tasks.task(name="retry_stalled", queueing_lock="retry_stalled", pass_context=True)
async def retry_stalled(context: JobContext, timestamp: int) -> None:
    manager = context.app.job_manager
    for job in await manager.get_stalled_jobs():
        await manager.retry_job(job)


# Expired rows are already refused where they are read; purging keeps the tables (and the
# sessions' index) small and leaves no spent tokens lying around.
@tasks.periodic(cron="17 * * * *")
@tasks.task(name="purge_expired", queueing_lock="purge_expired")
async def purge_expired(timestamp: int) -> None:
    purged = await sessions.purge_expired()
    log.info(
        "purged %s expired sessions, %s spent tokens, %s quiet throttles",
        purged.sessions,
        purged.tokens,
        purged.throttles,
    )
