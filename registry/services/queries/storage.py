"""SQL of the PostgreSQL file storage (services/storage.py; tables in migrations/…t12_01…)."""

#: Large uploads are written in one transaction; the web pool's statement timeout (seconds of
#: search work) is not meant for them, nor for waiting on a concurrent put of the same file.
WRITE_TIMEOUT = "SET LOCAL statement_timeout = '60s'"

#: Claims the file. A concurrent put of the same content waits here until the first commits
#: (then it gets no row back and stores nothing) or rolls back (then this one stores it).
CLAIM_FILE = """
    INSERT INTO stored_file (sha256, size, chunks) VALUES ($1, $2, $3)
    ON CONFLICT (sha256) DO NOTHING RETURNING sha256"""

INSERT_CHUNK = """
    INSERT INTO stored_file_chunk (sha256, number, data) VALUES ($1, $2, $3)"""

FILE = """
    SELECT sha256, size, chunks FROM stored_file WHERE sha256 = $1"""

FILE_EXISTS = """
    SELECT EXISTS (SELECT FROM stored_file WHERE sha256 = $1)"""

CHUNK = """
    SELECT data FROM stored_file_chunk WHERE sha256 = $1 AND number = $2"""

#: Deletes the stored files no `blob` row names, stored more than $1 ago; returns how many.
SWEEP_ORPHANS = "SELECT registry_sweep_stored_files($1::interval)"

#: Which of the files $1 some `blob` row names (a folder storage's sweep).
NAMED_FILES = "SELECT sha256 FROM blob WHERE sha256 = ANY($1::text[])"
