"""Resumable subscriptions against a scripted server: acknowledgements, positions, resumeAfter, lost history."""

import asyncio
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection

from livegql.client import Client, ClientError, HistoryGoneError
from tests.client.scripted import (
    acknowledge,
    receive_subscribe,
    scripted_server,
    send,
    send_error,
    send_event,
    send_subscribed,
)
from tests.client.support import fast_client

LIMIT = 5.0
QUERY = "subscription { n }"


def extensions_of(subscribes: list[dict[str, Any]]) -> list[Any]:
    return [subscribe["payload"].get("extensions") for subscribe in subscribes]


async def test_a_resubscribe_resumes_after_the_last_event_received_even_if_unread() -> None:
    subscribes: list[dict[str, Any]] = []

    async def handler(connection: ServerConnection) -> None:
        await acknowledge(connection)
        subscribe = await receive_subscribe(connection)
        subscribes.append(subscribe)
        id = subscribe["id"]
        if len(subscribes) == 1:
            await send_subscribed(connection, id, "p0")
            await send_event(connection, id, {"n": 1}, "p1")
            await send_event(connection, id, {"n": 2}, "p2")
            await connection.close(1001, "Going Away")  # before the client has read anything
            return
        await send_subscribed(connection, id, "p2")
        await send_event(connection, id, {"n": 3}, "p3")
        await connection.wait_closed()

    async with scripted_server(handler) as url, fast_client(url) as client, asyncio.timeout(LIMIT):
        subscription = client.subscribe(QUERY)
        seen = []
        for _ in range(3):
            seen.append((await anext(subscription), subscription.position))
        assert await subscription.subscribed() == "p2"  # the second socket's acknowledgement
    assert seen == [({"n": 1}, "p1"), ({"n": 2}, "p2"), ({"n": 3}, "p3")]  # the acks were never yielded
    assert extensions_of(subscribes) == [{"acknowledge": True}, {"acknowledge": True, "resumeAfter": "p2"}]


async def test_a_drop_before_any_event_resumes_after_the_acknowledged_position() -> None:
    subscribes: list[dict[str, Any]] = []
    drop = asyncio.Event()

    async def handler(connection: ServerConnection) -> None:
        await acknowledge(connection)
        subscribe = await receive_subscribe(connection)
        subscribes.append(subscribe)
        if len(subscribes) == 1:
            await send_subscribed(connection, subscribe["id"], "p0")
            await drop.wait()
            await connection.close(1012, "Service Restart")
            return
        await send_subscribed(connection, subscribe["id"], "p0")
        await send_event(connection, subscribe["id"], {"n": 1}, "p1")
        await connection.wait_closed()

    async with scripted_server(handler) as url, fast_client(url) as client, asyncio.timeout(LIMIT):
        subscription = client.subscribe(QUERY)
        assert subscription.position is None
        assert await subscription.subscribed() == "p0"
        assert subscription.position == "p0"
        drop.set()
        assert await anext(subscription) == {"n": 1}
    assert extensions_of(subscribes) == [{"acknowledge": True}, {"acknowledge": True, "resumeAfter": "p0"}]


async def test_subscribed_waits_for_the_acknowledgement_of_the_current_socket() -> None:
    drop, release = asyncio.Event(), asyncio.Event()
    resubscribed: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    connections = 0

    async def handler(connection: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        await acknowledge(connection)
        subscribe = await receive_subscribe(connection)
        if connections == 1:
            await send_subscribed(connection, subscribe["id"], "p0")
            await drop.wait()
            await connection.close(1001, "Going Away")
            return
        resubscribed.set_result(subscribe)
        await release.wait()
        await send_subscribed(connection, subscribe["id"], "p5")
        await connection.wait_closed()

    async with scripted_server(handler) as url, fast_client(url) as client, asyncio.timeout(LIMIT):
        subscription = client.subscribe(QUERY)
        assert await subscription.subscribed() == "p0"
        drop.set()
        assert (await resubscribed)["payload"]["extensions"]["resumeAfter"] == "p0"
        with pytest.raises(TimeoutError):  # the new socket has not acknowledged yet
            await subscription.subscribed(timeout=0.05)
        release.set()
        assert await subscription.subscribed() == "p5"
        assert subscription.position == "p5"


async def test_a_server_without_the_extension_confirms_with_its_first_event() -> None:
    async def handler(connection: ServerConnection) -> None:
        await acknowledge(connection)
        id = (await receive_subscribe(connection))["id"]
        await send_event(connection, id, {"n": 1}, None)
        await send(connection, {"id": id, "type": "complete"})
        await connection.wait_closed()

    async with scripted_server(handler) as url, Client(url) as client, asyncio.timeout(LIMIT):
        subscription = client.subscribe(QUERY)
        assert await subscription.subscribed() is None
        assert [data async for data in subscription] == [{"n": 1}]
        assert subscription.position is None
        assert await subscription.subscribed() is None  # completed: nothing to wait for


async def test_caller_extensions_are_kept_and_a_given_resume_after_is_the_start() -> None:
    payloads: list[dict[str, Any]] = []

    async def handler(connection: ServerConnection) -> None:
        await acknowledge(connection)
        subscribe = await receive_subscribe(connection)
        await send_subscribed(connection, subscribe["id"], "p9")
        await send_event(connection, subscribe["id"], {"n": 10}, "p10")
        query = await receive_subscribe(connection)
        await send_event(connection, query["id"], {"ok": True}, None)
        await send(connection, {"id": query["id"], "type": "complete"})
        payloads.extend([subscribe["payload"], query["payload"]])
        await connection.wait_closed()

    async with scripted_server(handler) as url, Client(url) as client, asyncio.timeout(LIMIT):
        subscription = client.subscribe(QUERY, extensions={"trace": "t", "resumeAfter": "p9"})
        assert subscription.position == "p9"  # kept from an earlier run, before the server says anything
        assert await anext(subscription) == {"n": 10}
        assert subscription.position == "p10"
        assert await client.execute("{ ok }", extensions={"trace": "q"}) == {"ok": True}
    assert [payload["extensions"] for payload in payloads] == [
        {"trace": "t", "resumeAfter": "p9", "acknowledge": True},
        {"trace": "q"},  # queries and mutations are not acknowledged nor resumed
    ]


async def test_history_gone_after_a_drop_raises_history_gone_error_with_the_position() -> None:
    drop = asyncio.Event()
    connections = 0

    async def handler(connection: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        await acknowledge(connection)
        id = (await receive_subscribe(connection))["id"]
        if connections == 1:
            await send_subscribed(connection, id, "p0")
            await send_event(connection, id, {"n": 1}, "p1")
            await drop.wait()
            await connection.close(1001, "Going Away")
            return
        await send_error(connection, id, "history after p1 is no longer retained", "HISTORY_GONE")
        await connection.wait_closed()

    async with scripted_server(handler) as url, fast_client(url) as client, asyncio.timeout(LIMIT):
        subscription = client.subscribe(QUERY)
        assert await anext(subscription) == {"n": 1}
        drop.set()
        with pytest.raises(HistoryGoneError, match="no longer retained") as raised:
            await anext(subscription)
        with pytest.raises(HistoryGoneError):
            await subscription.subscribed()
    error = raised.value
    assert isinstance(error, ClientError)
    assert (error.code, error.position) == ("HISTORY_GONE", "p1")
    assert error.errors[0]["extensions"] == {"code": "HISTORY_GONE"}


async def test_an_invalid_position_raises_client_error() -> None:
    async def handler(connection: ServerConnection) -> None:
        await acknowledge(connection)
        id = (await receive_subscribe(connection))["id"]
        await send_error(connection, id, "malformed position", "INVALID_POSITION")
        await connection.wait_closed()

    async with scripted_server(handler) as url, Client(url) as client, asyncio.timeout(LIMIT):
        subscription = client.subscribe(QUERY, extensions={"resumeAfter": "nonsense"})
        with pytest.raises(ClientError, match="malformed position") as raised:
            await subscription.subscribed()
        assert not isinstance(raised.value, HistoryGoneError)
        assert raised.value.errors[0]["extensions"] == {"code": "INVALID_POSITION"}
        with pytest.raises(ClientError, match="malformed position"):
            await anext(subscription)
