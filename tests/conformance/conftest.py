"""One server for the conformance suite, guarded by an `on_connect` that every transport must pass through."""

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.requests import HTTPConnection

from livegql import ConnectionRejectedError, LiveGQL, PubSub, Settings
from tests.conformance.base import ADMIT_TOKEN, REJECT_REASON, Conformer
from tests.conformance.http_clients import Multipart, SSEDistinct, SSESingle
from tests.conformance.ws_clients import LegacyWS, PlainWS, TransportWS, connect_ws
from tests.support.schema import SDL, make_resolvers
from tests.support.server import LiveServer, serve

TRANSPORTS = ("graphql-transport-ws", "legacy-graphql-ws", "plain-ws", "sse-distinct", "sse-single", "multipart")


@dataclass
class Gate:
    """Admits the token from connection params (WebSocket protocols) or the Authorization header (HTTP and
    plain mode, which have no params); counts every decision so a test can see the hook ran."""

    admitted: int = 0
    refused: int = 0
    seen: list[str] = field(default_factory=list)

    def __call__(self, params: dict[str, Any], request: HTTPConnection) -> Mapping[str, Any]:
        header = request.headers.get("authorization", "")
        token = params.get("token") or header.removeprefix("Bearer ")
        self.seen.append(token)
        if token != ADMIT_TOKEN:
            self.refused += 1
            raise ConnectionRejectedError(REJECT_REASON)
        self.admitted += 1
        return {"user": "conformer"}


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def guarded(pubsub: PubSub, gate: Gate) -> Iterator[LiveServer]:
    app = LiveGQL(SDL, resolvers=make_resolvers(), pubsub=pubsub, on_connect=gate, keepalive_interval=None)
    with serve(app) as live:
        yield live


LIMITS: dict[str, Any] = {"max_query_bytes": 200, "max_message_bytes": 2000, "max_body_bytes": 2000}


@pytest.fixture
def limited(pubsub: PubSub, gate: Gate) -> Iterator[LiveServer]:
    """The guarded server with small size limits (LIMITS)."""
    settings = Settings(keepalive_interval=None, **LIMITS)
    app = LiveGQL(SDL, resolvers=make_resolvers(), pubsub=pubsub, on_connect=gate, settings=settings)
    with serve(app) as live:
        yield live


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@asynccontextmanager
async def connected(transport: str, server: LiveServer, token: str = ADMIT_TOKEN) -> AsyncIterator[Conformer]:
    """A client of `transport` admitted with `token` (raises Refused where the transport refuses at once)."""
    client: Conformer
    if transport == "graphql-transport-ws":
        client = await connect_ws(TransportWS, server.ws_url, token)
    elif transport == "legacy-graphql-ws":
        client = await connect_ws(LegacyWS, server.ws_url, token)
    elif transport == "plain-ws":
        client = await connect_ws(PlainWS, server.ws_url, token)
    elif transport == "sse-distinct":
        client = SSEDistinct(server.http_url, token)
    elif transport == "sse-single":
        client = await SSESingle.connect(server.http_url, token)
    else:
        client = Multipart(server.http_url, token)
    try:
        yield client
    finally:
        await client.aclose()
