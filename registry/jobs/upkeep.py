"""The queue's own upkeep."""

from __future__ import annotations

from procrastinate import Blueprint, JobContext

tasks = Blueprint()


# A worker killed mid-job (SIGKILL, a lost machine) leaves its job "doing" for ever; once the
# worker's heartbeat is older than procrastinate's limit (30 s), the job runs again.
@tasks.periodic(cron="* * * * *")
@tasks.task(name="retry_stalled", queueing_lock="retry_stalled", pass_context=True)
async def retry_stalled(context: JobContext, timestamp: int) -> None:
    manager = context.app.job_manager
    for job in await manager.get_stalled_jobs():
        await manager.retry_job(job)
