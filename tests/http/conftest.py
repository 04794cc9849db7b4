"""Fixtures of the http tests: the app under test behind Litestar's test client. The helpers
that drive it (post_form, csrf_token, sign_in, on_app_loop) are in tests/factories.py."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from registry.settings import Settings
from tests.factories import TOTP_KEY


@pytest.fixture(scope="session")
def settings(app_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=app_database_url,
        search_candidate_cap=300,
        data_dir=tmp_path_factory.mktemp("registry-data"),
        public_url="https://testserver.local",
        debug=True,
        totp_key=TOTP_KEY,
    )


# Package scope: the app's pool lives on the test client's event loop and must be closed before
# other packages' tests query the database from the test loop.
@pytest.fixture(scope="package")
async def client(catalogue: None, settings: Settings) -> AsyncIterator[AsyncTestClient]:
    from registry.app import create_app

    # https: the session and CSRF cookies are Secure (and __Host-), as in production.
    app = create_app(settings)
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as test_client:
        test_client.follow_redirects = False  # tests look at each redirect themselves
        yield test_client


@pytest.fixture(autouse=True)
def fresh_cookies(client: AsyncTestClient) -> None:
    """Each test starts as a new visitor: no cookies left by an earlier test."""
    client.cookies.clear()


_addresses = itertools.count(1)


@pytest.fixture
def from_address(client: AsyncTestClient, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Make the following requests come from the given (or a new) client address, so a test
    that fails or asks on purpose never throttles other tests (which share one address)."""
    app = client.app

    def use(address: str | None = None) -> str:
        address = address or f"2001:db8:7::{secrets.token_hex(2)}:{next(_addresses)}"

        async def with_address(scope, receive, send):  # type: ignore[no-untyped-def]
            if scope["type"] == "http":
                scope = {**scope, "client": (address, 50000)}
            await app(scope, receive, send)

        monkeypatch.setattr(client, "app", with_address)
        return address

    return use
