"""`registry create-user` bootstraps the first administrator."""

from __future__ import annotations

import asyncio
import io
import secrets
import sys

import asyncpg
import pytest

from registry import cli


async def test_create_admin_from_the_command_line(catalogue, database_url, monkeypatch, capsys):
    email = f"admin-{secrets.token_hex(3)}@most.gov.vn"
    monkeypatch.setattr(sys, "stdin", io.StringIO("một mật khẩu đủ dài và khó đoán\n"))
    status = await asyncio.to_thread(
        cli.main, ["create-user", "--email", email, "--name", "Quản trị", "--role", "admin"]
    )
    assert status == 0
    assert "created" in capsys.readouterr().out
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT a.password_hash, a.email_verified_at, array_agg(r.role) AS roles "
            "FROM account a JOIN account_role r ON r.account = a.id WHERE a.email = $1 "
            "GROUP BY a.id",
            email,
        )
        assert row["roles"] == ["admin"]
        assert row["password_hash"].startswith("$argon2id$")
        assert row["email_verified_at"] is not None
        created = await conn.fetchval(
            "SELECT count(*) FROM audit.event WHERE action = 'account.created' "
            "AND actor = 'system:cli'"
        )
        assert created >= 1
    finally:
        await conn.close()


@pytest.mark.parametrize("password", ["short", "password2026!"])
async def test_weak_password_creates_nothing(catalogue, database_url, monkeypatch, password):
    email = f"weak-{secrets.token_hex(3)}@most.gov.vn"
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    status = await asyncio.to_thread(cli.main, ["create-user", "--email", email, "--role", "admin"])
    assert status == 1
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM account WHERE email = $1", email) == 0
    finally:
        await conn.close()
