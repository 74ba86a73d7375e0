"""gql sessions against a live server, plus waiting on the server's PubSub; shared by interop and frameworks."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from tests.support.server import LiveServer, subscribers
from tests.support.waiting import until

LIMIT = 5.0


def ws_transport(url: str, **options: Any) -> WebsocketsTransport:
    """gql's WebSocket transport offering only graphql-transport-ws (by default it offers the legacy one too)."""
    settings: dict[str, Any] = {
        "subprotocols": [WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        "connect_timeout": LIMIT,
        "ack_timeout": LIMIT,
        "close_timeout": LIMIT,
    }
    return WebsocketsTransport(url=url, **(settings | options))


@asynccontextmanager
async def ws_session(url: str, **options: Any) -> AsyncIterator[AsyncClientSession]:
    """A gql session over graphql-transport-ws; `options` go to WebsocketsTransport."""
    async with Client(transport=ws_transport(url, **options), execute_timeout=LIMIT) as session:
        yield session


@asynccontextmanager
async def http_session(url: str) -> AsyncIterator[AsyncClientSession]:
    async with Client(transport=HTTPXAsyncTransport(url=url, timeout=LIMIT), execute_timeout=LIMIT) as session:
        yield session


def request(query: str, **variables: Any) -> GraphQLRequest:
    return GraphQLRequest(query, variable_values=variables or None)


async def subscribed(server: LiveServer, topic: str, expected: int = 1) -> None:
    """Wait (bounded) until `topic` has `expected` subscribers on the server."""

    async def check() -> bool:
        return await subscribers(server, topic) == expected

    await until(check, what=f"{expected} subscriber(s) of {topic!r}")


async def collect(stream: AsyncIterator[dict[str, Any]], field: str, count: int) -> list[Any]:
    """The first `count` values of `field`; the caller closes the stream (gql then sends Complete)."""
    values: list[Any] = []
    async for data in stream:
        values.append(data[field])
        if len(values) == count:
            break
    return values
