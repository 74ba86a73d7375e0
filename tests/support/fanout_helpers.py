"""Helpers for the subscription fan-out tests: a schema whose results name their viewer, probes of the server's
hub and broker (run on the server's loop), and peers that can send headers or stop reading."""

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, TypeVar

import websockets
from graphql import GraphQLResolveInfo
from starlette.types import Receive, Scope, Send
from websockets.typing import Subprotocol

from livegql import LiveGQL
from tests.support.server import LiveServer
from tests.support.waiting import until
from tests.support.wsclient import RawPeer

T = TypeVar("T")

SDL = """
type Query { hello: String! }
type Subscription {
  feed(topic: String!): Item!
  broken: Int!
}
type Item { text: String!, viewer: String! }
"""

FEED = "subscription Feed($topic: String!) { feed(topic: $topic) { text viewer } }"
FAIL = "<fail>"
"""Published on a feed topic, makes the feed's source raise instead of yielding."""


def make_resolvers() -> dict[str, dict[str, Any]]:
    async def feed(_: Any, info: GraphQLResolveInfo, topic: str) -> AsyncIterator[dict[str, str]]:
        async for text in info.context["pubsub"].subscribe(topic):
            if text == FAIL:
                raise RuntimeError("the feed's source failed")
            yield {"text": text}

    async def broken(_: Any, __: GraphQLResolveInfo) -> AsyncIterator[int]:
        raise RuntimeError("no source today")  # raises when called: no event stream at all

    def viewer(_: Any, info: GraphQLResolveInfo) -> str:
        # Who the result was computed for: the context's user, else the session cookie.
        user = info.context.get("user") or info.context["request"].cookies.get("user")
        return str(user or "anonymous")

    return {
        "Query": {"hello": lambda *_: "hello"},
        "Subscription": {"feed": feed, "broken": broken},
        "Item": {"viewer": viewer},
    }


class CountingApp(LiveGQL):
    """LiveGQL that counts the WebSocket sessions it is still serving (to see the server drop a peer)."""

    active_sockets = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await super().__call__(scope, receive, send)
            return
        self.active_sockets += 1
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.active_sockets -= 1


def make_app(**options: Any) -> CountingApp:
    options.setdefault("keepalive_interval", None)
    return CountingApp(SDL, resolvers=make_resolvers(), **options)


async def on_server(server: LiveServer, probe: Callable[[], T]) -> T:
    """Evaluate `probe` on the server's loop, where the hub and the broker live."""

    async def run() -> T:
        return probe()

    return await server.acall(run())


async def wait_for(server: LiveServer, probe: Callable[[], bool], what: str, limit: float = 5.0) -> None:
    await until(lambda: on_server(server, probe), limit=limit, what=what)


async def publish(server: LiveServer, topic: str, *payloads: Any) -> None:
    async def run() -> None:
        for payload in payloads:
            await server.app.pubsub.publish(topic, payload)

    await server.acall(run())


def streams(server: LiveServer) -> Callable[[], int]:
    return lambda: server.app.subscriptions.stream_count


def subscribers(server: LiveServer, topic: str | None = None) -> Callable[[], int]:
    return lambda: server.app.pubsub.subscriber_count(topic)


async def sync(peer: RawPeer) -> None:
    """Round-trip a ping: the server has handled everything this peer sent before, and this peer has read
    everything the server sent it before (fails if anything but the pong comes first)."""
    await peer.send({"type": "ping"})
    message = await peer.receive()
    assert message == {"type": "pong"}, f"expected nothing before the pong, got {message}"


@asynccontextmanager
async def connect_as(
    url: str, headers: Mapping[str, str] | None = None, max_queue: int | None = 16
) -> AsyncIterator[RawPeer]:
    """A graphql-transport-ws socket sending `headers`; `max_queue=1` stops reading the socket as soon as one
    received frame waits unread. No permessage-deflate: a frame's size on the wire is its size."""
    async with websockets.connect(
        url,
        subprotocols=[Subprotocol("graphql-transport-ws")],
        additional_headers=headers,
        max_queue=max_queue,
        compression=None,
        open_timeout=5,
        close_timeout=2,
    ) as connection:
        yield RawPeer(connection)


async def open_peer(
    stack: AsyncExitStack,
    url: str,
    payload: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    max_queue: int | None = 16,
) -> RawPeer:
    """A connected, acknowledged peer that `stack` closes."""
    peer = await stack.enter_async_context(connect_as(url, headers, max_queue))
    await peer.init(payload)
    return peer


async def results(peer: RawPeer, id: str, count: int) -> list[Any]:
    """The `data` of the next `count` messages, each a `next` for `id`."""
    data = []
    for _ in range(count):
        message = await peer.receive()
        assert message["type"] == "next", message
        assert message["id"] == id, message
        data.append(message["payload"]["data"])
    return data


async def texts(peer: RawPeer, id: str, count: int) -> list[str]:
    return [item["feed"]["text"] for item in await results(peer, id, count)]
