"""Connection limits over a real server: operations per connection, subscribes per second, connections per
client address and in total; refused ones get an error (or 1013 / 503) and the rest go on."""

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from livegql import LiveGQL, PubSub
from livegql.protocol import CloseCode
from tests.support.schema import SDL, make_resolvers
from tests.support.server import LiveServer, serve, subscribers
from tests.support.streams import EVENT_STREAM, MULTIPART, open_stream, stream_client
from tests.support.waiting import until
from tests.support.wsclient import RawPeer, connect

TOPIC = 'subscription { topic(name: "news") }'
ONE = "subscription { count(to: 1) }"
FAILING = "subscription { failing }"
LIVE = "query @live { hello }"


@pytest.fixture
def make_server() -> Iterator[Any]:
    servers: list[Any] = []

    def start(**settings: Any) -> LiveServer:
        app = LiveGQL(SDL, resolvers=make_resolvers(), pubsub=PubSub(), keepalive_interval=None, **settings)
        context = serve(app)
        servers.append(context)
        return context.__enter__()

    yield start
    for context in reversed(servers):
        context.__exit__(None, None, None)


async def _until_ended(peer: RawPeer, ids: set[str]) -> None:
    """Read until every operation in `ids` got its complete or error."""
    waiting = set(ids)
    while waiting:
        message = await peer.receive()
        if message["type"] in ("complete", "error"):
            waiting.discard(message["id"])


async def _open_connections(server: LiveServer) -> int:
    async def total() -> int:
        return server.app.runtime.connections.total

    return await server.acall(total())


async def _connections_drop_to(server: LiveServer, expected: int) -> None:
    async def reached() -> bool:
        return await _open_connections(server) == expected

    await until(reached, limit=10.0, what=f"{expected} open connections")


async def test_an_operation_beyond_the_limit_gets_an_error_and_the_others_keep_streaming(make_server: Any) -> None:
    server = make_server(max_operations_per_connection=3)
    async with connect(server.ws_url) as peer:
        await peer.init()
        for id in ("1", "2", "3", "4"):
            await peer.subscribe(id, TOPIC)  # shared: one stream, one pubsub subscriber, three members
        refused = await peer.receive_type("error")
        assert refused["id"] == "4"
        assert refused["payload"][0]["extensions"]["code"] == "TOO_MANY_OPERATIONS"

        async def subscribed() -> bool:
            return await subscribers(server, "news") == 1

        await until(subscribed, what="the shared stream's subscriber")
        await server.acall(server.app.pubsub.publish("news", "hi"))
        nexts = [await peer.receive_type("next") for _ in range(3)]
        assert sorted(message["id"] for message in nexts) == ["1", "2", "3"]


async def test_operations_that_ended_free_their_slots(make_server: Any) -> None:
    server = make_server(max_operations_per_connection=100, max_subscribes_per_second=10_000)
    async with connect(server.ws_url) as peer:
        await peer.init()
        # 100 operations that end every way: server complete, error, query finished, client complete.
        kinds = [ONE, FAILING, "{ hello }", TOPIC, LIVE]
        for n in range(100):
            await peer.subscribe(f"a{n}", kinds[n % 5])
        client_stopped = {f"a{n}" for n in range(100) if n % 5 >= 3}
        for id in client_stopped:
            await peer.send({"id": id, "type": "complete"})
        await _until_ended(peer, {f"a{n}" for n in range(100)} - client_stopped)
        # All 100 slots are free again: 100 more run at once, the 101st is refused.
        for n in range(101):
            await peer.subscribe(f"b{n}", TOPIC)
        # A stopped live query may still deliver the result it had sent before its stop arrived: skip those.
        refused = await peer.receive()
        while refused["type"] != "error" and refused.get("id", "").startswith("a"):
            refused = await peer.receive()
        assert (refused["id"], refused["payload"][0]["extensions"]["code"]) == ("b100", "TOO_MANY_OPERATIONS")


async def test_a_burst_beyond_the_subscribe_rate_is_refused_and_the_connection_stays(make_server: Any) -> None:
    server = make_server(max_subscribes_per_second=3)
    async with connect(server.ws_url) as peer:
        await peer.init()
        for n in range(5):
            await peer.subscribe(str(n), ONE)
        await peer.subscribe("query", "{ hello }")  # queries spend no token
        outcomes: dict[str, str] = {}
        while len(outcomes) < 6:
            message = await peer.receive()
            if message["type"] == "complete":
                outcomes[message["id"]] = "complete"
            elif message["type"] == "error":
                outcomes[message["id"]] = message["payload"][0]["extensions"]["code"]
        # The first 3 are the burst; the test's 5 sends take far less than the 1/3 s a token needs.
        assert [outcomes[str(n)] for n in range(5)] == ["complete"] * 3 + ["RATE_LIMITED"] * 2
        assert outcomes["query"] == "complete"
        await peer.send({"type": "ping"})
        assert (await peer.receive_type("pong"))["type"] == "pong"


async def _refused_stream(server: LiveServer, accept: str) -> tuple[int, str | None, Any]:
    async with (
        stream_client() as client,
        open_stream(client, server.http_url, {"query": ONE}, accept=accept) as response,
    ):
        await response.aread()
        return response.status_code, response.headers.get("retry-after"), response.json()


@pytest.mark.parametrize("limit", ["max_connections_per_client", "max_connections"])
async def test_a_connection_beyond_the_limit_is_refused_until_one_closes(make_server: Any, limit: str) -> None:
    server = make_server(**{limit: 2})
    async with connect(server.ws_url) as first:
        await first.init()
        async with connect(server.ws_url) as second:
            await second.init()
            async with connect(server.ws_url) as third:
                assert await third.closed() == (CloseCode.TRY_AGAIN_LATER, "Too many connections; try again later")
            for accept in (EVENT_STREAM, MULTIPART):
                status, retry_after, body = await _refused_stream(server, accept)
                assert (status, retry_after) == (503, "1")
                assert body["errors"][0]["message"] == "Too many connections; try again later"
        await _connections_drop_to(server, 1)
        async with connect(server.ws_url) as again:
            await again.init()
            await again.subscribe("1", ONE)
            assert (await again.receive_type("next"))["payload"] == {"data": {"count": 1}}


async def _ws_cycle(server: LiveServer, n: int) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        if n % 2:
            await peer.send({"type": "bogus"})  # the server closes (4400)
            await peer.closed()
        else:
            await peer.subscribe("1", TOPIC)  # the client goes away mid-subscription


async def _stream_cycle(server: LiveServer, client: httpx.AsyncClient, n: int) -> None:
    query = ONE if n % 2 else TOPIC  # ends by itself, or the client leaves mid-stream
    async with open_stream(client, server.http_url, {"query": query}, accept=EVENT_STREAM) as response:
        assert response.status_code == 200
        if n % 2:
            await response.aread()


async def test_the_counters_return_to_zero_after_a_thousand_connections(make_server: Any) -> None:
    server = make_server(max_connections_per_client=20, max_connections=20)
    async with stream_client() as client:
        for start in range(0, 1000, 10):
            numbers = range(start, start + 10)
            batch = [_ws_cycle(server, n) if n % 4 < 2 else _stream_cycle(server, client, n) for n in numbers]
            await asyncio.gather(*batch)
    await _connections_drop_to(server, 0)

    async def by_client() -> int:
        count: int = server.app.runtime.connections.count("127.0.0.1")
        return count

    assert await server.acall(by_client()) == 0
