"""The test database: a fresh `registry_test` on DATABASE_URL's server, else on an embedded
server of its own (`.registry/test-pgdata`), migrated with the real migrations. The app under
test logs in to it as the embedded server's default does: database.APP_LOGIN (`app_url`)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from registry import database

#: Another name lets two test runs share one server (REGISTRY_TEST_DATABASE=registry_test_2).
TEST_DATABASE = os.environ.get("REGISTRY_TEST_DATABASE", "registry_test")
TEST_PGDATA = Path(".registry/test-pgdata")


async def _recreate(server_url: str) -> str:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {TEST_DATABASE} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {TEST_DATABASE}")
        await conn.execute(database.APP_LOGIN_SQL)
    finally:
        await conn.close()
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{TEST_DATABASE}"))


def prepare(server_url: str | None) -> tuple[str, bool]:
    """A URL to an empty test database, and whether we started an embedded server for it."""
    started = False
    if not server_url:
        server_url = database.start_embedded(TEST_PGDATA.resolve(), database="postgres")
        started = True
    return asyncio.run(_recreate(server_url)), started


def app_url(test_url: str) -> str:
    """The test database as the application's own connections reach it (not a superuser)."""
    return database.as_login(test_url, database.APP_LOGIN)


def stop_embedded() -> None:
    database.stop_embedded(TEST_PGDATA.resolve())
