"""`registry check` warns when the application would log in as a role that could rewrite the
audit trail: a superuser, the trail's owner, or a role that may become one of them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("catalogue")]


def check(database_url: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "registry.cli", "check", *options],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


OWNER_LOGIN = "registry_test_owner_login"
CREATE_OWNER_LOGIN = f"""
DO $$ BEGIN CREATE ROLE {OWNER_LOGIN} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
GRANT registry_app, registry_audit_owner TO {OWNER_LOGIN};
"""


async def as_superuser(database_url: str, sql: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def test_a_superuser_login_is_warned_about(database_url):
    answer = check(database_url)

    assert answer.returncode == 0, answer.stderr
    assert "configuration ok" in answer.stdout
    assert "warning: the application logs in as" in answer.stderr, answer
    assert "a superuser" in answer.stderr


def test_strict_makes_the_warning_an_error(database_url):
    answer = check(database_url, "--strict")

    assert answer.returncode == 1, answer
    assert "superuser" in answer.stderr


def test_the_audit_owner_is_warned_about(database_url, app_database_url):
    """A login role that is a member of the trail's owner could disable its triggers."""
    owner_url = app_database_url.replace("registry_web", OWNER_LOGIN, 1)
    asyncio.run(as_superuser(database_url, CREATE_OWNER_LOGIN))
    try:
        answer = check(owner_url, "--strict")
    finally:
        asyncio.run(as_superuser(database_url, f"DROP ROLE {OWNER_LOGIN}"))

    assert answer.returncode == 1, answer
    assert "registry_audit_owner" in answer.stderr


def test_the_default_app_login_passes(app_database_url):
    answer = check(app_database_url, "--strict")

    assert answer.returncode == 0, answer
    assert "configuration ok" in answer.stdout
    assert "warning" not in answer.stderr
