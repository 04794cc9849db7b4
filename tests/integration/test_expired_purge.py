"""Expired sessions, spent link tokens and long-quiet sign-in throttles are purged by a periodic
job; live ones stay."""

from __future__ import annotations

import secrets

import asyncpg
import pytest

from registry.jobs import worker
from registry.services import sessions

pytestmark = [pytest.mark.integration]


@pytest.fixture
async def conn(catalogue, database_url):
    connection = await asyncpg.connect(database_url)
    yield connection
    await connection.close()


async def _session(conn: asyncpg.Connection, account: int, *, created: str, seen: str) -> int:
    return await conn.fetchval(
        "INSERT INTO web_session (digest, account, second_factor_done, idle_seconds, "
        "created_at, last_seen_at) VALUES ($1, $2, false, 1800, "
        "now() - $3::text::interval, now() - $4::text::interval) RETURNING id",
        secrets.token_hex(32), account, created, seen,
    )  # fmt: skip


async def _token(conn: asyncpg.Connection, account: int, *, expires: str, used: bool) -> int:
    return await conn.fetchval(
        "INSERT INTO account_token (account, purpose, digest, expires_at, used_at) "
        "VALUES ($1, 'reset_password', $2, now() + $3::text::interval, "
        "CASE WHEN $4 THEN now() END) RETURNING id",
        account, secrets.token_hex(32), expires, used,
    )  # fmt: skip


async def _throttle(conn: asyncpg.Connection, *, last_failure: str, blocked: str | None) -> str:
    key = f"address:test-{secrets.token_hex(6)}"
    await conn.execute(
        "INSERT INTO login_throttle (key, failures, last_failure_at, blocked_until) "
        "VALUES ($1, 7, now() - $2::text::interval, now() + $3::text::interval)",
        key, last_failure, blocked,
    )  # fmt: skip
    return key


async def _left(conn: asyncpg.Connection, table: str, column: str, values: list) -> set:
    rows = await conn.fetch(f"SELECT {column} FROM {table} WHERE {column} = ANY($1)", values)
    return {row[column] for row in rows}


async def test_the_purge_removes_only_what_has_expired(conn, make_person):
    account = (await make_person(("applicant", "vast"))).id
    idle = await _session(conn, account, created="2 hours", seen="31 minutes")
    too_old = await _session(conn, account, created="13 hours", seen="1 minute")
    live = await _session(conn, account, created="2 hours", seen="1 minute")
    expired_token = await _token(conn, account, expires="-1 minute", used=False)
    used_token = await _token(conn, account, expires="30 minutes", used=True)
    live_token = await _token(conn, account, expires="30 minutes", used=False)
    forgotten = await _throttle(conn, last_failure="25 hours", blocked=None)
    quiet_but_recent = await _throttle(conn, last_failure="2 hours", blocked=None)
    blocked = await _throttle(conn, last_failure="25 hours", blocked="10 minutes")

    purged = await sessions.purge_expired()

    assert await _left(conn, "web_session", "id", [idle, too_old, live]) == {live}
    assert await _left(conn, "account_token", "id", [expired_token, used_token, live_token]) == {
        live_token
    }
    throttles = [forgotten, quiet_but_recent, blocked]
    assert await _left(conn, "login_throttle", "key", throttles) == {quiet_but_recent, blocked}
    assert purged.sessions >= 2
    assert purged.tokens >= 2
    assert purged.throttles >= 1


def test_the_purge_is_a_periodic_task():
    periodic = {name for name, _ in worker.app.periodic_registry.periodic_tasks}
    assert "upkeep:purge_expired" in periodic
