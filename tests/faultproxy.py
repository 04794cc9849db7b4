"""Faults for tests to cause: a TCP proxy on 127.0.0.1 in front of the test server that can be
paused (while paused it accepts and reads but forwards nothing, as a frozen database server or
a network that drops packets looks to the application, without freezing the server other tests
share), and the application's backends, found to be killed as an operator or a crashing server
would."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from registry import database

#: The fault tests' app (tests/faults): a small pool and a short acquire timeout, so they can
#: use up, kill and wait out its connections in seconds.
POOL_SIZE = 3
ACQUIRE_TIMEOUT_MS = 500


class PausableProxy:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._url = url
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 5432)
        # The embedded server is reached on its local socket (?host=/its/folder), not TCP.
        self._socket_dir = dict(parse_qsl(parts.query)).get("host", "")
        if not self._socket_dir.startswith("/"):
            self._socket_dir = ""
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self, port: int = 0) -> str:
        """Start listening (on `port`, to come back where it was after `stop`); answers `url`
        rewritten to go through the proxy."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        port = self._server.sockets[0].getsockname()[1]
        parts = urlsplit(self._url)
        user = parts.netloc.rpartition("@")[0]
        query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "host"])
        return urlunsplit(parts._replace(netloc=f"{user}@127.0.0.1:{port}", query=query))

    def pause(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    async def stop(self) -> None:
        self.resume()
        if self._server is not None:
            self._server.close()
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self._socket_dir:
                path = f"{self._socket_dir}/.s.PGSQL.{self._upstream[1]}"
                up_reader, up_writer = await asyncio.open_unix_connection(path)
            else:
                up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            writer.close()
            return
        for source, target in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, target))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(self, source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                await self._flowing.wait()
                target.write(data)
                await target.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            target.close()


async def app_backends(superuser_url: str, state: str, count: int) -> list[int]:
    """The pids of the application's connections to this database in `state` (as
    pg_stat_activity names it), waiting up to 5 s for `count` of them."""
    conn = await asyncpg.connect(superuser_url)
    try:
        for _ in range(50):
            pids = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE usename = $1 AND datname = "
                "current_database() AND state = $2",
                database.APP_LOGIN,
                state,
            )
            if len(pids) >= count:
                break
            await asyncio.sleep(0.1)
        return [row["pid"] for row in pids]
    finally:
        await conn.close()


async def terminate_backends(superuser_url: str, pids: list[int]) -> None:
    conn = await asyncpg.connect(superuser_url)
    try:
        for pid in pids:
            await conn.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()
