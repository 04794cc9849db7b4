"""Expert review: reminders before the review deadline (registry.services.reviews)."""

from __future__ import annotations

import logging

from procrastinate import Blueprint

from registry.services import reviews

log = logging.getLogger(__name__)

tasks = Blueprint()


# Hourly: reviews due within three days get their one reminder within the hour they enter
# that window. A run that overlaps another skips the rows it holds (each is reminded once).
@tasks.periodic(cron="23 * * * *")
@tasks.task(name="send_reminders", queueing_lock="send_reminders")
async def send_reminders(timestamp: int) -> None:
    reminded = await reviews.send_reminders()
    if reminded:
        log.info("reminded reviewers of %s reviews due soon", reminded)
