"""File storage in PostgreSQL: `stored_file` lists each stored file (by the SHA-256 of its
bytes) and `stored_file_chunk` holds its bytes in rows of 1 MiB (registry.services.storage
says why chunked bytea rather than large objects).

Hand-written: Piccolo does not model composite primary keys, column storage or grants, and
only raw SQL in services.storage touches these tables.

A file's row and all its chunks are inserted in one transaction, so a listed file is always
whole. Stored content never changes: `registry_app` may read and add, not update or delete.

Files an installation stored earlier in `REGISTRY_DATA_DIR/blobs` are not copied here (a
migration may run on a machine without that folder, and in one transaction):
`registry storage import-folder` copies them, and may run any number of times.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "file storage in PostgreSQL: stored_file and its 1 MiB chunks"

FORWARDS = r"""
CREATE TABLE stored_file (
    sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size bigint NOT NULL CHECK (size >= 0),
    -- ceil(size / chunk size) when stored; readers fetch chunks 0 .. chunks - 1.
    chunks integer NOT NULL CHECK (chunks >= 0),
    stored_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE stored_file_chunk (
    sha256 text NOT NULL REFERENCES stored_file (sha256) ON DELETE CASCADE,
    number integer NOT NULL CHECK (number >= 0),
    data bytea NOT NULL,
    PRIMARY KEY (sha256, number)
);
-- Out of line and uncompressed: PDFs are compressed already, so pglz would spend CPU on every
-- write for next to nothing.
ALTER TABLE stored_file_chunk ALTER COLUMN data SET STORAGE EXTERNAL;

-- Default privileges (migration …t09_00…) would also give UPDATE and DELETE.
REVOKE ALL ON stored_file, stored_file_chunk FROM registry_app;
GRANT SELECT, INSERT ON stored_file, stored_file_chunk TO registry_app;
"""

BACKWARDS = """
DROP TABLE IF EXISTS stored_file_chunk, stored_file;
"""


async def forwards():
    from registry.database import connection

    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def run():
        async with connection() as conn:
            await conn.execute(FORWARDS)

    async def run_backwards():
        async with connection() as conn:
            await conn.execute(BACKWARDS)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
