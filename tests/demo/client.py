"""gql sessions against a live demo server, and a bounded wait for the server to hold subscribers."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from tests.support.server import LiveServer
from tests.support.waiting import until

TIMEOUT = 5.0


@asynccontextmanager
async def http_session(server: LiveServer) -> AsyncIterator[Any]:
    async with Client(transport=HTTPXAsyncTransport(url=server.http_url), execute_timeout=TIMEOUT) as session:
        yield session


@asynccontextmanager
async def ws_session(server: LiveServer) -> AsyncIterator[Any]:
    transport = WebsocketsTransport(
        url=server.ws_url,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        connect_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
        ack_timeout=TIMEOUT,
    )
    async with Client(transport=transport, execute_timeout=TIMEOUT) as session:
        yield session


async def send(session: Any, text: str, room: str = "general", author: str = "ann") -> dict[str, Any]:
    request = GraphQLRequest(
        "mutation($room: String!, $author: String!, $text: String!) {"
        "  send(room: $room, author: $author, text: $text) { id room author text sentAt } }",
        variable_values={"room": room, "author": author, "text": text},
    )
    result: dict[str, Any] = (await session.execute(request))["send"]
    return result


async def history(session: Any, room: str = "general", last: int = 20) -> list[dict[str, Any]]:
    request = GraphQLRequest(
        "query($room: String!, $last: Int) { messages(room: $room, last: $last) { id author text } }",
        variable_values={"room": room, "last": last},
    )
    result: list[dict[str, Any]] = (await session.execute(request))["messages"]
    return result


async def subscriber_count(server: LiveServer, room: str) -> int:
    async def count() -> int:
        return server.app.pubsub.subscriber_count(f"chat:{room}")

    return await server.acall(count())


async def wait_for_subscribers(server: LiveServer, room: str, expected: int = 1) -> None:
    async def reached() -> bool:
        return await subscriber_count(server, room) == expected

    await until(reached, limit=TIMEOUT, what=f"{expected} subscriber(s) of room {room!r}")


class Watcher:
    """A gql subscription read in the background, so the test can send while it waits for events."""

    def __init__(self, session: Any, request: GraphQLRequest) -> None:
        self._stream = session.subscribe(request)
        self._pending: asyncio.Task[dict[str, Any]] = asyncio.create_task(self._next())

    async def _next(self) -> dict[str, Any]:
        item: dict[str, Any] = await anext(self._stream)
        return item

    async def receive(self) -> dict[str, Any]:
        async with asyncio.timeout(TIMEOUT):
            item = await self._pending
        self._pending = asyncio.create_task(self._next())
        return item

    async def close(self) -> None:
        self._pending.cancel()
        await asyncio.gather(self._pending, return_exceptions=True)
        await self._stream.aclose()


@asynccontextmanager
async def watching(session: Any, query: str, **variables: Any) -> AsyncIterator[Watcher]:
    """Subscribe (the subscribe message goes out at once); stop the subscription on exit."""
    watcher = Watcher(session, GraphQLRequest(query, variable_values=variables or None))
    try:
        yield watcher
    finally:
        await watcher.close()
