"""Where uploaded files live: content-addressed by the SHA-256 of their bytes, behind one small
interface, `Storage`, so services never care which one the settings chose (`storage_from`).

- `PostgresStorage` (the default, STORAGE=postgres): the bytes in the database, so every web
  and worker process on any host sees the same files.
- `FolderStorage` (STORAGE=folder): `<data dir>/blobs/ab/abcdef...` on one machine's disk, for
  a single-host installation.

Both keep one rule: `put` makes the file durable *before* the caller commits the row that
names it, in a step of its own. A crash in between leaves at worst a stored file nothing
refers to, never a row without its file. Identical content is stored once, whoever puts it.

`import_folder` copies a folder storage's files into PostgreSQL (`registry storage
import-folder`), for installations that stored files on disk before.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import tempfile
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol

import asyncpg

from registry import database
from registry.domain.errors import Unavailable
from registry.i18n import N_
from registry.services import failpoints
from registry.services.queries import storage as sql
from registry.settings import Settings

#: Rows of `stored_file_chunk`, and reads from a folder, are this big: a download holds one
#: chunk in memory at a time, and a 20 MB attachment is 20 rows.
CHUNK_BYTES = 1024 * 1024
_HEX = frozenset("0123456789abcdef")

#: A storage that refuses writes (disk full, read-only, no permission) is an operator's problem
#: the uploader can only wait out: a clear 503, never a generic 500.
CANNOT_STORE = N_("Files cannot be stored right now; nothing was saved. Please try again later.")
_REFUSING = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})
#: Files nothing names are deleted once this old: far longer than any upload between `put`
#: and the commit of its row (the database function refuses less than an hour).
ORPHAN_GRACE = timedelta(days=1)


class MissingFile(LookupError):
    """A file some row names is not in the storage (a storage switched without importing, or
    a folder copied incompletely): an operator's problem, so it is a server error, not a 404."""


def check_sha256(sha256: str) -> str:
    """The digest itself, once it is known to be 64 lowercase hex digits (no path tricks)."""
    if len(sha256) != 64 or not _HEX.issuperset(sha256):
        raise ValueError("not a SHA-256 hex digest")
    return sha256


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredFile:
    """An opened file: its size (known before the first byte is sent, for Content-Length) and
    its bytes, read a chunk at a time as they are iterated."""

    sha256: str
    size: int
    chunks: AsyncIterator[bytes]


class Storage(Protocol):
    """Files by SHA-256. Every method is async: PostgreSQL's naturally, the folder's in
    threads, so no upload or download blocks the event loop."""

    async def put(self, data: bytes) -> str:
        """Store `data` unless already stored, durably, and return its SHA-256 hex digest."""
        ...

    async def open(self, sha256: str) -> StoredFile:
        """The file, to be streamed; `MissingFile` if it is not stored."""
        ...

    async def exists(self, sha256: str) -> bool: ...

    async def sweep_orphans(self, grace: timedelta) -> int:
        """Delete stored files no `blob` row names, stored longer than `grace` ago (left by
        a crash between `put` and the commit of the row); returns how many."""
        ...


def storage_from(settings: Settings) -> Storage:
    if settings.storage == "folder":
        return FolderStorage(settings.data_dir / "blobs")
    return PostgresStorage()


class PostgresStorage:
    """Files as `bytea` rows of CHUNK_BYTES in `stored_file_chunk`, listed in `stored_file`.

    Why chunked `bytea` and not large objects: rows are ordinary data, so grants, cascading
    deletes, dumps, replicas and row-level transactions all just work; large objects need
    their own privileges per object (the web role `registry_app` would own every one it
    wrote), `lo_unlink` bookkeeping and `vacuumlo` for orphans. Chunks keep streaming cheap:
    each read is one small query on a pooled connection, so a slow client never holds a
    connection (or a transaction) for the length of its download.

    `put` runs in a transaction of its own, refusing to join the caller's: the file row and
    all its chunks commit together, so a reader never sees half a file, and they commit before
    the caller's row that names the file (the same "unreferenced file at worst" rule as the
    folder). Concurrent puts of the same content wait on the `stored_file` key; the later ones
    store nothing. Stored content is never updated (the role may only insert and read).
    """

    def __init__(self, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.chunk_bytes = chunk_bytes

    async def put(self, data: bytes) -> str:
        sha256 = await asyncio.to_thread(sha256_of, data)  # hashlib releases the GIL
        if await self.exists(sha256):  # spare sending the bytes again
            return sha256
        try:
            return await self._put(data, sha256)
        except (asyncpg.DiskFullError, asyncpg.ReadOnlySQLTransactionError) as error:
            raise Unavailable(CANNOT_STORE) from error

    async def _put(self, data: bytes, sha256: str) -> str:
        chunks = -(-len(data) // self.chunk_bytes)
        view = memoryview(data)
        async with (
            database.transaction(allow_nested=False),
            database.connection() as conn,
        ):
            await conn.execute(sql.WRITE_TIMEOUT)
            if await conn.fetchval(sql.CLAIM_FILE, sha256, len(data), chunks) is None:
                return sha256  # stored meanwhile by someone else, and committed
            for number in range(chunks):
                start = number * self.chunk_bytes
                piece = view[start : start + self.chunk_bytes]
                await conn.execute(sql.INSERT_CHUNK, sha256, number, piece)
                failpoints.reach("storage.chunk_written")
        return sha256

    async def open(self, sha256: str) -> StoredFile:
        row = await database.fetchrow(sql.FILE, check_sha256(sha256))
        if row is None:
            raise MissingFile(sha256)
        return StoredFile(sha256, row["size"], self._chunks(sha256, row["chunks"]))

    async def _chunks(self, sha256: str, count: int) -> AsyncIterator[bytes]:
        for number in range(count):
            data = await database.fetchval(sql.CHUNK, sha256, number)
            if data is None:
                raise MissingFile(f"{sha256} chunk {number}")
            yield data

    async def exists(self, sha256: str) -> bool:
        return bool(await database.fetchval(sql.FILE_EXISTS, check_sha256(sha256)))

    async def sweep_orphans(self, grace: timedelta) -> int:
        # The web role may not delete stored files; a SECURITY DEFINER function deletes only
        # unnamed ones older than the grace (migration …2026_12_03t10…).
        return await database.fetchval(sql.SWEEP_ORPHANS, grace)


class FolderStorage:
    """Files under `root/ab/abcdef...`, on one machine.

    A file is written to a temporary name, flushed to disk, renamed into place and its
    directory flushed, all inside `put`: by the time the caller commits the row that names it,
    the file survives a power cut. Renaming is atomic, so concurrent puts of the same content
    each write a whole copy and the last rename wins with identical bytes.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / check_sha256(sha256)[:2] / sha256

    async def put(self, data: bytes) -> str:
        try:
            return await asyncio.to_thread(self._write, data)
        except OSError as error:
            if error.errno in _REFUSING:
                raise Unavailable(CANNOT_STORE) from error
            raise

    def _write(self, data: bytes) -> str:
        sha256 = sha256_of(data)
        target = self.path(sha256)
        if target.exists():
            return sha256
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return sha256

    async def open(self, sha256: str) -> StoredFile:
        path = self.path(sha256)
        try:
            size = (await asyncio.to_thread(path.stat)).st_size
        except FileNotFoundError:
            raise MissingFile(sha256) from None
        return StoredFile(sha256, size, self._chunks(path))

    async def _chunks(self, path: Path) -> AsyncIterator[bytes]:
        file = await asyncio.to_thread(path.open, "rb")
        try:
            while chunk := await asyncio.to_thread(file.read, CHUNK_BYTES):
                yield chunk
        finally:
            file.close()

    async def exists(self, sha256: str) -> bool:
        return await asyncio.to_thread(self.path(sha256).is_file)

    async def sweep_orphans(self, grace: timedelta) -> int:
        before = time.time() - grace.total_seconds()
        old = await asyncio.to_thread(_old_files, self.root, before)
        names = [p.name for p in old if len(p.name) == 64 and _HEX.issuperset(p.name)]
        named = {r["sha256"] for r in await database.fetch(sql.NAMED_FILES, names)}
        orphans = [p for p in old if p.name not in named]
        for path in orphans:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        return len(orphans)


async def read_all(stored: StoredFile) -> bytes:
    """The whole file in memory: for small files and tests, never for downloads."""
    return b"".join([chunk async for chunk in stored.chunks])


# Moving a folder's files into PostgreSQL ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FolderImport:
    imported: int
    already_stored: int
    #: Files left out, with why: a name that is not a digest, or content that does not match it.
    refused: tuple[tuple[Path, str], ...]


def _old_files(folder: Path, before: float) -> list[Path]:
    """Files of a folder storage (unfinished `.incoming-*` writes too) last changed before
    `before` (seconds since the epoch)."""
    return [p for p in folder.glob("??/*") if p.is_file() and p.stat().st_mtime < before]


def _folder_files(folder: Path) -> Iterable[Path]:
    """The stored files of a folder storage, skipping unfinished `.incoming-*` writes."""
    return sorted(p for p in folder.glob("??/*") if p.is_file() and not p.name.startswith("."))


async def import_folder(folder: Path, target: Storage) -> FolderImport:
    """Copy every file of a folder storage into `target`, one at a time, checking each file's
    content against its name. Running it again imports only what is missing; the folder is
    left as it was."""
    imported = already = 0
    refused: list[tuple[Path, str]] = []
    for path in await asyncio.to_thread(_folder_files, folder):
        name = path.name
        if len(name) != 64 or not _HEX.issuperset(name) or path.parent.name != name[:2]:
            refused.append((path, "the name is not a SHA-256 digest in its ab/ folder"))
            continue
        if await target.exists(name):
            already += 1
            continue
        data = await asyncio.to_thread(path.read_bytes)
        if await asyncio.to_thread(sha256_of, data) != name:
            refused.append((path, "the content does not match its SHA-256 name"))
            continue
        await target.put(data)
        imported += 1
    return FolderImport(imported, already, tuple(refused))
