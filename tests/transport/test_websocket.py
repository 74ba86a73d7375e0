"""graphql-transport-ws over a real uvicorn socket: every protocol rule, end to end."""

from typing import Any

import pytest

from livegql import LiveGQL, PubSub
from tests.support.schema import SDL, make_resolvers
from tests.support.server import LiveServer, serve
from tests.support.waiting import until
from tests.support.wsclient import connect


async def subscribers(server: LiveServer, pubsub: PubSub) -> int:
    async def count() -> int:
        return pubsub.subscriber_count()

    return await server.acall(count())


async def test_query_next_then_complete(server: LiveServer) -> None:
    async with connect(server.ws_url) as peer:
        assert await peer.init() == {"type": "connection_ack"}
        await peer.subscribe("q", "query Greet($n: String) { hello(name: $n) }", {"n": "ann"})
        assert await peer.receive() == {
            "id": "q",
            "type": "next",
            "payload": {"data": {"hello": "Hello, ann!"}},
        }
        assert await peer.receive() == {"id": "q", "type": "complete"}


async def test_mutation_publishes_to_a_subscription_on_another_socket(server: LiveServer) -> None:
    async with connect(server.ws_url) as watcher, connect(server.ws_url) as writer:
        await watcher.init()
        await watcher.subscribe("s", 'subscription { topic(name: "news") }')
        await until(lambda: _has_subscriber(server), what="the subscription to register")
        await writer.init()
        await writer.subscribe("m", 'mutation { publish(topic: "news", text: "extra") }')
        assert (await writer.receive())["payload"] == {"data": {"publish": True}}
        event = await watcher.receive()
        assert (event["id"], event["type"], event["payload"]["data"]) == ("s", "next", {"topic": "extra"})
        assert set(event["payload"]) == {"data", "extensions"}  # the event's position rides along


async def _has_subscriber(server: LiveServer) -> bool:
    return await subscribers(server, server.app.pubsub) == 1


async def test_subscription_streams_in_order_and_server_completes_when_source_ends(
    server: LiveServer,
) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        await peer.subscribe("c", "subscription { count(to: 50) }")
        values = [(await peer.receive_type("next"))["payload"]["data"]["count"] for _ in range(50)]
        assert values == list(range(1, 51))
        assert await peer.receive() == {"id": "c", "type": "complete"}


async def test_client_complete_stops_the_operation_and_releases_the_subscriber(server: LiveServer) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        await peer.subscribe("s", 'subscription { topic(name: "t") }')
        await until(lambda: _has_subscriber(server), what="the subscription to register")
        await peer.send({"id": "s", "type": "complete"})

        async def released() -> bool:
            return await subscribers(server, server.app.pubsub) == 0

        await until(released, what="the broker to release the subscriber")
        # The id is free again and the socket still serves.
        await peer.subscribe("s", "{ hello }")
        assert (await peer.receive())["type"] == "next"


async def test_validation_error_is_an_error_message_and_the_socket_stays_open(server: LiveServer) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        await peer.subscribe("bad", "{ nope }")
        error = await peer.receive()
        assert error["type"] == "error"
        assert error["id"] == "bad"
        assert "Cannot query field 'nope'" in error["payload"][0]["message"]
        await peer.subscribe("bad", "{ hello }")  # the failed id was released
        assert (await peer.receive())["type"] == "next"


async def test_syntax_error_and_bad_variables_are_error_messages(server: LiveServer) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        await peer.subscribe("a", "{ hello ")
        assert "Syntax Error" in (await peer.receive())["payload"][0]["message"]
        await peer.subscribe("b", "query($a: Int!) { add(a: $a, b: 1) }", {"a": "x"})
        message = await peer.receive()
        assert message["type"] == "error"
        assert "$a" in message["payload"][0]["message"]


async def test_resolver_exception_is_masked(server: LiveServer) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        await peer.subscribe("b", "{ boom }")
        payload = (await peer.receive())["payload"]
        assert payload["data"] == {"boom": None}
        assert payload["errors"][0]["message"] == "Internal server error"
        assert "password" not in str(payload)


async def test_source_failing_mid_stream_sends_a_masked_error(server: LiveServer) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        await peer.subscribe("f", "subscription { failing }")
        assert (await peer.receive())["payload"] == {"data": {"failing": 1}}
        error = await peer.receive()
        assert error["type"] == "error"
        assert error["payload"][0]["message"] == "Internal server error"
        await peer.subscribe("f", "{ hello }")
        assert (await peer.receive())["type"] == "next"


@pytest.mark.parametrize("subprotocols", [["something-else"], ["something-else", "graphql-wss"]])
async def test_other_subprotocols_are_refused_with_4406(server: LiveServer, subprotocols: list[str]) -> None:
    async with connect(server.ws_url, subprotocols=subprotocols) as peer:
        assert await peer.closed() == (4406, "Subprotocol not acceptable")


async def test_no_subprotocol_is_refused_with_4406_when_plain_mode_is_off(pubsub: PubSub) -> None:
    app = LiveGQL(SDL, resolvers=make_resolvers(), pubsub=pubsub, plain_protocol=False)
    with serve(app) as live:
        async with connect(live.ws_url, subprotocols=[]) as peer:
            assert await peer.closed() == (4406, "Subprotocol not acceptable")


async def test_the_legacy_subprotocol_is_refused_with_4406_when_disabled(pubsub: PubSub) -> None:
    app = LiveGQL(SDL, resolvers=make_resolvers(), pubsub=pubsub, legacy_protocol=False)
    with serve(app) as live:
        async with connect(live.ws_url, subprotocols=["graphql-ws"]) as peer:
            assert await peer.closed() == (4406, "Subprotocol not acceptable")


async def test_no_connection_init_within_the_wait_closes_4408(pubsub: PubSub) -> None:
    app = LiveGQL(SDL, resolvers=make_resolvers(), pubsub=pubsub, connection_init_wait_timeout=0.2)
    with serve(app) as live:
        async with connect(live.ws_url) as peer:
            assert await peer.closed() == (4408, "Connection initialisation timeout")


async def test_second_connection_init_closes_4429(server: LiveServer) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        await peer.send({"type": "connection_init"})
        assert await peer.closed() == (4429, "Too many initialisation requests")


async def test_subscribe_before_ack_closes_4401(server: LiveServer) -> None:
    async with connect(server.ws_url) as peer:
        await peer.subscribe("1", "{ hello }")
        assert await peer.closed() == (4401, "Unauthorized")


async def test_subscribe_with_an_active_id_closes_4409(server: LiveServer) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        await peer.subscribe("dup", 'subscription { topic(name: "x") }')
        await peer.subscribe("dup", 'subscription { topic(name: "x") }')
        assert await peer.closed() == (4409, "Subscriber for dup already exists")


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[]",
        '{"type": "unknown"}',
        '{"type": "subscribe", "id": "1", "payload": {}}',
        '{"type": "next", "id": "1", "payload": {}}',
    ],
)
async def test_invalid_messages_close_4400(server: LiveServer, frame: str) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        await peer.connection.send(frame)
        code, reason = await peer.closed()
        assert code == 4400
        assert reason


@pytest.mark.parametrize("padding", [" " * 2048, "# " + "é" * 400])  # 400 characters, but 800 bytes
async def test_oversized_message_closes_4400(pubsub: PubSub, padding: str) -> None:
    app = LiveGQL(SDL, resolvers=make_resolvers(), pubsub=pubsub, max_message_bytes=700)
    with serve(app) as live:
        async with connect(live.ws_url) as peer:
            await peer.init()
            await peer.subscribe("ok", "{ hello }" + " " * 500)
            assert (await peer.receive())["type"] == "next"
            await peer.receive_type("complete")
            await peer.subscribe("big", "{ hello }\n" + padding)
            assert await peer.closed() == (4400, "Message too large")


async def test_client_ping_gets_pong_even_before_init(server: LiveServer) -> None:
    async with connect(server.ws_url) as peer:
        await peer.send({"type": "ping"})
        assert await peer.receive() == {"type": "pong"}


async def test_server_sends_keepalive_pings(pubsub: PubSub) -> None:
    app = LiveGQL(SDL, resolvers=make_resolvers(), pubsub=pubsub, keepalive_interval=0.1)
    with serve(app) as live:
        async with connect(live.ws_url) as peer:
            await peer.init()
            assert await peer.receive(limit=2) == {"type": "ping"}
            await peer.send({"type": "pong"})
            assert await peer.receive(limit=2) == {"type": "ping"}


async def test_on_connect_result_is_merged_into_the_context(pubsub: PubSub) -> None:
    seen: list[Any] = []

    async def on_connect(params: dict[str, Any], request: Any) -> dict[str, Any]:
        seen.append((params, request.url.path))
        return {"user": params["token"].upper()}

    app = LiveGQL(SDL, resolvers=make_resolvers(), pubsub=pubsub, on_connect=on_connect)
    with serve(app) as live:
        async with connect(live.ws_url) as peer:
            await peer.init({"token": "ann"})
            await peer.subscribe("w", "{ whoami }")
            assert (await peer.receive())["payload"] == {"data": {"whoami": "ANN"}}
    assert seen == [({"token": "ann"}, "/graphql")]


@pytest.mark.parametrize("verdict", ["false", "raise"])
async def test_on_connect_rejection_closes_4403(pubsub: PubSub, verdict: str) -> None:
    def on_connect(params: dict[str, Any], request: Any) -> bool:
        if verdict == "raise":
            raise PermissionError("bad token")
        return False

    app = LiveGQL(SDL, resolvers=make_resolvers(), pubsub=pubsub, on_connect=on_connect)
    with serve(app) as live:
        async with connect(live.ws_url) as peer:
            await peer.send({"type": "connection_init", "payload": {"token": "x"}})
            assert await peer.closed() == (4403, "Forbidden")
