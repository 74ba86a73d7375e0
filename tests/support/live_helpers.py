"""Shared pieces of the @live query tests: a small chat schema over an in-memory store, and bounded helpers to
drive a served app (its hub lives on the server's loop, so every look at it goes through `LiveServer.acall`)."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from graphql import GraphQLResolveInfo

from livegql import LiveGQL
from livegql.broker import INVALIDATION_TOPIC
from tests.support.server import LiveServer
from tests.support.wsclient import RawPeer

T = TypeVar("T")

SDL = """
scalar Money
interface Node { id: ID! }
type Query {
  messages(room: String!): [Message!]!
  counter: Int!
  other: Int!
  item(id: ID!): Item
  node(id: ID!): Node
  viewer: String
  slow: Int!
  price: Money
}
type Message implements Node { id: ID! text: String! }
type Item { id: ID! name: String! }
"""

MESSAGES = "query Room($room: String!) @live { messages(room: $room) { id text } }"
COUNTER = "query @live { counter }"


@dataclass
class Store:
    """What the resolvers read; tests change it, then invalidate."""

    rooms: dict[str, list[dict[str, str]]] = field(
        default_factory=lambda: {"general": [{"id": "1", "text": "hi"}], "random": [{"id": "7", "text": "meh"}]}
    )
    counter: int = 0
    other: int = 0
    items: dict[str, dict[str, str]] = field(default_factory=lambda: {"1": {"id": "1", "name": "pen"}})
    broken: bool = False
    """`messages` raises while set."""
    stamps: list[float] = field(default_factory=list)
    """Loop time of each `counter` resolution (one per execution of a query reading it)."""
    gate: asyncio.Event | None = None
    """While set to an unset Event, `slow` reads `counter`, then waits for it."""
    entered: int = 0

    def post(self, room: str, id: str, text: str) -> None:
        self.rooms[room] = [*self.rooms[room], {"id": id, "text": text}]

    def edit(self, room: str, id: str, text: str) -> None:
        self.rooms[room] = [
            {**message, "text": text} if message["id"] == id else message for message in self.rooms[room]
        ]


def make_resolvers(store: Store) -> dict[str, dict[str, Any]]:
    def messages(_: Any, info: GraphQLResolveInfo, room: str) -> list[dict[str, str]]:
        if store.broken:
            raise RuntimeError("secret database password leaked")
        keys = info.context.get("resource_keys")
        if keys is not None:
            keys.add(f"Room:{room}")
        return store.rooms.get(room, [])

    def counter(_: Any, __: GraphQLResolveInfo) -> int:
        store.stamps.append(asyncio.get_running_loop().time())
        return store.counter

    async def slow(_: Any, __: GraphQLResolveInfo) -> int:
        value = store.counter
        store.entered += 1
        if store.gate is not None:
            await store.gate.wait()
        return value

    def node(_: Any, __: GraphQLResolveInfo, id: str) -> dict[str, str] | None:
        for room in store.rooms.values():
            for message in room:
                if message["id"] == id:
                    return {**message, "__typename": "Message"}
        return None

    return {
        "Query": {
            "messages": messages,
            "counter": counter,
            "other": lambda _, __: store.other,
            "item": lambda _, __, id: store.items.get(id),
            "node": node,
            "viewer": lambda _, info: info.context.get("user"),
            "slow": slow,
            "price": lambda _, __: Decimal("1.50"),  # Money serializes as-is: not JSON-encodable
        }
    }


def make_app(store: Store, sdl: str = SDL, **options: Any) -> LiveGQL:
    """An app over `store`. The rate cap is raised so that, by default, only the coalescing window delays a run."""
    options.setdefault("keepalive_interval", None)
    options.setdefault("live_max_executions_per_second", 1000.0)
    return LiveGQL(sdl, resolvers=make_resolvers(store), **options)


async def on_server(server: LiveServer, function: Callable[[], T]) -> T:
    """Call `function` on the server's loop (where the hub and the store's readers live)."""

    async def run() -> T:
        return function()

    return await server.acall(run())


async def update(server: LiveServer, *keys: str, change: Callable[[], None] | None = None) -> None:
    """Change the store, then invalidate `keys`, both on the server's loop."""

    async def run() -> None:
        if change is not None:
            change()
        await server.app.invalidate(*keys)

    await server.acall(run())


async def executions(server: LiveServer) -> int:
    return await on_server(server, lambda: server.app.live.executions)


async def query_count(server: LiveServer) -> int:
    return await on_server(server, lambda: server.app.live.query_count)


async def listeners(server: LiveServer) -> int:
    return await on_server(server, lambda: server.app.pubsub.subscriber_count(INVALIDATION_TOPIC))


async def subscribe(
    peer: RawPeer,
    id: str,
    query: str,
    variables: dict[str, Any] | None = None,
    extensions: dict[str, Any] | None = None,
) -> None:
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    if extensions is not None:
        payload["extensions"] = extensions
    await peer.send({"id": id, "type": "subscribe", "payload": payload})


async def next_payload(peer: RawPeer, id: str) -> dict[str, Any]:
    """The payload of the next message, which must be a Next for `id`."""
    message = await peer.receive()
    assert message["type"] == "next", message
    assert message["id"] == id, message
    payload: dict[str, Any] = message["payload"]
    return payload


async def next_payloads(peer: RawPeer, *ids: str) -> dict[str, dict[str, Any]]:
    """One Next for each of `ids`, in whatever order they come (and nothing else meanwhile)."""
    received: dict[str, dict[str, Any]] = {}
    while len(received) < len(ids):
        message = await peer.receive()
        assert message["type"] == "next", message
        assert message["id"] in ids, message
        assert message["id"] not in received, message
        received[message["id"]] = message["payload"]
    return received


async def barrier(peer: RawPeer) -> list[dict[str, Any]]:
    """Ping and wait for the Pong: returns what arrived before it. The server queues the Pong behind every
    frame already queued for this socket, so an empty list proves nothing was pending."""
    await peer.send({"type": "ping"})
    before: list[dict[str, Any]] = []
    while (message := await peer.receive())["type"] != "pong":
        before.append(message)
    return before
