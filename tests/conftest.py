"""Shared fixtures: one migrated test database with the reference data and a small demo set.

Tests that read rely on that data set; tests that write make their own rows with unique
codes and leave the shared data as they found it.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from hypothesis import HealthCheck, settings

from tests import database as test_database
from tests import factories

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.load_profile("default")

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DEMO_PROJECTS = 400


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url, started = test_database.prepare(os.environ.get("DATABASE_URL"))
    os.environ["DATABASE_URL"] = url
    os.environ["PICCOLO_CONF"] = "registry.piccolo_conf"
    yield url
    if started:
        test_database.stop_embedded()


@pytest.fixture(scope="session")
def app_database_url(database_url: str) -> str:
    """The test database as the app's pool logs in to it by default: no superuser."""
    return test_database.app_url(database_url)


@pytest.fixture(scope="session")
async def catalogue(database_url: str) -> None:
    """Migrated, with reference fixtures and demo projects loaded.

    No connection pool here: the app under test opens its own on the test client's event
    loop; service tests use a connection per query.
    """
    from registry import cli
    from registry.services import demo, reference

    await cli.migrate()
    await reference.load_reference(json.loads((FIXTURES / "reference.json").read_text()))
    vocabulary = json.loads((FIXTURES / "demo_vocabulary.json").read_text())
    await demo.replace_demo_projects(DEMO_PROJECTS, vocabulary)
    return


@pytest.fixture
async def db(catalogue: None, database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the test's own to the test database (as the login role, a superuser
    on a test server: it sees and may change everything)."""
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def make_person(catalogue: None, database_url: str):  # type: ignore[no-untyped-def]
    """factories.make_person on one connection for the test: `await make_person(("applicant",
    "vast"), totp=True)` makes a verified account with that role (see factories.Person)."""
    conn = await asyncpg.connect(database_url)

    async def make(
        *grants: tuple[str, str | None], totp: bool = False, verified: bool = True
    ) -> factories.Person:
        return await factories.make_person(conn, *grants, totp=totp, verified=verified)

    yield make
    await conn.close()
