"""A bare graphql-transport-ws server on a real socket, scripted per test: for what LiveGQL never does."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

from livegql.core import json

Handler = Callable[[ServerConnection], Awaitable[None]]


async def receive(connection: ServerConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await connection.recv())
    return message


async def send(connection: ServerConnection, message: dict[str, Any]) -> None:
    await connection.send(json.dumps(message))


async def acknowledge(connection: ServerConnection) -> dict[str, Any]:
    """Expect connection_init, answer connection_ack; returns the init message."""
    init = await receive(connection)
    assert init["type"] == "connection_init"
    await send(connection, {"type": "connection_ack"})
    return init


@asynccontextmanager
async def scripted_server(handler: Handler) -> AsyncIterator[str]:
    """Serve `handler` for every connection on 127.0.0.1:<ephemeral>; yields the ws:// URL."""
    async with serve(handler, "127.0.0.1", 0, subprotocols=[Subprotocol("graphql-transport-ws")]) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/graphql"
