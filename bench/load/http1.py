"""A minimal HTTP/1.1 keep-alive client as an asyncio.Protocol: pre-encoded requests, Content-Length bodies."""

import asyncio
from typing import cast

from bench.load.wire import parse_head

REQUEST_TIMEOUT = 30.0


def encode_post(host: str, port: int, path: str, body: bytes) -> bytes:
    """One complete POST request with a JSON body, ready to write as many times as needed."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class HTTPConnection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self) -> None:
        self.closed = False
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._head: tuple[int, int, int] | None = None  # (status, body start, body end) once the head is in
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionError(f"server closed the connection ({exc!r})"))

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        """Send a pre-encoded request; return (status, body)."""
        if self.closed or self._transport is None:
            raise ConnectionError("connection is closed")
        self._waiter = asyncio.get_running_loop().create_future()
        self._transport.write(raw)
        async with asyncio.timeout(REQUEST_TIMEOUT):
            return await self._waiter

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._head is None:
            parsed = parse_head(self._buffer)
            if parsed is None:
                return
            status, headers, size = parsed
            length = headers.get(b"content-length")
            if length is None:
                self._fail("response without Content-Length (chunked bodies are not supported)")
                return
            self._head = (status, size, size + int(length))
        status, body_start, body_end = self._head
        if len(self._buffer) < body_end:
            return
        body = bytes(self._buffer[body_start:body_end])
        del self._buffer[:body_end]
        self._head = None
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result((status, body))

    def _fail(self, reason: str) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionError(reason))
        self.close()


CONNECT_TIMEOUT = 10.0


async def connect_http(host: str, port: int) -> HTTPConnection:
    async with asyncio.timeout(CONNECT_TIMEOUT):
        _, protocol = await asyncio.get_running_loop().create_connection(HTTPConnection, host, port)
    return protocol
