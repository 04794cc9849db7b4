"""Driver failures become the domain's Unavailable, which pages show as a localised 503."""

import pytest

from registry import database
from registry.domain.errors import Unavailable

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("catalogue")]


async def _sleep_past_a_short_timeout() -> None:
    async with database.engine().transaction():
        await database.fetch("SET LOCAL statement_timeout = 50")
        await database.fetch("SELECT pg_sleep(2)")


async def test_a_query_cancelled_by_the_statement_timeout_is_unavailable_not_a_crash():
    with pytest.raises(Unavailable) as error:
        await _sleep_past_a_short_timeout()

    assert error.value.message == database.BUSY  # pages word it for the search or action


async def test_an_unreachable_server_is_unavailable():
    engine = database.engine()
    saved = engine.config
    engine.config = {"dsn": "postgresql://registry@127.0.0.1:9/nowhere", "timeout": 2}
    try:
        with pytest.raises(Unavailable):
            await database.fetchval("SELECT 1")
    finally:
        engine.config = saved
