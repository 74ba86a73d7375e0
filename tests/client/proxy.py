"""A TCP relay in front of a server, so that tests can cut the client's socket or move the server."""

import asyncio
import contextlib
from types import TracebackType
from typing import Self

CHUNK = 64 * 1024


class Proxy:
    """Relays 127.0.0.1:<ephemeral> to 127.0.0.1:`target_port`; `drop()` cuts every relayed connection.

    While the target refuses, each incoming connection is closed at once (the client sees a failed
    handshake, as while a server restarts).
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.accepted = 0  # connections the client opened through the relay
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def url(self, path: str = "/graphql") -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        self.drop()
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=5)
        await self._server.wait_closed()

    def drop(self) -> None:
        """Abort every relayed connection in both directions (no close frame: a dead network)."""
        for writer in list(self._writers):
            writer.transport.abort()

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.accepted += 1
        try:
            try:
                server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
            except OSError:
                client_writer.transport.abort()
                return
            links = {client_writer, server_writer}
            self._writers |= links
            try:
                async with asyncio.TaskGroup() as group:
                    group.create_task(_pipe(client_reader, server_writer, links))
                    group.create_task(_pipe(server_reader, client_writer, links))
            finally:
                self._writers -= links
        finally:
            self._handlers.discard(task)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, links: set[asyncio.StreamWriter]) -> None:
    """Copy one direction; when it ends, close both directions (flushing what was already written)."""
    with contextlib.suppress(OSError):
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    for link in links:
        link.close()
