"""The app under test with a small pool and short timeouts, so the fault tests can use up,
kill and wait out its connections in seconds. Its own package: the pool is the process's one
(database.engine()), opened by this app and closed before the next package's app opens its."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from registry.settings import Settings
from tests.factories import TOTP_KEY
from tests.faultproxy import ACQUIRE_TIMEOUT_MS, POOL_SIZE


@pytest.fixture(scope="package")
async def client(
    catalogue: None, app_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncTestClient]:
    from registry.app import create_app

    settings = Settings.from_env(
        {
            "DATABASE_URL": app_database_url,
            "DATABASE_POOL_SIZE": str(POOL_SIZE),
            "DATABASE_ACQUIRE_TIMEOUT_MS": str(ACQUIRE_TIMEOUT_MS),
            "STATEMENT_TIMEOUT_MS": "1000",
            "REGISTRY_DATA_DIR": str(tmp_path_factory.mktemp("registry-faults")),
            "PUBLIC_URL": "https://testserver.local",
            "TOTP_KEY": TOTP_KEY,
        }
    )
    app = create_app(settings)
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as test_client:
        test_client.follow_redirects = False
        yield test_client
