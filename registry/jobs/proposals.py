"""Proposals: the near-duplicate check after a submission (registry.services.submissions
defers it in the submission's transaction)."""

from __future__ import annotations

from procrastinate import Blueprint

from registry.services import submissions

tasks = Blueprint()


# Re-running it (a retry, a stalled worker's job run again) replaces the version's flags.
@tasks.task(name="flag_duplicates")
async def flag_duplicates(version_id: int) -> None:
    await submissions.flag_duplicates(version_id)
