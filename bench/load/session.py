"""graphql-transport-ws sessions on the raw client: open, `connection_init`, wait for the ack; many at once."""

import asyncio
import socket
from typing import Any

import orjson

from bench.load.ws import WebSocketClient

SUBPROTOCOL = "graphql-transport-ws"
PONG = b'{"type":"pong"}'
OPEN_TIMEOUT = 15.0


class ProtocolError(Exception):
    """The server answered something graphql-transport-ws does not allow here."""


async def open_session(host: str, port: int, path: str, *, rcvbuf: int | None = None) -> WebSocketClient:
    """A socket that has been acknowledged (`connection_ack`) within OPEN_TIMEOUT.

    `rcvbuf` sets SO_RCVBUF before connecting (so the window the client advertises is that small from the start).
    """
    async with asyncio.timeout(OPEN_TIMEOUT):
        return await _open(host, port, path, rcvbuf)


async def _connect(host: str, port: int, path: str, rcvbuf: int | None) -> WebSocketClient:
    loop = asyncio.get_running_loop()

    def factory() -> WebSocketClient:
        return WebSocketClient(host, port, path, SUBPROTOCOL)

    if rcvbuf is None:
        _, client = await loop.create_connection(factory, host, port)
        return client
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await loop.sock_connect(sock, (host, port))
        _, client = await loop.create_connection(factory, sock=sock)
    except BaseException:
        sock.close()
        raise
    return client


async def _open(host: str, port: int, path: str, rcvbuf: int | None) -> WebSocketClient:
    loop = asyncio.get_running_loop()
    client = await _connect(host, port, path, rcvbuf)
    try:
        await client.opened
        acked: asyncio.Future[None] = loop.create_future()

        def on_message(raw: bytes) -> None:
            kind = orjson.loads(raw).get("type")
            if kind == "ping":
                client.send_text(PONG)
            elif acked.done():
                pass
            elif kind == "connection_ack":
                acked.set_result(None)
            else:
                acked.set_exception(ProtocolError(raw))

        client.on_message = on_message
        client.send_text(b'{"type":"connection_init"}')
        either: list[asyncio.Future[Any]] = [acked, client.closed]
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if not acked.done():
            raise ProtocolError(f"closed before connection_ack (code {client.closed.result()})")
        acked.result()
    except BaseException:
        client.close()
        raise
    return client


async def open_sessions(host: str, port: int, path: str, count: int, concurrency: int) -> list[WebSocketClient]:
    """`count` acknowledged sessions, at most `concurrency` handshakes in flight; all or none (closed on failure)."""
    gate = asyncio.Semaphore(concurrency)
    opened: list[WebSocketClient] = []

    async def one() -> None:
        async with gate:
            opened.append(await open_session(host, port, path))

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(count):
                group.create_task(one())
    except BaseException:
        for client in opened:
            client.close()
        raise
    return opened
