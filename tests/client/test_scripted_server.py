"""`Client` against a scripted bare server: pings, re-init and resubscribe, fatal closes, broken servers."""

import asyncio
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from livegql.client import Client, ClientConnectionError, ClientError, ConnectionClosedError
from tests.client.scripted import acknowledge, receive, scripted_server, send
from tests.client.support import fast_client

LIMIT = 5.0


async def test_a_server_ping_is_answered_with_pong() -> None:
    answered: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    async def handler(connection: ServerConnection) -> None:
        await acknowledge(connection)
        await send(connection, {"type": "ping"})
        answered.set_result(await receive(connection))
        await connection.wait_closed()

    async with scripted_server(handler) as url, Client(url):
        assert await asyncio.wait_for(answered, LIMIT) == {"type": "pong"}


async def test_after_a_restart_close_the_client_initialises_again_and_resubscribes() -> None:
    seen: list[dict[str, Any]] = []

    async def handler(connection: ServerConnection) -> None:
        seen.append(await acknowledge(connection))
        subscribe = await receive(connection)
        seen.append(subscribe)
        if len(seen) == 2:
            await connection.close(1012, "Service Restart")
            return
        await send(connection, {"id": subscribe["id"], "type": "next", "payload": {"data": {"n": 1}}})
        await send(connection, {"id": subscribe["id"], "type": "complete"})
        await connection.wait_closed()

    async with scripted_server(handler) as url, fast_client(url, connection_params={"token": "t"}) as client:
        events = [data async for data in client.subscribe("subscription S($v: Int) { n }", {"v": 1}, "S")]
    assert events == [{"n": 1}]
    first_init, first_subscribe, second_init, second_subscribe = seen
    assert first_init == second_init == {"type": "connection_init", "payload": {"token": "t"}}
    assert first_subscribe == second_subscribe  # no position was ever named: nothing to resume after
    assert first_subscribe["payload"] == {
        "query": "subscription S($v: Int) { n }",
        "variables": {"v": 1},
        "operationName": "S",
        "extensions": {"acknowledge": True},
    }


@pytest.mark.parametrize("code", [4400, 4401, 4403, 4406, 4409, 4429, 4500])
async def test_a_fatal_close_is_raised_and_never_retried(code: int) -> None:
    connections = 0

    async def handler(connection: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        await acknowledge(connection)
        await receive(connection)
        await connection.close(code, "Nope")

    async with scripted_server(handler) as url, fast_client(url) as client:
        with pytest.raises(ConnectionClosedError, match=f"code {code}: Nope") as raised:
            async for _ in client.subscribe("subscription { n }"):
                pass
        assert (raised.value.close_code, raised.value.reason) == (code, "Nope")
        with pytest.raises(ConnectionClosedError):
            client.subscribe("subscription { n }")  # failed for good, not waiting for a new socket
    assert connections == 1


async def test_a_query_in_flight_when_the_socket_drops_fails_and_is_not_sent_again() -> None:
    received: list[dict[str, Any]] = []

    async def handler(connection: ServerConnection) -> None:
        await acknowledge(connection)
        message = await receive(connection)
        received.append(message)
        if len(received) == 1:
            await connection.close(1001, "Going Away")
            return
        await send(connection, {"id": message["id"], "type": "next", "payload": {"data": {"ok": True}}})
        await send(connection, {"id": message["id"], "type": "complete"})
        await connection.wait_closed()

    async with scripted_server(handler) as url, fast_client(url) as client:
        with pytest.raises(ClientConnectionError, match="lost before the result arrived"):
            await client.execute("mutation { once }")
        assert await client.execute("{ ok }") == {"ok": True}
    assert [message["payload"]["query"] for message in received] == ["mutation { once }", "{ ok }"]


async def test_a_server_breaking_the_protocol_is_closed_with_4004() -> None:
    closed: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()

    async def handler(connection: ServerConnection) -> None:
        await receive(connection)
        await send(connection, {"id": "1", "type": "next", "payload": {}})  # before connection_ack
        try:
            await receive(connection)
        except ConnectionClosed as error:
            closed.set_result(error.rcvd.code if error.rcvd else None)

    async with scripted_server(handler) as url:
        with pytest.raises(ConnectionClosedError, match="4004") as raised:
            await Client(url).connect()
    assert raised.value.close_code == 4004
    assert await asyncio.wait_for(closed, LIMIT) == 4004


async def test_no_connection_ack_in_time_closes_with_4504() -> None:
    closed: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()

    async def handler(connection: ServerConnection) -> None:
        await receive(connection)  # connection_init, never acknowledged
        try:
            await receive(connection)
        except ConnectionClosed as error:
            closed.set_result(error.rcvd.code if error.rcvd else None)

    async with scripted_server(handler) as url:
        with pytest.raises(ClientConnectionError, match=r"no connection_ack within 0\.2s"):
            await Client(url, connect_timeout=0.2).connect()
    assert await asyncio.wait_for(closed, LIMIT) == 4504


async def test_an_event_with_errors_raises_and_completes_the_subscription() -> None:
    completed: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    async def handler(connection: ServerConnection) -> None:
        await acknowledge(connection)
        subscribe = await receive(connection)
        errors = [{"message": "bad event", "path": ["n"]}]
        await send(connection, {"id": subscribe["id"], "type": "next", "payload": {"data": None, "errors": errors}})
        completed.set_result(await receive(connection))
        await connection.wait_closed()

    async with scripted_server(handler) as url, Client(url) as client:
        subscription = client.subscribe("subscription { n }")
        with pytest.raises(ClientError, match="bad event") as raised:
            await anext(subscription)
        assert raised.value.errors == [{"message": "bad event", "path": ["n"]}]
        assert await asyncio.wait_for(completed, LIMIT) == {"id": "1", "type": "complete"}
