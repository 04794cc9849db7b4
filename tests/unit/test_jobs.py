"""The job layer's fixed parts: the retry schedule, the task names services defer by, and the
procrastinate schema the migration applies."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from procrastinate.jobs import Job
from procrastinate.schema import SchemaManager

from registry.jobs import mail, worker
from registry.services import queue

pytestmark = pytest.mark.unit

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def _waits() -> list[float]:
    waits = []
    for attempts in range(100):
        job = Job(
            id=1, queue="mail", lock=None, queueing_lock=None, task_name="t", attempts=attempts
        )
        decision = mail.MAIL_RETRY.get_retry_decision(exception=OSError(), job=job)
        if decision is None:
            return waits
        waits.append(round((decision.retry_at - datetime.now(UTC)).total_seconds()))
    raise AssertionError("mail is retried for ever")


def test_mail_is_retried_from_seconds_to_about_a_day():
    waits = _waits()
    assert waits[0] <= 5
    assert waits == sorted(waits)
    assert 20 * 3600 <= sum(waits) <= 30 * 3600


def test_every_task_services_defer_is_registered():
    assert set(worker.app.tasks) >= queue.TASK_NAMES


def test_the_migrated_schema_is_the_installed_procrastinate_schema():
    """An upgrade of procrastinate that changes its schema needs a migration of ours."""
    vendored = (MIGRATIONS / "procrastinate_3_10_0_schema.sql").read_text(encoding="utf-8")
    assert SchemaManager.get_schema() == vendored
