"""Shared fixtures: one migrated test database with the reference data and a small demo set.

Tests that read rely on that data set; tests that write make their own rows with unique
codes and leave the shared data as they found it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests import database as test_database

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
