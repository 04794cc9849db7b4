"""Mail delivery: one job per queued message (registry.services.mail.enqueue defers it)."""

from __future__ import annotations

from procrastinate import Blueprint, JobContext, RetryStrategy

from registry.jobs.context import settings_of
from registry.services import mail

tasks = Blueprint()

#: Waits of 3 s, 9 s, 27 s, ... 3**10 s (16.4 h) between tries: 11 tries over about 24.6 h,
#: then the message stays in the outbox with its last error.
MAIL_RETRY = RetryStrategy(max_attempts=10, exponential_wait=3)


@tasks.task(name="deliver", retry=MAIL_RETRY, pass_context=True)
async def deliver(context: JobContext, mail_id: int) -> None:
    await mail.deliver(settings_of(context), mail_id)
