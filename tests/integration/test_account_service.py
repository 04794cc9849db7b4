"""Account services against the real database: password rehash, throttle rows, the outbox."""

from __future__ import annotations

import contextlib
import secrets

import asyncpg
from argon2 import PasswordHasher

from registry.domain.accounts import Origin
from registry.domain.errors import InvalidForm, InvalidInput
from registry.services import accounts, sign_in

PASSWORD = "a long enough passphrase for tests"


async def _account(conn: asyncpg.Connection, password_hash: str) -> str:
    email = f"svc-{secrets.token_hex(4)}@example.vn"
    await conn.execute(
        "INSERT INTO account (email, display_name, password_hash, email_verified_at) "
        "VALUES ($1, 'Thử', $2, now())",
        email,
        password_hash,
    )
    return email


async def test_old_hash_parameters_are_upgraded_at_sign_in(catalogue, database_url):
    conn = await asyncpg.connect(database_url)
    try:
        weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
        email = await _account(conn, weak)
        await sign_in.authenticate(email, PASSWORD, Origin("192.0.2.1"))
        stored = await conn.fetchval("SELECT password_hash FROM account WHERE email = $1", email)
        assert stored != weak
        assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        # Still the same password.
        await sign_in.authenticate(email, PASSWORD, Origin("192.0.2.1"))
    finally:
        await conn.close()


async def test_password_is_not_truncated_or_case_folded(catalogue, database_url):
    conn = await asyncpg.connect(database_url)
    try:
        email = await _account(conn, PasswordHasher().hash(PASSWORD))
        for wrong in (PASSWORD + "x", PASSWORD.upper(), PASSWORD[:-1]):
            try:
                await sign_in.authenticate(email, wrong, Origin(f"192.0.2.{len(wrong)}"))
            except InvalidInput:
                continue
            raise AssertionError(f"{wrong!r} was accepted")
    finally:
        await conn.close()


async def test_a_failed_action_sends_no_mail(catalogue, database_url, tmp_path):
    """Mail is queued in the action's transaction: a registration that fails queues nothing."""
    from registry.settings import Settings

    conn = await asyncpg.connect(database_url)
    try:
        before = await conn.fetchval("SELECT count(*) FROM outbox_mail")
        with contextlib.suppress(InvalidForm):
            await accounts.register(
                accounts.Registration("bad address", PASSWORD, "Tên"),
                Origin("192.0.2.9"),
                Settings(data_dir=tmp_path),
            )
        assert await conn.fetchval("SELECT count(*) FROM outbox_mail") == before
    finally:
        await conn.close()
