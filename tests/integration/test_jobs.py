"""Mail delivery in jobs, on the real database with a real procrastinate worker running in this
process: queued in the action's transaction, delivered once, retried after failures, and not
stopped by a connection that dies mid-delivery."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from datetime import UTC, datetime
from urllib.parse import urlsplit

import asyncpg
import psycopg
import pytest

from registry import database
from registry.jobs import worker
from registry.services import mail, queue
from registry.settings import Settings
from tests.factories import free_port
from tests.faultproxy import PausableProxy

pytestmark = pytest.mark.integration


class ActionFailed(Exception):
    pass


def _settings(database_url: str, data_dir, smtp_url: str = "") -> Settings:
    return Settings(
        database_url=database_url, data_dir=data_dir, smtp_url=smtp_url, worker_concurrency=1
    )


def _recipient() -> str:
    return f"jobs-{secrets.token_hex(4)}@example.vn"


async def _queue(recipient: str, *, then_fail: bool = False) -> None:
    """An action that queues one message in its transaction (and, if asked, then fails)."""
    async with database.engine().transaction():
        await mail.enqueue(recipient, "en", "Hello %(who)s", "A body for %(who)s", {"who": "you"})
        if then_fail:
            raise ActionFailed


async def _run_worker(settings: Settings) -> None:
    """Until no job is due, as `registry worker` runs them."""
    await worker.run(settings, wait=False, signal_handlers=False)


def _files_to(settings: Settings, recipient: str) -> list[mail.OutboxFile]:
    return [message for message in mail.read_outbox(settings) if message.recipient == recipient]


async def _outbox_row(conn: asyncpg.Connection, recipient: str) -> asyncpg.Record:
    return await conn.fetchrow(
        "SELECT id, sent_at, attempts, last_error FROM outbox_mail WHERE recipient = $1",
        recipient,
    )


async def _delivery_job(conn: asyncpg.Connection, mail_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT status, attempts, scheduled_at FROM procrastinate_jobs "
        "WHERE task_name = $1 AND (args->>'mail_id')::bigint = $2",
        queue.DELIVER_MAIL,
        mail_id,
    )


@pytest.fixture
async def conn(catalogue, database_url):
    connection = await asyncpg.connect(database_url)
    yield connection
    await connection.close()


async def test_mail_queued_in_a_transaction_is_delivered_by_a_worker(conn, database_url, tmp_path):
    settings = _settings(database_url, tmp_path)
    recipient = _recipient()
    await _queue(recipient)
    row = await _outbox_row(conn, recipient)
    assert row["sent_at"] is None
    assert (await _delivery_job(conn, row["id"]))["status"] == "todo"

    await _run_worker(settings)

    [message] = _files_to(settings, recipient)
    assert message.subject == "Hello you"
    assert message.body.strip() == "A body for you"
    row = await _outbox_row(conn, recipient)
    assert row["sent_at"] is not None
    assert row["attempts"] == 1
    assert await _delivery_job(conn, row["id"]) is None  # done jobs are deleted; the row stays
    # Delivered is delivered: another try sends nothing.
    assert await mail.deliver(settings, row["id"]) is False
    assert len(_files_to(settings, recipient)) == 1


async def test_a_rolled_back_action_defers_nothing(conn):
    recipient = _recipient()
    with pytest.raises(ActionFailed):
        await _queue(recipient, then_fail=True)
    assert await _outbox_row(conn, recipient) is None
    orphans = await conn.fetchval(
        "SELECT count(*) FROM procrastinate_jobs WHERE task_name = $1 AND NOT EXISTS "
        "(SELECT FROM outbox_mail WHERE id = (args->>'mail_id')::bigint)",
        queue.DELIVER_MAIL,
    )
    assert orphans == 0


async def test_two_deliveries_at_once_send_a_message_once(conn, database_url, tmp_path):
    settings = _settings(database_url, tmp_path)
    recipient = _recipient()
    await _queue(recipient)
    row = await _outbox_row(conn, recipient)
    outcomes = await asyncio.gather(*(mail.deliver(settings, row["id"]) for _ in range(4)))
    assert sorted(outcomes) == [False, False, False, True]
    assert len(_files_to(settings, recipient)) == 1


async def test_a_failed_delivery_is_recorded_and_retried_later(conn, database_url, tmp_path):
    unreachable = _settings(database_url, tmp_path, smtp_url=f"smtp://127.0.0.1:{free_port()}")
    recipient = _recipient()
    await _queue(recipient)
    mail_id = (await _outbox_row(conn, recipient))["id"]

    await _run_worker(unreachable)

    row = await _outbox_row(conn, recipient)
    assert row["sent_at"] is None
    assert row["attempts"] == 1
    assert "refused" in row["last_error"].lower()
    job = await _delivery_job(conn, mail_id)
    assert job["status"] == "todo"
    assert job["attempts"] == 1
    wait = (job["scheduled_at"] - datetime.now(UTC)).total_seconds()
    assert 0 < wait <= 3  # the first step of the backoff

    await asyncio.sleep(wait + 0.2)  # the retry comes due; now the mail can go out
    files = _settings(database_url, tmp_path)
    await _run_worker(files)

    assert len(_files_to(files, recipient)) == 1
    row = await _outbox_row(conn, recipient)
    assert row["sent_at"] is not None
    assert row["attempts"] == 2
    assert await _delivery_job(conn, mail_id) is None


async def test_a_connection_killed_mid_delivery_does_not_stop_the_next_mail(
    conn, database_url, tmp_path, monkeypatch
):
    settings = _settings(database_url, tmp_path)
    first, second = _recipient(), _recipient()
    await _queue(first)
    await _queue(second)
    killed: list[int] = []
    write_file = mail._write_file

    def write_after_killing_the_delivery(settings, mail_id, message):
        """The delivery's connection dies while it holds the message (as in a database
        restart or a network cut), just before the file is written."""
        if message["To"] == first:
            with psycopg.connect(database_url, autocommit=True) as admin:
                killed.extend(
                    pid
                    for (pid,) in admin.execute(
                        "SELECT pid FROM pg_locks JOIN pg_class ON pg_class.oid = relation "
                        "WHERE relname = 'outbox_mail' AND mode = 'RowShareLock' "
                        "AND pid <> pg_backend_pid()"
                    )
                )
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) pid", [killed]
                )
        write_file(settings, mail_id, message)

    monkeypatch.setattr(mail, "_write_file", write_after_killing_the_delivery)
    await _run_worker(settings)

    assert killed, "no delivery held the message's row"
    assert len(_files_to(settings, second)) == 1
    assert (await _outbox_row(conn, second))["sent_at"] is not None
    # The first was written but never recorded as sent: its job tries again (at least once).
    row = await _outbox_row(conn, first)
    assert row["sent_at"] is None
    assert (await _delivery_job(conn, row["id"]))["status"] == "todo"


async def test_a_worker_outlives_a_database_outage(conn, database_url, tmp_path):
    """The database restarts (every connection cut, new ones refused for a while) under a
    worker waiting for jobs: it comes back by itself and delivers what is queued after, as a
    web process does (issue 11: found by `make soak`)."""
    proxy = PausableProxy(database_url)
    through_proxy = await proxy.start()
    settings = _settings(through_proxy, tmp_path)  # the worker's own connections
    running = asyncio.create_task(worker.run(settings, wait=True, signal_handlers=False))
    try:
        await asyncio.sleep(2)  # listening for jobs
        await proxy.stop()
        await asyncio.sleep(3)
        await proxy.start(port=urlsplit(through_proxy).port or 0)
        recipient = _recipient()
        await _queue(recipient)
        for _ in range(300):
            if _files_to(settings, recipient) or running.done():
                break
            await asyncio.sleep(0.1)
        assert not running.done(), "the worker stopped"
        assert len(_files_to(settings, recipient)) == 1
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await running
        await proxy.stop()
