"""graphql-transport-ws sessions on the raw client: open, `connection_init`, wait for the ack; many at once."""

import asyncio
from typing import Any

import orjson

from bench.load.ws import WebSocketClient

SUBPROTOCOL = "graphql-transport-ws"
PONG = b'{"type":"pong"}'
OPEN_TIMEOUT = 15.0


class ProtocolError(Exception):
    """The server answered something graphql-transport-ws does not allow here."""


async def open_session(host: str, port: int, path: str) -> WebSocketClient:
    """A socket that has been acknowledged (`connection_ack`) within OPEN_TIMEOUT."""
    async with asyncio.timeout(OPEN_TIMEOUT):
        return await _open(host, port, path)


async def _open(host: str, port: int, path: str) -> WebSocketClient:
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(lambda: WebSocketClient(host, port, path, SUBPROTOCOL), host, port)
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
