"""A TCP proxy on 127.0.0.1 in front of the test server that can be paused: while paused it
accepts and reads but forwards nothing, as a frozen database server (or a network that drops
packets) looks to the application, without freezing the server other tests share."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


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

    async def start(self) -> str:
        """Start listening; answers `url` rewritten to go through the proxy."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
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
