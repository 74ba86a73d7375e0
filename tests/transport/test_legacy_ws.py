"""The legacy subscriptions-transport-ws protocol (subprotocol `graphql-ws`) end to end: negotiated on the same
path, the same hooks, limits, shared fan-out and positions as graphql-transport-ws."""

from typing import Any

from websockets.asyncio.client import ClientConnection

from livegql import LiveGQL, PubSub
from livegql.core.errors import ConnectionRejectedError
from tests.support.schema import SDL, make_resolvers
from tests.support.server import LiveServer, serve
from tests.support.wsclient import RawPeer, connect

LEGACY = ("graphql-ws",)
WATCH = 'subscription { topic(name: "news") }'


async def receive_type(peer: RawPeer, type_: str) -> dict[str, Any]:
    """The next message of `type_`, skipping keep-alives (`ka`)."""
    while True:
        message = await peer.receive()
        if message["type"] == type_:
            return message
        assert message["type"] == "ka", f"expected {type_}, got {message}"


async def start(peer: RawPeer, id: str, query: str, **extensions: Any) -> None:
    payload: dict[str, Any] = {"query": query}
    if extensions:
        payload["extensions"] = extensions
    await peer.send({"id": id, "type": "start", "payload": payload})


def subprotocol_of(peer: RawPeer) -> str | None:
    connection: ClientConnection = peer.connection
    return connection.subprotocol


async def test_a_query_and_a_subscription_over_the_legacy_protocol(server: LiveServer) -> None:
    async with connect(server.ws_url, subprotocols=LEGACY) as peer:
        assert subprotocol_of(peer) == "graphql-ws"
        await peer.send({"type": "connection_init", "payload": {}})
        assert (await receive_type(peer, "connection_ack"))["type"] == "connection_ack"
        await start(peer, "q", "{ hello }")
        assert (await receive_type(peer, "data")) == {
            "id": "q",
            "type": "data",
            "payload": {"data": {"hello": "Hello, world!"}},
        }
        assert (await receive_type(peer, "complete")) == {"id": "q", "type": "complete"}

        await start(peer, "s", WATCH, acknowledge=True)
        ack = await receive_type(peer, "data")
        assert ack["payload"]["extensions"]["subscribed"] is True
        position = await server.acall(server.app.pubsub.publish("news", "one"))
        event = await receive_type(peer, "data")
        assert event["payload"] == {"data": {"topic": "one"}, "extensions": {"position": position}}
        await peer.send({"id": "s", "type": "stop"})
        await server.acall(server.app.pubsub.publish("news", "after stop"))
        await start(peer, "q2", "{ hello }")  # the next frame is this answer, not the stopped event
        assert (await receive_type(peer, "data"))["id"] == "q2"


async def test_starts_sent_before_the_ack_run_once_the_connection_is_accepted(server: LiveServer) -> None:
    async with connect(server.ws_url, subprotocols=LEGACY) as peer:
        # The reference client does this: it does not wait for connection_ack before its first start.
        await peer.send({"type": "connection_init", "payload": {}})
        await start(peer, "q", "{ hello }")
        await receive_type(peer, "connection_ack")
        assert (await receive_type(peer, "data"))["payload"] == {"data": {"hello": "Hello, world!"}}


async def test_a_start_before_connection_init_is_refused_and_runs_nothing(server: LiveServer) -> None:
    async with connect(server.ws_url, subprotocols=LEGACY) as peer:
        await start(peer, "early", 'mutation { publish(topic: "t", text: "x") }')
        refused = await peer.receive()
        assert (refused["type"], refused["id"]) == ("error", "early")
        assert await server.acall(server.app.pubsub.publish("probe", 1)) is not None  # the server is fine


async def test_on_connect_refusal_is_a_connection_error_then_4403_and_no_start_runs() -> None:
    published: list[str] = []

    def on_connect(params: dict[str, Any], _request: Any) -> bool:
        if params.get("token") != "secret":
            raise ConnectionRejectedError("bad token")
        return True

    resolvers = make_resolvers()
    original = resolvers["Mutation"]["publish"]

    async def publish(root: Any, info: Any, topic: str, text: str) -> bool:
        published.append(text)
        result: bool = await original(root, info, topic=topic, text=text)
        return result

    resolvers["Mutation"]["publish"] = publish
    app = LiveGQL(SDL, resolvers=resolvers, pubsub=PubSub(), on_connect=on_connect, keepalive_interval=None)
    with serve(app) as live:
        async with connect(live.ws_url, subprotocols=LEGACY) as peer:
            await peer.send({"type": "connection_init", "payload": {"token": "wrong"}})
            await start(peer, "m", 'mutation { publish(topic: "t", text: "sneaky") }')
            error = await peer.receive()
            assert error == {"type": "connection_error", "payload": {"message": "bad token"}}
            assert await peer.closed() == (4403, "bad token")
    assert published == []


async def test_a_message_over_the_size_limit_closes_4400() -> None:
    app = LiveGQL(SDL, resolvers=make_resolvers(), pubsub=PubSub(), max_message_bytes=1024)
    with serve(app) as live:
        async with connect(live.ws_url, subprotocols=LEGACY) as peer:
            await peer.send({"type": "connection_init", "payload": {"pad": "x" * 2048}})
            # Legacy clients learn why only from connection_error: it comes before the close.
            assert await peer.receive() == {"type": "connection_error", "payload": {"message": "Message too large"}}
            assert await peer.closed() == (4400, "Message too large")


async def test_legacy_and_modern_subscribers_share_one_stream(server: LiveServer) -> None:
    async with connect(server.ws_url, subprotocols=LEGACY) as legacy, connect(server.ws_url) as modern:
        await legacy.send({"type": "connection_init", "payload": {}})
        await receive_type(legacy, "connection_ack")
        await modern.init()
        await start(legacy, "l", WATCH, acknowledge=True)
        await receive_type(legacy, "data")
        await modern.send(
            {"id": "m", "type": "subscribe", "payload": {"query": WATCH, "extensions": {"acknowledge": True}}}
        )
        await modern.receive_type("next")
        assert await server.acall(_stream_count(server.app)) == 1
        await server.acall(server.app.pubsub.publish("news", "both"))
        assert (await receive_type(legacy, "data"))["payload"]["data"] == {"topic": "both"}
        assert (await modern.receive_type("next"))["payload"]["data"] == {"topic": "both"}


async def _stream_count(app: LiveGQL) -> int:
    return app.subscriptions.stream_count
