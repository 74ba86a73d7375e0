"""`Client` against a real LiveGQL server: execute, subscribe, errors, early exit, closing."""

import asyncio
from typing import Any

import pytest
from starlette.requests import HTTPConnection

from livegql import LiveGQL
from livegql.client import Client, ClientConnectionError, ClientError, ConnectionClosedError
from tests.client.support import closed_port, publish, subscriber_count, wait_for_subscribers
from tests.support.schema import SDL, make_resolvers
from tests.support.server import LiveServer, serve


async def test_execute_returns_the_data_of_queries_and_mutations(server: LiveServer) -> None:
    async with Client(server.ws_url) as client:
        assert await client.execute("{ hello }") == {"hello": "Hello, world!"}
        document = "query A { add(a: 1, b: 2) } query B($n: String) { hello(name: $n) }"
        assert await client.execute(document, {"n": "ann"}, operation_name="B") == {"hello": "Hello, ann!"}
        mutation = 'mutation { publish(topic: "t", text: "x") }'
        assert await client.execute(mutation) == {"publish": True}


async def test_concurrent_operations_share_the_socket(server: LiveServer) -> None:
    async with Client(server.ws_url) as client:
        query = "query Add($a: Int!) { add(a: $a, b: 1) }"
        results = await asyncio.gather(*(client.execute(query, {"a": n}) for n in range(20)))
        assert [result["add"] for result in results] == list(range(1, 21))


async def test_validation_error_raises_client_error_with_the_errors(server: LiveServer) -> None:
    async with Client(server.ws_url) as client:
        with pytest.raises(ClientError, match="Cannot query field 'nope'") as raised:
            await client.execute("{ nope }")
        assert raised.value.errors[0]["locations"] == [{"line": 1, "column": 3}]
        assert await client.execute("{ hello }") == {"hello": "Hello, world!"}  # the socket is still fine


async def test_resolver_error_in_a_result_raises_client_error(server: LiveServer) -> None:
    async with Client(server.ws_url) as client:
        with pytest.raises(ClientError, match=r"^Internal server error$") as raised:
            await client.execute("{ hello boom }")
        assert raised.value.errors[0]["path"] == ["boom"]


async def test_subscribe_yields_each_event_until_the_server_completes(server: LiveServer) -> None:
    async with Client(server.ws_url) as client:
        events = [data async for data in client.subscribe("subscription { count(to: 5) }")]
        assert events == [{"count": n} for n in range(1, 6)]


async def test_leaving_the_loop_early_completes_the_subscription_on_the_server(server: LiveServer) -> None:
    async def publish_once_subscribed() -> None:
        await wait_for_subscribers(server, 1)
        await publish(server, "news", "first")

    async with Client(server.ws_url) as client, asyncio.TaskGroup() as group:
        group.create_task(publish_once_subscribed())
        async for data in client.subscribe('subscription { topic(name: "news") }'):
            assert data == {"topic": "first"}
            break
        await wait_for_subscribers(server, 0)
        assert await client.execute("{ hello }") == {"hello": "Hello, world!"}


async def test_aclose_of_a_subscription_completes_it(server: LiveServer) -> None:
    async with Client(server.ws_url) as client:
        async with client.subscribe('subscription { topic(name: "news") }') as subscription:
            await wait_for_subscribers(server, 1)
        await wait_for_subscribers(server, 0)
        assert [data async for data in subscription] == []


async def test_error_message_ends_the_subscription_with_client_error(server: LiveServer) -> None:
    async with Client(server.ws_url) as client:
        with pytest.raises(ClientError, match="Cannot query field 'nope'"):
            async for _ in client.subscribe("subscription { nope }"):
                pass
        received: list[dict[str, Any]] = []

        async def consume() -> None:
            async for data in client.subscribe("subscription { failing }"):
                received.append(data)

        with pytest.raises(ClientError, match="Internal server error") as raised:
            await consume()
        assert received == [{"failing": 1}]
        assert raised.value.errors[0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}


async def test_connection_params_reach_on_connect() -> None:
    def on_connect(params: dict[str, Any], _: HTTPConnection) -> dict[str, Any]:
        return {"user": params["token"]}

    app = LiveGQL(SDL, resolvers=make_resolvers(), on_connect=on_connect, keepalive_interval=None)
    with serve(app) as live:
        async with Client(live.ws_url, connection_params={"token": "ann"}) as client:
            assert await client.execute("{ whoami }") == {"whoami": "ann"}


async def test_on_connect_rejection_raises_connection_closed_4403() -> None:
    app = LiveGQL(SDL, resolvers=make_resolvers(), on_connect=lambda *_: False, keepalive_interval=None)
    with serve(app) as live:
        client = Client(live.ws_url)
        with pytest.raises(ConnectionClosedError, match="4403: Forbidden") as raised:
            await client.connect()
        assert raised.value.close_code == 4403
        with pytest.raises(ConnectionClosedError):  # the client stays failed
            await client.execute("{ hello }")
        await client.aclose()


async def test_refused_connection_raises_client_connection_error() -> None:
    port = closed_port()
    with pytest.raises(ClientConnectionError, match=f"cannot connect to 127.0.0.1:{port}: connection refused"):
        async with Client(f"ws://127.0.0.1:{port}/graphql"):
            pass


async def test_aclose_fails_pending_operations_and_leaves_no_task(server: LiveServer) -> None:
    client = Client(server.ws_url)
    await client.connect()
    subscription = client.subscribe('subscription { topic(name: "news") }')
    await wait_for_subscribers(server, 1)
    await client.aclose()
    with pytest.raises(ClientError, match="closed"):
        await anext(subscription)
    with pytest.raises(ClientError, match="closed"):
        await client.execute("{ hello }")
    assert asyncio.all_tasks() == {asyncio.current_task()}
    await wait_for_subscribers(server, 0)
    await client.aclose()  # idempotent


async def test_a_reader_that_falls_behind_gets_client_error_and_is_completed(server: LiveServer) -> None:
    async with Client(server.ws_url, queue_size=2) as client:
        subscription = client.subscribe('subscription { topic(name: "news") }')
        await wait_for_subscribers(server, 1)
        for n in range(3):
            await publish(server, "news", str(n))
        await wait_for_subscribers(server, 0)  # the third event overflowed: the client completed it
        assert await anext(subscription) == {"topic": "0"}
        assert await anext(subscription) == {"topic": "1"}
        with pytest.raises(ClientError, match="fell more than 2 results behind"):
            await anext(subscription)
        assert await subscriber_count(server) == 0


def test_urls_other_than_ws_are_refused() -> None:
    with pytest.raises(ValueError, match="ws:// or wss://"):
        Client("http://127.0.0.1/graphql")


async def test_a_refused_upgrade_raises_client_connection_error_with_the_status(server: LiveServer) -> None:
    with pytest.raises(ClientConnectionError, match="refused the WebSocket upgrade with HTTP 403"):
        async with Client(f"ws://127.0.0.1:{server.port}/elsewhere"):
            pass
