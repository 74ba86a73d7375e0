"""Plain WebSocket mode end to end: a client that offers no subprotocol sends bare GraphQL requests and reads
bare results, under the same `on_connect`, limits and shared fan-out as the GraphQL protocols."""

import contextlib
from typing import Any

from websockets.exceptions import ConnectionClosed

from livegql import LiveGQL, PubSub
from livegql.core.errors import ConnectionRejectedError
from tests.support.schema import SDL, make_resolvers
from tests.support.server import LiveServer, serve
from tests.support.waiting import until
from tests.support.wsclient import connect

PLAIN: tuple[str, ...] = ()


async def test_a_query_gets_one_bare_result(server: LiveServer) -> None:
    async with connect(server.ws_url, subprotocols=PLAIN) as peer:
        assert peer.connection.subprotocol is None
        await peer.send({"query": "query Greet($n: String) { hello(name: $n) }", "variables": {"n": "plain"}})
        assert await peer.receive() == {"data": {"hello": "Hello, plain!"}}
        await peer.send({"query": "{ add(a: 1, b: 2) }"})  # the socket serves request after request
        assert await peer.receive() == {"data": {"add": 3}}


async def test_a_subscription_streams_results_and_a_new_request_stops_it(server: LiveServer) -> None:
    async with connect(server.ws_url, subprotocols=PLAIN) as peer:
        await peer.send({"query": 'subscription { topic(name: "plain") }'})
        await until(lambda: _subscribers(server, "plain", 1), what="the plain subscription to register")
        for text in ("a", "b"):
            await server.acall(server.app.pubsub.publish("plain", text))
            result = await peer.receive()
            assert result["data"] == {"topic": text}
        await peer.send({"query": "{ hello }"})  # replaces the subscription
        assert await peer.receive() == {"data": {"hello": "Hello, world!"}}
        await until(lambda: _subscribers(server, "plain", 0), what="the replaced subscription to be released")


async def test_bad_requests_get_errors_and_the_socket_stays_open(server: LiveServer) -> None:
    async with connect(server.ws_url, subprotocols=PLAIN) as peer:
        await peer.connection.send("not json")
        assert (await peer.receive())["errors"][0]["message"] == "Message is not valid UTF-8 JSON"
        await peer.send({"query": 5})
        assert "query must be a string" in (await peer.receive())["errors"][0]["message"]
        await peer.send({"query": "{ nope }"})
        assert "nope" in (await peer.receive())["errors"][0]["message"]
        await peer.send({"query": "{ hello }"})
        assert await peer.receive() == {"data": {"hello": "Hello, world!"}}


async def test_on_connect_sees_the_request_and_refuses_with_4403_before_anything_runs() -> None:
    ran: list[str] = []

    def on_connect(_params: dict[str, Any], request: Any) -> bool:
        if request.headers.get("authorization") != "Bearer ok":
            raise ConnectionRejectedError("no token")
        return True

    resolvers = make_resolvers()

    def hello(_: Any, __: Any, name: str) -> str:
        ran.append(name)
        return name

    resolvers["Query"]["hello"] = hello
    app = LiveGQL(SDL, resolvers=resolvers, pubsub=PubSub(), on_connect=on_connect, keepalive_interval=None)
    with serve(app) as live:
        async with connect(live.ws_url, subprotocols=PLAIN) as peer:
            with contextlib.suppress(ConnectionClosed):  # the refusal may close the socket first
                await peer.send({"query": '{ hello(name: "sneaky") }'})
            assert await peer.closed() == (4403, "no token")
    assert ran == []


async def test_a_message_over_the_size_limit_closes_4400() -> None:
    app = LiveGQL(SDL, resolvers=make_resolvers(), pubsub=PubSub(), max_message_bytes=1024)
    with serve(app) as live:
        async with connect(live.ws_url, subprotocols=PLAIN) as peer:
            await peer.send({"query": "{ hello }", "variables": {"pad": "x" * 2048}})
            assert await peer.closed() == (4400, "Message too large")


async def _subscribers(server: LiveServer, topic: str, count: int) -> bool:
    async def current() -> int:
        return server.app.pubsub.subscriber_count(topic)

    return await server.acall(current()) == count
