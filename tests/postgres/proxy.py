"""A TCP relay in front of PostgreSQL whose open connections can go silent: bytes are dropped both ways and
nothing is closed, as when a peer vanishes behind a failover or a NAT that forgot the connection."""

import asyncio
from types import TracebackType
from typing import Self

CHUNK = 65536


class _Link:
    def __init__(self, writers: tuple[asyncio.StreamWriter, asyncio.StreamWriter]) -> None:
        self.writers = writers
        self.silent = False


class SilentProxy:
    """`async with SilentProxy(host, port) as proxy`: connect to 127.0.0.1:`proxy.port`; `silence()` the
    connections open now (new ones relay normally)."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._links: list[_Link] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    def silence(self) -> None:
        for link in self._links:
            link.silent = True

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        for link in self._links:
            for writer in link.writers:
                writer.close()
        await self._server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        link = _Link((writer, upstream_writer))
        self._links.append(link)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._pipe(reader, upstream_writer, link))
                group.create_task(self._pipe(upstream_reader, writer, link))
        except (ConnectionError, ExceptionGroup):
            pass  # either side went away: the other is closed below, as a relay would
        finally:
            for each in link.writers:
                each.close()

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter, link: _Link) -> None:
        while data := await source.read(CHUNK):
            if not link.silent:
                target.write(data)
                await target.drain()
        target.close()
