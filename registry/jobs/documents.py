"""Decision documents: one job per document of an issue batch (services.document_batches)."""

from __future__ import annotations

from procrastinate import Blueprint, JobContext, RetryStrategy

from registry.jobs import render_pool
from registry.jobs.context import settings_of
from registry.services import document_batches
from registry.services.storage import storage_from

tasks = Blueprint()

#: A render or a signature that failed (a child process killed, the TSA away) is tried again
#: after 5 s, 25 s, 2 min and 10 min; then the batch page counts it as failed.
ISSUE_RETRY = RetryStrategy(max_attempts=4, exponential_wait=5)


@tasks.task(name="issue", retry=ISSUE_RETRY, pass_context=True)
async def issue(context: JobContext, batch_id: int, outcome_id: int | None) -> None:
    settings = settings_of(context)
    render = render_pool.renderer(settings.worker_concurrency)
    await document_batches.issue_one(
        settings, storage_from(settings), render, batch_id, outcome_id
    )
