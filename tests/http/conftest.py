from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from registry.settings import Settings


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, search_candidate_cap=300)


@pytest.fixture(scope="session")
async def client(catalogue: None, settings: Settings) -> AsyncIterator[AsyncTestClient]:
    from registry.app import create_app

    async with AsyncTestClient(app=create_app(settings)) as test_client:
        yield test_client
