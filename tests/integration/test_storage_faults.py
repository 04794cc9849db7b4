"""A storage that refuses writes, and files left behind by a crash: an upload to a folder the
system will not write to answers a clear "cannot store right now" and stores nothing; the
daily sweep deletes stored files nothing names once past the grace, and only those."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from registry.domain.accounts import Role
from registry.domain.errors import Unavailable
from registry.services import attachments, proposals
from registry.services.storage import (
    CANNOT_STORE,
    ORPHAN_GRACE,
    FolderStorage,
    PostgresStorage,
    Storage,
    sha256_of,
)
from tests.factories import ORIGIN, open_call, pdf_bytes, person

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("catalogue")]


@pytest.fixture
async def db(database_url: str):
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


async def test_an_upload_to_a_storage_that_refuses_writes_is_a_clear_503(db, database_url):
    fund = await db.fetchval("SELECT id FROM fund WHERE code = 'nafosted'")
    organisation = await db.fetchval("SELECT id FROM organisation WHERE code = 'vast'")
    manager = await person(database_url, (Role.FUND_MANAGER, "nafosted"))
    applicant = await person(database_url, (Role.APPLICANT, "vast"))
    proposal_id = await proposals.start(
        applicant, await open_call(manager, fund), organisation, ORIGIN
    )
    # /sys refuses new files even to root (EPERM), as a read-only or full disk would.
    refusing = FolderStorage(Path("/sys/registry-blobs-test"))
    data = pdf_bytes("Tệp không lưu được")

    with pytest.raises(Unavailable) as refused:
        await attachments.add(
            applicant, proposal_id, "description", "x.pdf", data, refusing, ORIGIN
        )

    assert refused.value.message == CANNOT_STORE
    assert "nothing was saved" in CANNOT_STORE
    assert (
        await db.fetchval("SELECT count(*) FROM attachment WHERE proposal = $1", proposal_id) == 0
    )
    assert not await refusing.exists(sha256_of(data))


async def _name(db: asyncpg.Connection, sha256: str, size: int) -> None:
    """What an attachment's commit does: a `blob` row names the file."""
    await db.execute("INSERT INTO blob (sha256, size) VALUES ($1, $2)", sha256, size)


@pytest.mark.parametrize("kind", ["postgres", "folder"])
async def test_the_sweep_deletes_old_orphans_only(kind, db, tmp_path):
    store: Storage = PostgresStorage() if kind == "postgres" else FolderStorage(tmp_path / "b")
    named, old_orphan, fresh_orphan = (os.urandom(64) for _ in range(3))
    digests = {}
    for name, data in (("named", named), ("old", old_orphan), ("fresh", fresh_orphan)):
        digests[name] = await store.put(data)
    await _name(db, digests["named"], len(named))
    aged = [digests["named"], digests["old"]]
    if isinstance(store, FolderStorage):
        past = time.time() - (ORPHAN_GRACE + timedelta(hours=1)).total_seconds()
        for sha256 in aged:
            os.utime(store.path(sha256), (past, past))
    else:
        await db.execute(
            "UPDATE stored_file SET stored_at = now() - interval '25 hours' "
            "WHERE sha256 = ANY($1::text[])",
            aged,
        )

    assert await store.sweep_orphans(ORPHAN_GRACE) >= 1

    assert not await store.exists(digests["old"])
    assert await store.exists(digests["named"])
    assert await store.exists(digests["fresh"])
