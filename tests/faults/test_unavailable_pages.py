"""What a visitor sees when the database cannot serve: a quick, localised 503 (JSON for the
API), readiness failing, and normal pages again once it can."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from registry import database
from tests.factories import on_app_loop
from tests.faultproxy import ACQUIRE_TIMEOUT_MS, POOL_SIZE, app_backends, terminate_backends

pytestmark = [pytest.mark.usefixtures("catalogue")]
BOUND = 5.0


def _hold_every_connection(seconds: float):  # type: ignore[no-untyped-def]
    async def hold() -> None:
        async def one() -> None:
            async with database.connection() as conn:
                await conn.fetchval("SELECT 1")
                await asyncio.sleep(seconds)

        await asyncio.gather(*(one() for _ in range(POOL_SIZE)))

    return hold


async def test_a_used_up_pool_answers_a_localised_503_quickly(client, database_url):
    holding = asyncio.create_task(on_app_loop(client, _hold_every_connection(3)))
    await app_backends(database_url, "idle", POOL_SIZE)
    await asyncio.sleep(0.3)
    try:
        started = time.monotonic()
        english = await asyncio.wait_for(client.get("/funds?lang=en"), BOUND)
        assert time.monotonic() - started < ACQUIRE_TIMEOUT_MS / 1000 + 1.5
        assert english.status_code == 503
        assert "The registry is busy and could not show this page" in english.text
        vietnamese = await asyncio.wait_for(client.get("/funds?lang=vi"), BOUND)
        assert vietnamese.status_code == 503
        assert "Hệ thống đang bận" in vietnamese.text
        api = await asyncio.wait_for(client.get("/api/v1/funds"), BOUND)
        assert api.status_code == 503
        assert api.json()["error"]["code"] == "unavailable"
        ready = await asyncio.wait_for(client.get("/readyz"), BOUND)
        assert ready.status_code == 503
    finally:
        await holding
    assert (await asyncio.wait_for(client.get("/readyz"), BOUND)).status_code == 200


def _idle_in_transaction(seconds: float):  # type: ignore[no-untyped-def]
    async def hold() -> list[str]:
        async def one() -> str:
            try:
                async with database.transaction():
                    await database.fetchval("SELECT 1")
                    await asyncio.sleep(seconds)
                    await database.fetchval("SELECT 1")
            except Exception as error:
                return type(error).__name__
            return "committed"

        return list(await asyncio.gather(*(one() for _ in range(POOL_SIZE))))

    return hold


async def test_after_transactions_lose_their_connections_the_next_request_answers(
    client, database_url
):
    holding = asyncio.create_task(on_app_loop(client, _idle_in_transaction(1.5)))
    pids = await app_backends(database_url, "idle in transaction", POOL_SIZE)
    await terminate_backends(database_url, pids)
    assert await asyncio.wait_for(holding, BOUND) == ["Unavailable"] * POOL_SIZE

    assert (await asyncio.wait_for(client.get("/funds"), BOUND)).status_code == 200
    assert (await asyncio.wait_for(client.get("/readyz"), BOUND)).status_code == 200


@pytest.mark.parametrize(
    ("path", "headers", "expected"),
    [
        ("/search?q=chip&lang=en", {}, "The search took too long"),
        ("/funds?lang=en", {}, "could not show this page"),
        ("/funds?lang=en", {"X-Autosave": "1"}, "could not show this page"),
    ],
)
async def test_a_statement_timeout_is_worded_for_the_page(
    client, database_url, path, headers, expected
):
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await conn.execute("LOCK TABLE fund, project IN ACCESS EXCLUSIVE MODE")
            answer = await asyncio.wait_for(client.get(path, headers=headers), BOUND)
    finally:
        await conn.close()
    assert answer.status_code == 503
    assert expected in answer.text
    if headers:
        assert answer.json()["error"]["code"] == "unavailable"
