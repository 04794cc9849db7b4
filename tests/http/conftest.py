from __future__ import annotations

import itertools
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import pyotp
import pytest
from argon2 import PasswordHasher
from litestar.testing import AsyncTestClient

from registry.settings import Settings

PASSWORD = "correct horse battery staple"
CSRF_COOKIE = "__Host-csrftoken"
SESSION_COOKIE = "__Host-sid"
_HASH = PasswordHasher().hash(PASSWORD)
_serial = itertools.count()


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url,
        search_candidate_cap=300,
        data_dir=tmp_path_factory.mktemp("registry-data"),
        public_url="https://testserver.local",
        debug=True,
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


async def csrf_token(client: AsyncTestClient) -> str:
    if CSRF_COOKIE not in client.cookies:
        await client.get("/login")
    return client.cookies[CSRF_COOKIE]


async def post_form(client: AsyncTestClient, url: str, data: dict[str, str] | None = None, **kw):
    """A form post as a browser sends it: with the CSRF token from the cookie."""
    body = {**(data or {}), "_csrf_token": await csrf_token(client)}
    return await client.post(url, data=body, **kw)


@dataclass
class Person:
    id: int
    email: str
    totp_secret: str | None = None

    def code(self, step_offset: int = 0) -> str:
        assert self.totp_secret
        totp = pyotp.TOTP(self.totp_secret)
        return totp.generate_otp(totp.timecode(datetime.now()) + step_offset)


@pytest.fixture
async def make_person(database_url: str):
    """Create a verified account directly in the database (not through the code under test):
    roles as (role, organisation_code_or_fund_code) pairs, optional enrolled TOTP."""
    conn = await asyncpg.connect(database_url)

    async def make(*grants: tuple[str, str | None], totp: bool = False, verified: bool = True):
        email = f"p{next(_serial)}-{secrets.token_hex(3)}@example.vn"
        secret = pyotp.random_base32() if totp else None
        account_id = await conn.fetchval(
            "INSERT INTO account (email, display_name, password_hash, email_verified_at, "
            "totp_secret, totp_enrolled_at) VALUES ($1, $2, $3, "
            "CASE WHEN $4 THEN now() END, $5::text, CASE WHEN $5::text IS NOT NULL THEN now() END) "
            "RETURNING id",
            email, f"Người thử {email[:4]}", _HASH, verified, secret,
        )  # fmt: skip
        for role, scope in grants:
            organisation = fund = None
            if role == "applicant":
                organisation = await conn.fetchval(
                    "SELECT id FROM organisation WHERE code = $1", scope
                )
            elif role == "fund_manager":
                fund = await conn.fetchval("SELECT id FROM fund WHERE code = $1", scope)
            await conn.execute(
                "INSERT INTO account_role (account, role, organisation, fund) "
                "VALUES ($1, $2, $3, $4)",
                account_id, role, organisation, fund,
            )  # fmt: skip
        return Person(account_id, email, secret)

    yield make
    await conn.close()


async def sign_in(client: AsyncTestClient, person: Person, *, next_path: str = "/account"):
    """Password, then the second factor when the account has one; returns the last answer."""
    answer = await post_form(
        client, "/login", {"email": person.email, "password": PASSWORD, "next": next_path}
    )
    assert answer.status_code in (302, 303), answer.text
    if answer.headers["location"].startswith("/login/code"):
        answer = await post_form(client, "/login/code", {"code": person.code(), "next": next_path})
        assert answer.status_code in (302, 303), answer.text
    return answer
