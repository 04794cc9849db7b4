"""Both storages on a real disk and a real PostgreSQL: round trips, content stored once even
when put concurrently, big files read a chunk at a time, digests that are not digests
refused, nothing half-written after a crash, and a folder storage copied into PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from piccolo.engine.exceptions import TransactionError

from registry import database
from registry.services.failpoints import VARIABLE
from registry.services.storage import (
    CHUNK_BYTES,
    FolderStorage,
    MissingFile,
    PostgresStorage,
    Storage,
    import_folder,
    read_all,
    storage_from,
)
from registry.settings import Settings, SettingsError

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("catalogue")]

#: Two and a half chunks.
BIG = CHUNK_BYTES * 5 // 2


def unique(size: int) -> bytes:
    """Content no other test stores (the PostgreSQL storage is shared by the whole run)."""
    return os.urandom(size)


def test_the_setting_chooses_the_storage(tmp_path: Path) -> None:
    assert isinstance(storage_from(Settings.from_env({})), PostgresStorage)
    folder = storage_from(
        Settings.from_env({"STORAGE": "folder", "REGISTRY_DATA_DIR": str(tmp_path)})
    )
    assert isinstance(folder, FolderStorage)
    assert folder.root == tmp_path / "blobs"
    with pytest.raises(SettingsError, match="STORAGE must be one of postgres, folder"):
        Settings.from_env({"STORAGE": "s3"})


@pytest.fixture(params=["postgres", "folder"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    return PostgresStorage() if request.param == "postgres" else FolderStorage(tmp_path / "blobs")


@pytest.fixture
async def db(database_url: str):
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


async def copies(storage: Storage, sha256: str, db: asyncpg.Connection) -> int:
    """How many times the content is stored (and, in a folder, that no write is left over)."""
    if isinstance(storage, FolderStorage):
        return len([p for p in storage.root.rglob("*") if p.is_file()])
    return await db.fetchval("SELECT count(*) FROM stored_file WHERE sha256 = $1", sha256)


async def test_round_trip(storage: Storage) -> None:
    data = unique(5000)

    sha256 = await storage.put(data)

    assert sha256 == hashlib.sha256(data).hexdigest()
    assert await storage.exists(sha256)
    stored = await storage.open(sha256)
    assert (stored.sha256, stored.size) == (sha256, len(data))
    assert await read_all(stored) == data
    assert not await storage.exists(hashlib.sha256(b"never stored").hexdigest())


async def test_an_empty_file_round_trips(storage: Storage) -> None:
    sha256 = await storage.put(b"")

    stored = await storage.open(sha256)
    assert stored.size == 0
    assert await read_all(stored) == b""


async def test_identical_content_is_stored_once(storage: Storage, db: asyncpg.Connection) -> None:
    data = unique(3000)

    first, second = await storage.put(data), await storage.put(bytes(data))

    assert first == second
    assert await copies(storage, first, db) == 1


async def test_concurrent_identical_puts_store_one_whole_file(
    storage: Storage, db: asyncpg.Connection
) -> None:
    data = unique(BIG)

    # Without a pool each put has connections of its own: truly concurrent transactions.
    digests = await asyncio.gather(*(storage.put(data) for _ in range(6)))

    assert len(set(digests)) == 1
    assert await copies(storage, digests[0], db) == 1
    assert await read_all(await storage.open(digests[0])) == data


async def test_a_big_file_is_read_a_chunk_at_a_time(storage: Storage) -> None:
    data = unique(BIG)
    sha256 = await storage.put(data)

    stored = await storage.open(sha256)
    sizes = [len(chunk) async for chunk in stored.chunks]

    assert sizes == [CHUNK_BYTES, CHUNK_BYTES, CHUNK_BYTES // 2]
    assert await read_all(await storage.open(sha256)) == data


async def test_postgres_keeps_chunks_as_rows(db: asyncpg.Connection) -> None:
    data = unique(BIG)

    sha256 = await PostgresStorage().put(data)

    rows = await db.fetch(
        "SELECT number, length(data) AS size FROM stored_file_chunk WHERE sha256 = $1 "
        "ORDER BY number",
        sha256,
    )
    assert [(r["number"], r["size"]) for r in rows] == [
        (0, CHUNK_BYTES),
        (1, CHUNK_BYTES),
        (2, CHUNK_BYTES // 2),
    ]
    assert await db.fetchval("SELECT chunks FROM stored_file WHERE sha256 = $1", sha256) == 3


@pytest.mark.parametrize(
    "digest",
    [
        "",
        "../../etc/passwd",
        "ab" * 31 + "a",  # 63 digits
        "AB" * 32,  # upper case: not how digests are spelled here
        "ab" * 31 + "/x",
        "g" * 64,
    ],
)
async def test_what_is_not_a_digest_is_refused(storage: Storage, digest: str) -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        await storage.open(digest)
    with pytest.raises(ValueError, match="SHA-256"):
        await storage.exists(digest)


async def test_a_missing_file_is_an_error_not_an_empty_one(storage: Storage) -> None:
    with pytest.raises(MissingFile):
        await storage.open(hashlib.sha256(b"never stored either").hexdigest())


async def test_postgres_put_commits_on_its_own_never_in_the_callers_transaction() -> None:
    # Joining would make the file's durability depend on the caller's commit.
    async with database.engine().transaction():
        with pytest.raises(TransactionError):
            await PostgresStorage().put(unique(100))


@settings(max_examples=25)
@given(data=st.binary(max_size=300), chunk_bytes=st.integers(min_value=1, max_value=64))
async def test_any_content_round_trips_in_any_chunk_size(data: bytes, chunk_bytes: int) -> None:
    storage = PostgresStorage(chunk_bytes=chunk_bytes)
    # Content may repeat across examples (stored once, with the first example's chunking).
    sha256 = await storage.put(data)

    assert await read_all(await storage.open(sha256)) == data


PUT = """
import asyncio, os, sys
from registry.services.storage import PostgresStorage
asyncio.run(PostgresStorage().put(bytes.fromhex(sys.stdin.read())))
"""


async def test_a_crash_in_the_middle_of_a_put_leaves_nothing(
    database_url: str, db: asyncpg.Connection
) -> None:
    data = unique(BIG)
    sha256 = hashlib.sha256(data).hexdigest()
    env = {**os.environ, "DATABASE_URL": database_url, VARIABLE: "storage.chunk_written"}

    crashed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", PUT],
        input=data.hex(),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert crashed.returncode == 137, crashed.stderr
    assert await db.fetchval("SELECT count(*) FROM stored_file WHERE sha256 = $1", sha256) == 0
    assert (
        await db.fetchval("SELECT count(*) FROM stored_file_chunk WHERE sha256 = $1", sha256) == 0
    )
    assert await PostgresStorage().put(data) == sha256  # the key is free again
    assert await read_all(await PostgresStorage().open(sha256)) == data


# Folder import -------------------------------------------------------------------------------


async def test_a_folder_is_imported_once_and_checked(tmp_path: Path) -> None:
    folder = FolderStorage(tmp_path / "blobs")
    files = [unique(10), unique(20_000), unique(BIG)]
    digests = [await folder.put(data) for data in files]
    # What a folder may also hold: a write cut short, a stray file, a file that rotted.
    (folder.root / digests[0][:2] / ".incoming-abc").write_bytes(b"half")
    (folder.root / "ab").mkdir(exist_ok=True)
    (folder.root / "ab" / "notes.txt").write_text("not a file of ours")
    rotten = hashlib.sha256(b"original").hexdigest()
    (folder.root / rotten[:2]).mkdir(exist_ok=True)
    (folder.root / rotten[:2] / rotten).write_bytes(b"changed on disk")
    target = PostgresStorage()

    first = await import_folder(folder.root, target)
    again = await import_folder(folder.root, target)

    assert (first.imported, first.already_stored) == (3, 0)
    assert sorted(path.name for path, _ in first.refused) == sorted(["notes.txt", rotten])
    assert (again.imported, again.already_stored, len(again.refused)) == (0, 3, 2)
    for sha256, data in zip(digests, files, strict=True):
        assert await read_all(await target.open(sha256)) == data
    assert not await target.exists(rotten)
    assert await read_all(await folder.open(digests[2])) == files[2]  # the folder is untouched


def test_the_import_command(tmp_path: Path, database_url: str) -> None:
    data = unique(1234)
    sha256 = asyncio.run(FolderStorage(tmp_path / "blobs").put(data))
    env = {**os.environ, "DATABASE_URL": database_url, "REGISTRY_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "registry.cli", "storage", "import-folder"]

    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    missing = subprocess.run(
        [*command, str(tmp_path / "nowhere")], env=env, capture_output=True, text=True, timeout=60
    )

    assert first.returncode == 0, first.stderr
    assert "1 files copied into PostgreSQL, 0 were there already, 0 refused" in first.stdout
    assert "0 files copied into PostgreSQL, 1 were there already" in again.stdout
    assert missing.returncode != 0
    assert "no folder storage" in missing.stderr
    assert asyncio.run(_stored(sha256)) == data


async def _stored(sha256: str) -> bytes:
    return await read_all(await PostgresStorage().open(sha256))
