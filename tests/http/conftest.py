from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from registry.settings import Settings


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, search_candidate_cap=300)


# Package scope: the app's pool lives on the test client's event loop and must be closed before
# other packages' tests query the database from the test loop.
@pytest.fixture(scope="package")
async def client(catalogue: None, settings: Settings) -> AsyncIterator[AsyncTestClient]:
    from registry.app import create_app

    async with AsyncTestClient(app=create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def fresh_cookies(client: AsyncTestClient) -> None:
    """Each test starts as a new visitor: no language cookie left by an earlier test."""
    client.cookies.clear()
