"""The `gql` library (WebsocketsTransport on graphql-transport-ws and on the legacy graphql-ws protocol,
HTTPXAsyncTransport) against a live server."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from websockets.exceptions import ConnectionClosed

from livegql import LiveGQL, PubSub
from livegql.engine.results import MASKED_MESSAGE
from livegql.protocol import CloseCode
from tests.interop.conftest import ADMIT_TOKEN, REJECT_REASON, Door
from tests.interop.gql_clients import LIMIT, collect, http_session, request, subscribed, ws_session, ws_transport
from tests.support.schema import SDL, make_resolvers
from tests.support.server import LiveServer, serve


async def drain(stream: AsyncIterator[dict[str, Any]], field: str, into: list[Any]) -> None:
    """Append every value of `field` to `into` until the stream ends (or raises)."""
    async for data in stream:
        into.append(data[field])


async def mutation_reaches_subscription(
    server: LiveServer, watcher: AsyncClientSession, writer: AsyncClientSession, topic: str, text: str
) -> None:
    """`watcher` subscribes to `topic`; once the server holds it, `writer`'s publish mutation must reach it."""
    subscription = request("subscription Watch($t: String!) { topic(name: $t) }", t=topic)
    async with aclosing(watcher.subscribe(subscription)) as stream:
        received = asyncio.create_task(collect(stream, "topic", 1))
        await subscribed(server, topic)
        publish = "mutation Post($topic: String!, $text: String!) { publish(topic: $topic, text: $text) }"
        assert await writer.execute(request(publish, topic=topic, text=text)) == {"publish": True}
        assert await asyncio.wait_for(received, LIMIT) == [text]


def server_close(error: BaseException) -> tuple[int, str] | None:
    """The close frame the server sent, found on the websockets exception gql chains its own onto."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ConnectionClosed) and cause.rcvd is not None:
            return cause.rcvd.code, cause.rcvd.reason
        cause = cause.__cause__ or cause.__context__
    return None


# -- WebsocketsTransport -------------------------------------------------------------------------------


async def test_ws_query_with_variables(server: LiveServer) -> None:
    async with ws_session(server.ws_url) as session:
        result = await session.execute(request("query Greet($n: String) { hello(name: $n) }", n="gql"))
    assert result == {"hello": "Hello, gql!"}


async def test_ws_default_offer_negotiates_graphql_transport_ws(server: LiveServer) -> None:
    # gql offers the legacy "graphql-ws" first; the server must pick the one it speaks, and gql must follow.
    transport = WebsocketsTransport(url=server.ws_url, connect_timeout=LIMIT, ack_timeout=LIMIT)
    async with Client(transport=transport, execute_timeout=LIMIT) as session:
        assert transport.subprotocol == WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL
        assert await session.execute(request("{ add(a: 2, b: 3) }")) == {"add": 5}


async def test_ws_mutation_reaches_a_subscription_on_another_connection(server: LiveServer) -> None:
    async with ws_session(server.ws_url) as watcher, ws_session(server.ws_url) as writer:
        await mutation_reaches_subscription(server, watcher, writer, "news", "extra")


async def test_ws_subscription_streams_every_event_in_order_then_ends(server: LiveServer) -> None:
    async with ws_session(server.ws_url) as session:
        stream = session.subscribe(request("subscription Count($to: Int!) { count(to: $to) }", to=100))
        # Plain `async for` to exhaustion: the loop ends only if gql saw the server's Complete.
        values = [data["count"] async for data in stream]
    assert values == list(range(1, 101))


async def test_ws_concurrent_subscriptions_on_one_socket_each_stay_in_order(server: LiveServer) -> None:
    async def count(session: AsyncClientSession, to: int) -> list[int]:
        stream = session.subscribe(request("subscription Count($to: Int!) { count(to: $to) }", to=to))
        return [data["count"] async for data in stream]

    async with ws_session(server.ws_url) as session:
        results = await asyncio.gather(*(count(session, to) for to in (40, 50, 60, 70)))
    assert results == [list(range(1, to + 1)) for to in (40, 50, 60, 70)]


async def test_ws_pubsub_events_arrive_in_publish_order_and_closing_releases_the_subscriber(
    server: LiveServer,
) -> None:
    pubsub = server.app.pubsub
    async with ws_session(server.ws_url) as session:
        async with aclosing(session.subscribe(request('subscription { topic(name: "feed") }'))) as stream:
            received = asyncio.create_task(collect(stream, "topic", 30))
            await subscribed(server, "feed")
            for number in range(30):
                await server.acall(pubsub.publish("feed", f"event {number}"))
            assert await asyncio.wait_for(received, LIMIT) == [f"event {number}" for number in range(30)]
        # gql sent Complete when the generator closed; the socket is still open, so only that freed it.
        await subscribed(server, "feed", expected=0)
        assert await session.execute(request("{ hello }")) == {"hello": "Hello, world!"}


async def test_ws_resolver_error_raises_transport_query_error_with_the_masked_message(server: LiveServer) -> None:
    async with ws_session(server.ws_url) as session:
        with pytest.raises(TransportQueryError) as caught:
            await session.execute(request("{ boom }"))
        assert caught.value.errors is not None
        assert caught.value.errors[0]["message"] == MASKED_MESSAGE
        assert caught.value.errors[0]["path"] == ["boom"]
        assert caught.value.data == {"boom": None}
        assert MASKED_MESSAGE in str(caught.value)
        assert "password" not in str(caught.value)


async def test_ws_validation_error_raises_and_the_connection_keeps_serving(server: LiveServer) -> None:
    async with ws_session(server.ws_url) as session:
        with pytest.raises(TransportQueryError) as caught:
            await session.execute(request("{ nope }"))
        assert caught.value.errors is not None
        assert "Cannot query field 'nope' on type 'Query'." in caught.value.errors[0]["message"]
        assert "Cannot query field 'nope'" in str(caught.value)
        assert await session.execute(request("{ add(a: 1, b: 1) }")) == {"add": 2}


async def test_ws_subscription_source_failure_raises_after_the_first_event(server: LiveServer) -> None:
    async with ws_session(server.ws_url) as session:
        values: list[int] = []
        with pytest.raises(TransportQueryError) as caught:
            await drain(session.subscribe(request("subscription { failing }")), "failing", values)
        assert values == [1]
        assert caught.value.errors is not None
        assert caught.value.errors[0]["message"] == MASKED_MESSAGE


async def test_ws_init_payload_reaches_on_connect_and_its_context(guarded_server: LiveServer, door: Door) -> None:
    payload = {"token": ADMIT_TOKEN, "user": "ann", "nested": {"n": 1}}
    async with ws_session(guarded_server.ws_url, init_payload=payload) as session:
        assert await session.execute(request("{ whoami }")) == {"whoami": "ann"}
    assert door.seen == [payload]


async def test_ws_on_connect_rejection_closes_4403_and_gql_raises(guarded_server: LiveServer, door: Door) -> None:
    with pytest.raises(TransportError) as caught:
        async with ws_session(guarded_server.ws_url, init_payload={"token": "wrong"}):
            pytest.fail("the connection should have been refused")
    assert server_close(caught.value) == (CloseCode.FORBIDDEN, REJECT_REASON)
    assert door.seen == [{"token": "wrong"}]


async def test_ws_operation_name_selects_one_operation_of_a_document(server: LiveServer) -> None:
    document = "query A { hello } query B { add(a: 1, b: 2) }"
    async with ws_session(server.ws_url) as session:
        assert await session.execute(GraphQLRequest(document, operation_name="B")) == {"add": 3}


async def test_ws_client_ping_is_answered_with_pong(server: LiveServer) -> None:
    transport = ws_transport(server.ws_url)
    async with Client(transport=transport, execute_timeout=LIMIT):
        await transport.send_ping({"seq": 1})
        await asyncio.wait_for(transport.pong_received.wait(), LIMIT)
        # Only the Pong itself is asserted: livegql sends it bare on purpose (tests/protocol: "reported but
        # not echoed"), while graphql-ws's server echoes the payload; the protocol leaves that optional.


async def test_ws_server_keepalive_pings_are_answered_and_the_socket_keeps_serving(pubsub: PubSub) -> None:
    app = LiveGQL(SDL, resolvers=make_resolvers(), pubsub=pubsub, keepalive_interval=0.05)
    with serve(app) as live:
        transport = ws_transport(live.ws_url)
        async with Client(transport=transport, execute_timeout=LIMIT) as session:
            for _ in range(3):  # several rounds: gql's pong must not upset the server's machine
                transport.ping_received.clear()
                await asyncio.wait_for(transport.ping_received.wait(), LIMIT)
                assert await session.execute(request("{ hello }")) == {"hello": "Hello, world!"}


async def test_ws_legacy_only_offer_is_closed_4406_when_the_legacy_protocol_is_off(pubsub: PubSub) -> None:
    app = LiveGQL(SDL, resolvers=make_resolvers(), pubsub=pubsub, legacy_protocol=False)
    with serve(app) as live:
        transport = ws_transport(live.ws_url, subprotocols=[WebsocketsTransport.APOLLO_SUBPROTOCOL])
        with pytest.raises(TransportError) as caught:
            async with Client(transport=transport, execute_timeout=LIMIT):
                pytest.fail("a server without the legacy protocol should have closed the socket")
    close = server_close(caught.value)
    assert close is not None
    assert close[0] == CloseCode.SUBPROTOCOL_NOT_ACCEPTABLE


# -- HTTPXAsyncTransport -------------------------------------------------------------------------------


async def test_http_query_with_variables(server: LiveServer) -> None:
    async with http_session(server.http_url) as session:
        result = await session.execute(request("query Sum($a: Int!, $b: Int!) { add(a: $a, b: $b) }", a=40, b=2))
    assert result == {"add": 42}


async def test_http_mutation_publishes_to_a_websocket_subscriber(server: LiveServer) -> None:
    async with ws_session(server.ws_url) as watcher, http_session(server.http_url) as writer:
        await mutation_reaches_subscription(server, watcher, writer, "mixed", "over http")


async def test_http_resolver_error_raises_transport_query_error_with_partial_data(server: LiveServer) -> None:
    async with http_session(server.http_url) as session:
        with pytest.raises(TransportQueryError) as caught:
            await session.execute(request("{ hello boom }"))
    assert caught.value.data == {"hello": "Hello, world!", "boom": None}
    assert caught.value.errors is not None
    assert [error["message"] for error in caught.value.errors] == [MASKED_MESSAGE]
    assert "password" not in str(caught.value)


async def test_http_operation_name_selects_one_operation_of_a_document(server: LiveServer) -> None:
    document = "query A { hello } query B { add(a: 1, b: 2) }"
    async with http_session(server.http_url) as session:
        assert await session.execute(GraphQLRequest(document, operation_name="A")) == {"hello": "Hello, world!"}


async def test_http_validation_and_variable_errors_raise_transport_query_error(server: LiveServer) -> None:
    async with http_session(server.http_url) as session:
        with pytest.raises(TransportQueryError) as unknown_field:
            await session.execute(request("{ nope }"))
        with pytest.raises(TransportQueryError) as bad_variable:
            await session.execute(request("query Sum($a: Int!) { add(a: $a, b: 1) }", a="one"))
    assert unknown_field.value.data is None
    assert unknown_field.value.errors is not None
    assert "Cannot query field 'nope'" in unknown_field.value.errors[0]["message"]
    assert bad_variable.value.errors is not None
    assert "$a" in bad_variable.value.errors[0]["message"]


# -- WebsocketsTransport on the legacy subscriptions-transport-ws protocol -----------------------------


async def test_ws_legacy_protocol_query_subscription_and_mutation(server: LiveServer) -> None:
    def legacy() -> WebsocketsTransport:
        return WebsocketsTransport(
            url=server.ws_url,
            subprotocols=[WebsocketsTransport.APOLLO_SUBPROTOCOL],
            connect_timeout=LIMIT,
            ack_timeout=LIMIT,
        )

    watcher_transport, writer_transport = legacy(), legacy()
    async with (
        Client(transport=watcher_transport, execute_timeout=LIMIT) as watcher,
        Client(transport=writer_transport, execute_timeout=LIMIT) as writer,
    ):
        assert watcher_transport.subprotocol == WebsocketsTransport.APOLLO_SUBPROTOCOL
        assert await writer.execute(request("{ add(a: 2, b: 3) }")) == {"add": 5}
        stream = watcher.subscribe(request("subscription Count($to: Int!) { count(to: $to) }", to=50))
        assert [data["count"] async for data in stream] == list(range(1, 51))
        await mutation_reaches_subscription(server, watcher, writer, "legacy-news", "hello")
