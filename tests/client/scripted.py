"""A bare graphql-transport-ws server on a real socket, scripted per test: for what LiveGQL never does.

Helpers speak livegql's resume extensions too: acknowledgements, positions, HISTORY_GONE errors.
"""

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


async def receive_subscribe(connection: ServerConnection) -> dict[str, Any]:
    """Expect a subscribe message; returns it whole (its payload carries the resume extensions)."""
    message = await receive(connection)
    assert message["type"] == "subscribe", message
    return message


async def send_subscribed(connection: ServerConnection, id: str, position: str | None) -> None:
    """The acknowledgement a subscriber asked for with `acknowledge: true`: a `next` without data."""
    extensions: dict[str, Any] = {"subscribed": True}
    if position is not None:
        extensions["position"] = position
    await send(connection, {"id": id, "type": "next", "payload": {"extensions": extensions}})


async def send_event(connection: ServerConnection, id: str, data: dict[str, Any], position: str | None) -> None:
    payload: dict[str, Any] = {"data": data}
    if position is not None:
        payload["extensions"] = {"position": position}
    await send(connection, {"id": id, "type": "next", "payload": payload})


async def send_error(connection: ServerConnection, id: str, message: str, code: str) -> None:
    error = {"message": message, "extensions": {"code": code}}
    await send(connection, {"id": id, "type": "error", "payload": [error]})
