"""The application's own database connections, set up as by default (the test database here, or
the embedded server when DATABASE_URL is unset), cannot rewrite the audit trail even when
an injected statement drops the application role with RESET ROLE.

Every attack runs in a transaction that is rolled back, so the chain other tests see stays as
it was whatever happens.
"""

from __future__ import annotations

import asyncpg
import pytest

from registry import database
from tests.factories import on_app_loop

pytestmark = [pytest.mark.http]


async def _write_event(database_url: str) -> tuple[int, bytes]:
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "INSERT INTO audit.event (actor, action, object_ref)"
            " VALUES ('system:test', 'test.privilege', 'page:audit') RETURNING seq, row_hash"
        )
        return row["seq"], row["row_hash"]
    finally:
        await conn.close()


async def _as_the_app(statements: list[str]) -> str:
    """Run `statements` on a connection of the app's pool, in one transaction that is always
    rolled back: "done" when PostgreSQL ran them all, else the error it answered."""
    async with database.connection() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            for statement in statements:
                await conn.execute(statement)
            return "done"
        except asyncpg.PostgresError as error:
            return f"{type(error).__name__}: {error}"
        finally:
            await transaction.rollback()


#: Ways back from the application role to the login role. RESET ROLE returns to the role the
#: connection was opened with (the pool's `role` setting); SET ROLE NONE to the login role.
ESCAPES = ["RESET ROLE", "SET ROLE NONE", "SET SESSION AUTHORIZATION DEFAULT"]
REWRITES = {
    # A superuser may switch triggers off for the session and then edit freely.
    "replica": [
        "SET LOCAL session_replication_role = replica",
        "UPDATE audit.event SET action = 'rewritten' WHERE seq = {seq}",
    ],
    # The owner of the trail (or a superuser) may drop its guard.
    "disable trigger": [
        "ALTER TABLE audit.event DISABLE TRIGGER event_no_change",
        "UPDATE audit.event SET action = 'rewritten' WHERE seq = {seq}",
    ],
    "become the owner": [
        "SET ROLE registry_audit_owner",
        "ALTER TABLE audit.event DISABLE TRIGGER event_no_change",
        "UPDATE audit.event SET action = 'rewritten' WHERE seq = {seq}",
    ],
}


@pytest.mark.parametrize("attack", sorted(REWRITES))
@pytest.mark.parametrize("escape", ESCAPES)
async def test_leaving_the_app_role_does_not_let_the_app_rewrite_the_audit_trail(
    client, database_url, escape, attack
):
    seq, row_hash = await _write_event(database_url)
    statements = [escape] + [s.format(seq=seq) for s in REWRITES[attack]]

    answer = await on_app_loop(client, _as_the_app, statements)

    assert answer.startswith("InsufficientPrivilegeError"), answer
    conn = await asyncpg.connect(database_url)
    try:
        event = await conn.fetchrow("SELECT action, row_hash FROM audit.event WHERE seq = $1", seq)
    finally:
        await conn.close()
    assert (event["action"], event["row_hash"]) == ("test.privilege", row_hash)


async def test_the_apps_login_role_is_no_superuser(client):
    async def login_role() -> tuple[str, bool]:
        row = await database.fetchrow(
            "SELECT session_user::text AS name, rolsuper FROM pg_roles WHERE rolname = session_user"
        )
        return row["name"], row["rolsuper"]

    name, superuser = await on_app_loop(client, login_role)
    assert not superuser, f"the app logs in as {name}, a superuser"
