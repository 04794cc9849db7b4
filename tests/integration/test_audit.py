"""The audit trail on a real PostgreSQL: gap-free under concurrency, tampering detected, and
append-only for the application role.

Tampering happens inside transactions that are rolled back, so the chain other tests see stays
intact.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator

import asyncpg
import pytest

from registry import cli
from registry.database import engine
from registry.domain.accounts import Origin
from registry.services import audit

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("catalogue")]

WRITERS = 40
EVENTS_PER_WRITER = 25
INSERT = (
    "INSERT INTO audit.event (actor, action, object_ref, summary)"
    " VALUES ($1, $2, $3, $4::text::jsonb) RETURNING seq"
)


@pytest.fixture
async def superuser(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    if not await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
        await conn.close()
        pytest.skip("tampering behind the triggers' back needs a superuser connection")
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def as_app(superuser: asyncpg.Connection, database_url: str):
    """A connection acting as registry_app, the way the web application's pool sets it up."""
    conn = await asyncpg.connect(database_url, server_settings={"role": "registry_app"})
    try:
        assert await conn.fetchval("SELECT current_user") == "registry_app"
        yield conn
    finally:
        await conn.close()


async def _events(n: int, label: str) -> list[int]:
    return [
        await audit.record("test.event", f"{label}:{i}", actor="system:test", after={"i": i})
        for i in range(n)
    ]


async def test_record_returns_the_seq_and_stores_what_was_given(database_url):
    seq = await audit.record(
        "proposal.submit",
        "proposal:7",
        actor="account:12",
        origin=Origin("203.0.113.9"),
        before={"state": "draft"},
        after={"state": "submitted", "title": "Trí tuệ nhân tạo"},
    )
    bare = await audit.record("catalogue.reload", "catalogue", actor="system:cli")

    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow("SELECT * FROM audit.event WHERE seq = $1", seq)
        bare_row = await conn.fetchrow("SELECT * FROM audit.event WHERE seq = $1", bare)
    finally:
        await conn.close()
    assert (row["actor"], row["action"], row["object_ref"], row["client_address"]) == (
        "account:12",
        "proposal.submit",
        "proposal:7",
        "203.0.113.9",
    )
    assert json.loads(row["summary"]) == {
        "before": {"state": "draft"},
        "after": {"state": "submitted", "title": "Trí tuệ nhân tạo"},
    }
    assert bare == seq + 1
    assert json.loads(bare_row["summary"]) == {}
    assert bare_row["client_address"] is None
    assert bare_row["prev_hash"] == row["row_hash"]


async def test_an_event_rolled_back_with_its_transaction_leaves_no_gap():
    before = await audit.head()

    async def change_that_fails() -> None:
        async with engine().transaction():
            await audit.record("test.rollback", "object:1", actor="system:test")
            raise RuntimeError("change failed")

    with pytest.raises(RuntimeError, match="change failed"):
        await change_that_fails()

    assert (await audit.head()).seq == before.seq
    assert await audit.record("test.rollback", "object:2", actor="system:test") == before.seq + 1
    assert (await audit.verify()).ok


async def test_forty_concurrent_writers_leave_a_gap_free_chain_that_verifies(database_url):
    barrier = asyncio.Barrier(WRITERS)

    async def writer(n: int) -> list[int]:
        conn = await asyncpg.connect(database_url)
        try:
            await barrier.wait()  # everyone connected: start together
            return [
                await conn.fetchval(
                    INSERT, f"system:writer-{n}", "test.concurrent", f"writer:{n}:{i}", "{}"
                )
                for i in range(EVENTS_PER_WRITER)
            ]
        finally:
            await conn.close()

    written = await asyncio.gather(*(writer(n) for n in range(WRITERS)))

    seqs = sorted(seq for mine in written for seq in mine)
    assert len(set(seqs)) == WRITERS * EVENTS_PER_WRITER
    assert all(mine == sorted(mine) for mine in written)
    conn = await asyncpg.connect(database_url)
    try:
        count, low, high = await conn.fetchrow(
            "SELECT count(*), min(seq), max(seq) FROM audit.event"
        )
    finally:
        await conn.close()
    assert (low, high - low + 1) == (1, count)
    check = await audit.verify()
    assert check.ok, check
    assert (check.events, check.head_seq) == (count, high)


async def test_an_edit_behind_the_triggers_back_is_detected_and_named(superuser):
    target = (await _events(3, "tamper-edit"))[1]

    transaction = superuser.transaction()
    await transaction.start()
    try:
        await superuser.execute("SET LOCAL session_replication_role = replica")
        await superuser.execute(
            """UPDATE audit.event SET summary = '{"after": {"amount_vnd": 1}}' WHERE seq = $1""",
            target,
        )
        tampered = await audit.verify(superuser)
    finally:
        await transaction.rollback()

    assert (tampered.ok, tampered.first_bad_seq) == (False, target)
    assert tampered.reason == f"event {target} does not match its hash"
    assert (await audit.verify()).ok


async def test_a_rehashed_edit_breaks_the_link_to_the_next_event(superuser):
    target = (await _events(3, "tamper-rehash"))[1]

    transaction = superuser.transaction()
    await transaction.start()
    try:
        await superuser.execute("SET LOCAL session_replication_role = replica")
        await superuser.execute(
            """UPDATE audit.event SET actor = 'account:1',
                   row_hash = sha256(prev_hash || convert_to(
                       jsonb_build_array(seq, to_char(at AT TIME ZONE 'UTC',
                           'YYYY-MM-DD"T"HH24:MI:SS.US'), 'account:1', action, object_ref,
                           client_address, summary)::text, 'UTF8'))
                WHERE seq = $1""",
            target,
        )
        tampered = await audit.verify(superuser)
    finally:
        await transaction.rollback()

    assert (tampered.ok, tampered.first_bad_seq) == (False, target + 1)


async def test_a_deleted_event_is_named_as_missing(superuser):
    target = (await _events(3, "tamper-delete"))[1]

    transaction = superuser.transaction()
    await transaction.start()
    try:
        await superuser.execute("SET LOCAL session_replication_role = replica")
        await superuser.execute("DELETE FROM audit.event WHERE seq = $1", target)
        tampered = await audit.verify(superuser)
    finally:
        await transaction.rollback()

    assert (tampered.ok, tampered.first_bad_seq) == (False, target)
    assert tampered.reason == f"event {target} is missing"
    assert (await audit.verify()).ok


async def test_removing_the_newest_events_is_caught_by_the_head(superuser):
    newest = (await _events(2, "tamper-tail"))[-1]

    transaction = superuser.transaction()
    await transaction.start()
    try:
        await superuser.execute("SET LOCAL session_replication_role = replica")
        await superuser.execute("DELETE FROM audit.event WHERE seq = $1", newest)
        tampered = await audit.verify(superuser)
    finally:
        await transaction.rollback()

    assert (tampered.ok, tampered.first_bad_seq) == (False, newest)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit.event SET actor = 'account:1'",
        "DELETE FROM audit.event",
        "TRUNCATE audit.event",
        "ALTER TABLE audit.event DISABLE TRIGGER ALL",
        "DROP TRIGGER event_no_change ON audit.event",
        "SET session_replication_role = replica",
        "UPDATE audit.head SET last_seq = 0",
        "INSERT INTO audit.head VALUES (2, 0, '')",
    ],
)
async def test_the_application_role_cannot_change_the_trail_or_its_protection(as_app, statement):
    await audit.record("test.app-role", "object:1", actor="system:test")

    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_app.execute(statement)

    assert (await audit.verify()).ok


async def test_the_application_role_can_append_and_read(as_app):
    seq = await as_app.fetchval(INSERT, "account:5", "test.app-role", "object:2", '{"after": {}}')

    assert await as_app.fetchval("SELECT last_seq FROM audit.head") == seq
    assert (await audit.verify()).ok


@pytest.mark.parametrize("role", [None, "registry_audit_owner"])
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit.event SET actor = 'account:1'",
        "DELETE FROM audit.event",
        "TRUNCATE audit.event",
        "UPDATE audit.head SET last_seq = 0",
        "DELETE FROM audit.head",
        "TRUNCATE audit.head",
    ],
)
async def test_even_the_superuser_and_the_owner_are_refused_by_the_triggers(
    superuser, role, statement
):
    await audit.record("test.owner", "object:1", actor="system:test")

    transaction = superuser.transaction()
    await transaction.start()
    try:
        if role:
            await superuser.execute(f"SET LOCAL ROLE {role}")
        with pytest.raises(asyncpg.RaiseError, match="refused"):
            await superuser.execute(statement)
    finally:
        await transaction.rollback()
    assert (await audit.verify()).ok


async def test_the_head_and_a_noted_event_hash_match_the_chain():
    seq = await audit.record("test.head", "object:1", actor="system:test")

    head = await audit.head()
    noted = await audit.digest(seq)

    assert (head.seq, head.hash_hex, head.at) == (noted.seq, noted.hash_hex, noted.at)
    assert len(bytes.fromhex(head.hash_hex)) == 32


def test_the_verify_command_prints_the_head_and_exits_0(capsys):
    assert cli.main(["audit", "verify"]) == 0

    line = capsys.readouterr().out.strip()
    head = asyncio.run(audit.head())
    assert line.startswith("audit trail ok: ")
    assert line.endswith(f"head {head.seq} {head.hash_hex}")


async def test_the_verify_command_exits_1_and_names_a_committed_edit(database_url, superuser):
    target = (await _events(2, "tamper-cli"))[0]
    original = await superuser.fetchval("SELECT summary FROM audit.event WHERE seq = $1", target)
    edit = "UPDATE audit.event SET summary = $2::text::jsonb WHERE seq = $1"

    async with superuser.transaction():
        await superuser.execute("SET LOCAL session_replication_role = replica")
        await superuser.execute(edit, target, '{"after": {"forged": true}}')
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "registry.cli",
            "audit",
            "verify",
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "DATABASE_URL": database_url},
        )
        output, _ = await process.communicate()
    finally:
        async with superuser.transaction():  # put it back for the tests that follow
            await superuser.execute("SET LOCAL session_replication_role = replica")
            await superuser.execute(edit, target, original)

    assert process.returncode == 1
    assert output.decode().startswith(f"audit trail BROKEN at event {target}: ")
    assert (await audit.verify()).ok
