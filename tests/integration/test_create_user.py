"""`registry create-user` bootstraps the first administrator."""

from __future__ import annotations

import asyncio
import io
import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

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


async def test_a_fund_manager_and_a_reviewer_from_the_command_line(
    catalogue, database_url, monkeypatch, capsys
):
    manager = f"manager-{secrets.token_hex(3)}@nafosted.gov.vn"
    monkeypatch.setattr(sys, "stdin", io.StringIO("một mật khẩu đủ dài và khó đoán\n"))
    status = await asyncio.to_thread(
        cli.main, ["create-user", "--email", manager, "--role", "manager", "--fund", "nafosted"]
    )
    assert status == 0
    assert "(manager)" in capsys.readouterr().out
    reviewer = f"reviewer-{secrets.token_hex(3)}@hust.edu.vn"
    monkeypatch.setattr(sys, "stdin", io.StringIO("một mật khẩu đủ dài và khó đoán\n"))
    assert (
        await asyncio.to_thread(
            cli.main, ["create-user", "--email", reviewer, "--role", "reviewer"]
        )
        == 0
    )
    conn = await asyncpg.connect(database_url)
    try:
        roles = await conn.fetch(
            "SELECT a.email, r.role, f.code FROM account a JOIN account_role r ON r.account = a.id "
            "LEFT JOIN fund f ON f.id = r.fund WHERE a.email = ANY($1::text[]) AND NOT r.pending",
            [manager, reviewer],
        )
        assert {(r["email"], r["role"], r["code"]) for r in roles} == {
            (manager, "fund_manager", "nafosted"),
            (reviewer, "reviewer", None),
        }
    finally:
        await conn.close()

    # A manager needs a fund, and an existing one.
    with pytest.raises(SystemExit):
        cli.main(["create-user", "--email", "x-" + manager, "--role", "manager"])
    monkeypatch.setattr(sys, "stdin", io.StringIO("một mật khẩu đủ dài và khó đoán\n"))
    unknown = await asyncio.to_thread(
        cli.main, ["create-user", "--email", "y-" + manager, "--role", "manager", "--fund", "nope"]
    )
    assert unknown == 1
    assert "--fund CODE" in capsys.readouterr().err


async def test_migrate_says_plainly_what_it_did(catalogue, database_url, tmp_path):
    """On a new database: every migration applied, said once (Piccolo's own report said
    "19 already complete / 19 not yet run"); again: nothing to do."""
    name = f"registry_fresh_{secrets.token_hex(3)}"
    # Another database on the same server (the embedded one is reached by ?host=socket).
    fresh_url = urlunsplit(urlsplit(database_url)._replace(path=f"/{name}"))
    admin = await asyncpg.connect(database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {
            **os.environ,
            "DATABASE_URL": fresh_url,
            "REGISTRY_DATA_DIR": str(tmp_path),
            "PICCOLO_CONF": "registry.piccolo_conf",
        }
        env.pop("TOTP_KEY", None)
        outputs = []
        for _ in range(2):
            run = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "registry.cli", "migrate"],
                env=env, capture_output=True, text=True, timeout=300, check=False,
            )  # fmt: skip
            assert run.returncode == 0, run.stderr
            outputs.append(run.stdout)
        count = len(list((Path(cli.__file__).parent.parent / "migrations").glob("registry_*.py")))
        assert f"a new database: all {count} migrations applied" in outputs[0]
        assert "already complete" not in outputs[0]
        assert "not yet run" not in outputs[0]
        assert (
            f"the database is up to date: its {count} migrations were applied earlier" in outputs[1]
        )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
