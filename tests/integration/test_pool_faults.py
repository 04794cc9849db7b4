"""The connection pool survives connections that die: killed inside a transaction, a pool used
up, a server that stops answering, a shutdown with connections still out. Each failure is the
domain's Unavailable (a localised 503), never a hang or a connection lost for good."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import asyncpg
import pytest

from registry import database
from registry.domain.errors import Unavailable
from registry.services import health
from registry.settings import Settings
from tests.faultproxy import PausableProxy, app_backends, terminate_backends

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("catalogue")]

SIZE = 3
ACQUIRE_TIMEOUT_MS = 500
QUERY_TIMEOUT_MS = 1000
BOUND = 5.0  # seconds after which the test calls it a hang
CLOSE_BOUND = 7.0  # seconds a shutdown may wait for connections still out


def _settings(url: str) -> Settings:
    return Settings.from_env(
        {
            "DATABASE_URL": url,
            "DATABASE_POOL_SIZE": str(SIZE),
            "DATABASE_ACQUIRE_TIMEOUT_MS": str(ACQUIRE_TIMEOUT_MS),
            "DATABASE_QUERY_TIMEOUT_MS": str(QUERY_TIMEOUT_MS),
        }
    )


async def _open(url: str) -> AsyncIterator[None]:
    await database.open_pool(_settings(url))
    pool = database.engine().pool
    try:
        yield
    finally:
        try:
            await asyncio.wait_for(database.close_pool(), 10)
        except TimeoutError:  # today's code: leaked connections keep close() waiting
            pool.terminate()
            database.engine().pool = None


@pytest.fixture
async def pool(app_database_url: str) -> AsyncIterator[None]:
    async for _ in _open(app_database_url):
        yield


@pytest.fixture
async def proxy(app_database_url: str) -> AsyncIterator[PausableProxy]:
    proxy = PausableProxy(app_database_url)
    url = await proxy.start()
    async for _ in _open(url):
        yield proxy
    await proxy.stop()


async def _terminate_app_backends(superuser_url: str, state: str) -> int:
    """pg_terminate_backend, as an operator or a crashing server would, on the application's
    connections to this test database in `state`."""
    pids = await app_backends(superuser_url, state, SIZE)
    await terminate_backends(superuser_url, pids)
    return len(pids)


async def _use_every_connection_at_once() -> int:
    async with AsyncExitStack() as stack:
        held = [await stack.enter_async_context(database.connection()) for _ in range(SIZE)]
        return sum([await conn.fetchval("SELECT 1") for conn in held])


async def _idle_in_transaction(inside: asyncio.Event, go_on: asyncio.Event) -> None:
    async with database.transaction():
        await database.fetchval("SELECT 1")
        inside.set()
        await go_on.wait()
        await database.fetchval("SELECT 1")


@pytest.mark.usefixtures("pool")
async def test_connections_killed_idle_in_a_transaction_come_back_to_the_pool(database_url):
    go_on = asyncio.Event()
    inside = [asyncio.Event() for _ in range(SIZE)]
    tasks = [asyncio.create_task(_idle_in_transaction(event, go_on)) for event in inside]
    await asyncio.wait_for(asyncio.gather(*(event.wait() for event in inside)), BOUND)

    assert await _terminate_app_backends(database_url, "idle in transaction") == SIZE
    go_on.set()
    outcomes = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), BOUND)

    assert await asyncio.wait_for(_use_every_connection_at_once(), BOUND) == SIZE
    assert all(isinstance(outcome, Unavailable) for outcome in outcomes), outcomes


async def _query_in_a_transaction() -> None:
    async with database.transaction():
        await database.fetchval("SELECT pg_sleep(2)")


@pytest.mark.usefixtures("pool")
async def test_connections_killed_during_a_query_come_back_to_the_pool(database_url):
    tasks = [asyncio.create_task(_query_in_a_transaction()) for _ in range(SIZE)]

    assert await _terminate_app_backends(database_url, "active") == SIZE
    outcomes = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), BOUND)

    assert await asyncio.wait_for(_use_every_connection_at_once(), BOUND) == SIZE
    # AdminShutdownError ("terminating connection due to administrator command"): a 503.
    assert all(isinstance(outcome, Unavailable) for outcome in outcomes), outcomes


@pytest.mark.usefixtures("pool")
@pytest.mark.parametrize(
    "failure",
    [
        asyncpg.InternalClientError("cannot switch to state 15; another operation is in progress"),
        ConnectionResetError("connection reset by peer"),
        asyncpg.InterfaceError("connection is closed"),
    ],
    ids=type,
)
async def test_driver_failures_inside_a_transaction_are_unavailable(failure):
    async def fail() -> None:
        async with database.transaction():
            await database.fetchval("SELECT 1")
            raise failure

    with pytest.raises(Unavailable):
        await asyncio.wait_for(fail(), BOUND)
    assert await asyncio.wait_for(_use_every_connection_at_once(), BOUND) == SIZE


@pytest.mark.usefixtures("pool")
async def test_a_used_up_pool_is_unavailable_within_the_acquire_timeout():
    async with AsyncExitStack() as stack:
        for _ in range(SIZE):
            await stack.enter_async_context(database.connection())
        started = time.monotonic()
        with pytest.raises(Unavailable):
            await asyncio.wait_for(database.fetchval("SELECT 1"), BOUND)
        assert time.monotonic() - started < ACQUIRE_TIMEOUT_MS / 1000 + 1
        assert not await asyncio.wait_for(health.database_answers(), BOUND)
    assert await health.database_answers()


async def test_a_server_that_stops_answering_is_unavailable_within_the_query_timeout(proxy):
    assert await database.fetchval("SELECT 1") == 1  # an open connection, then silence
    proxy.pause()
    started = time.monotonic()
    with pytest.raises(Unavailable):
        await asyncio.wait_for(database.fetchval("SELECT 1"), BOUND)
    assert time.monotonic() - started < QUERY_TIMEOUT_MS / 1000 + 1.5
    assert not await asyncio.wait_for(health.database_answers(), BOUND)
    proxy.resume()
    assert await asyncio.wait_for(health.database_answers(), BOUND)


async def test_closing_the_pool_is_bounded_while_connections_are_held(app_database_url):
    await database.open_pool(_settings(app_database_url))
    pool = database.engine().pool
    await pool.acquire()  # never released, as a leaked connection
    started = time.monotonic()
    try:
        await asyncio.wait_for(database.close_pool(), CLOSE_BOUND + 3)
    finally:
        if database.engine().pool is not None:  # today's code: close() waits for `held`
            pool.terminate()
            database.engine().pool = None
    assert time.monotonic() - started < CLOSE_BOUND
